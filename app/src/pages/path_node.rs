//! One node of a path: a lesson to read, or a challenge to solve (statement,
//! examples, the editor, run and submit). A locked node says what it needs.
//!
//! After an attempt the page shows what it unlocked and links the recommended
//! next node; the path's graph in any other tab hears the same over the socket.

use crate::api::paths::{
    AttemptResult, ChallengeView, CompleteLesson, NodeView, SubmitNode, get_node,
};
use crate::api::runs::RunCode;
use crate::components::code_editor::CodeEditor;
use crate::components::path_graph::status_label;
use crate::error::AppError;
use crate::layout::Problem;
use eduscale_core::code::{Judgement, Language, Verdict};
use eduscale_core::paths::{NodeKind, NodeStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// `/paths/:slug/:node`
#[component]
pub fn PathNodePage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("slug").unwrap_or_default(),
                p.get("node").unwrap_or_default(),
            )
        })
    });
    let node = Resource::new(move || key.get(), |(path, node)| get_node(path, node));
    view! {
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || Suspend::new(async move {
                match node.await {
                    Ok(node) => view! { <NodeBody node /> }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NodeBody(node: NodeView) -> impl IntoView {
    let base = format!("/paths/{}", node.path);
    let kind = match node.kind {
        NodeKind::Lesson => "Lesson",
        NodeKind::Challenge => "Challenge",
        NodeKind::Checkpoint => "Checkpoint",
    };
    let body = match (node.status, node.kind, node.challenge.clone(), node.lesson_html.clone()) {
        (NodeStatus::Locked, ..) => view! { <Locked node=node.clone() /> }.into_any(),
        (_, NodeKind::Lesson, _, Some(html)) => {
            view! { <Lesson path=node.path.clone() key=node.key.clone() html done=node.status == NodeStatus::Passed /> }.into_any()
        }
        (_, _, Some(challenge), _) => view! { <Challenge node=node.clone() challenge /> }.into_any(),
        _ => view! { <p class="muted">"Nothing to show here yet."</p> }.into_any(),
    };
    view! {
        <Title text=node.title.clone() />
        <section class="node-head">
            <p class="crumbs"><A href="/paths">"Paths"</A>" / "<A href=base.clone()>{node.path_title.clone()}</A></p>
            <h1>{node.title.clone()}</h1>
            <p class="muted small">
                {kind}" · "<span class=format!("status-text status-{}", node.status.as_str()) data-testid="node-status">{status_label(node.status)}</span>
                {(node.best_score > 0).then(|| format!(" · best score {}%", node.best_score))}
            </p>
            {(!node.guards.is_empty()).then(|| view! {
                <p class="small">{format!("Pass this checkpoint to test out of: {}.", node.guards.join(", "))}</p>
            })}
        </section>
        {body}
    }
    .into_any()
}

#[component]
fn Locked(node: NodeView) -> impl IntoView {
    let base = format!("/paths/{}", node.path);
    view! {
        <section class="card">
            <h2>"Locked"</h2>
            <p>"Finish what this node needs first:"</p>
            <ul>
                {node.needs.into_iter().map(|n| {
                    let score = if n.min_score < 100 { format!(" with at least {}%", n.min_score) } else { String::new() };
                    view! { <li><A href=format!("{base}/{}", n.key)>{n.title}</A>{score}" — "{status_label(n.status)}</li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Lesson(path: String, key: String, html: String, done: bool) -> impl IntoView {
    let complete = ServerAction::<CompleteLesson>::new();
    let base = format!("/paths/{path}");
    view! {
        <article class="card lesson" inner_html=html></article>
        <section class="card actions">
            <button
                class="button"
                data-testid="complete-lesson"
                disabled=move || complete.pending().get()
                on:click=move |_| { complete.dispatch(CompleteLesson { path: path.clone(), node: key.clone() }); }
            >
                {if done { "Read again ✓" } else { "Mark as read" }}
            </button>
            {move || complete.value().get().map(|r| view! { <Outcome result=r base=base.clone() /> })}
        </section>
    }
}

#[component]
fn Challenge(node: NodeView, challenge: ChallengeView) -> impl IntoView {
    let languages = challenge.languages.clone();
    let first = languages.first().copied().unwrap_or(Language::Python);
    let language = RwSignal::new(first);
    let starters = StoredValue::new(challenge.starters.clone());
    let starter =
        move |l: Language| starters.with_value(|s| s.get(l.id()).cloned().unwrap_or_default());
    let code = RwSignal::new(starter(first));
    let stdin = challenge
        .examples
        .first()
        .map(|(i, _)| i.clone())
        .unwrap_or_default();
    let run = ServerAction::<RunCode>::new();
    let submit = ServerAction::<SubmitNode>::new();
    let (path, key) = (node.path.clone(), node.key.clone());
    let do_run = move || {
        if !run.pending().get_untracked() {
            run.dispatch(RunCode {
                language: language.get_untracked().id().to_owned(),
                source: code.get_untracked(),
                stdin: stdin.clone(),
            });
        }
    };
    let on_run = Callback::new(move |()| do_run());
    let do_run_click = on_run;
    view! {
        <div class="challenge-grid">
            <section class="card statement">
                <div class="statement-body" inner_html=challenge.statement_html.clone()></div>
                <h3>"Examples"</h3>
                {challenge.examples.iter().enumerate().map(|(i, (input, output))| view! {
                    <div class="example">
                        <p class="small muted">{format!("Example {}", i + 1)}</p>
                        <div class="example-io">
                            <div><p class="small">"Input"</p><pre class="stream">{input.clone()}</pre></div>
                            <div><p class="small">"Output"</p><pre class="stream">{output.clone()}</pre></div>
                        </div>
                    </div>
                }).collect_view()}
            </section>
            <section class="card editor-card">
                <div class="toolbar">
                    <select class="select" aria-label="Language" on:change=move |ev| {
                        if let Some(l) = Language::from_id(&event_target_value(&ev)) {
                            language.set(l);
                            code.set(starter(l));
                        }
                    }>
                        {languages.iter().map(|l| view! { <option value=l.id()>{l.name()}</option> }).collect_view()}
                    </select>
                    <button class="button ghost" on:click=move |_| do_run_click.run(()) disabled=move || run.pending().get()>
                        {move || if run.pending().get() { "Running…" } else { "Run example" }}
                    </button>
                    <button
                        class="button"
                        data-testid="submit"
                        disabled=move || submit.pending().get()
                        on:click=move |_| {
                            submit.dispatch(SubmitNode {
                                path: path.clone(),
                                node: key.clone(),
                                language: language.get_untracked().id().to_owned(),
                                source: code.get_untracked(),
                            });
                        }
                    >
                        {move || if submit.pending().get() { "Judging…" } else { "Submit" }}
                    </button>
                </div>
                <CodeEditor code language=Signal::from(language) on_run label="Your solution" />
                {move || run.value().get().map(|r| match r {
                    Ok(report) => view! {
                        <div class="run-output">
                            <p class="small muted">{format!("Example run: {}", report.verdict.label())}</p>
                            <pre class="stream" data-stream="stdout">{report.stdout}</pre>
                            {(!report.stderr.is_empty()).then(|| view! { <pre class="stream stderr">{report.stderr}</pre> })}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
                {move || submit.value().get().map(|r| view! { <Outcome result=r base=format!("/paths/{}", node.path) /> })}
            </section>
        </div>
    }
    .into_any()
}

/// How an attempt went, what it unlocked, what comes next.
#[component]
fn Outcome(result: Result<AttemptResult, AppError>, base: String) -> impl IntoView {
    match result {
        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        Ok(r) => {
            view! {
                <div class="outcome" data-testid="outcome" data-passed=r.passed.to_string()>
                    {r.judgement.map(|j| view! { <JudgementView judgement=j /> })}
                    <p class=if r.passed { "verdict ok" } else { "verdict bad" }>
                        {if r.passed { format!("Passed ({}%)", r.score) } else { format!("Not yet: {}%", r.score) }}
                    </p>
                    {(!r.unlocked.is_empty()).then(|| {
                        let links = r.unlocked.into_iter().map(|(k, t)| view! { <A href=format!("{base}/{k}") attr:class="tag">{t}</A>" " }).collect_view();
                        view! { <p data-testid="unlocked">"Unlocked: "{links}</p> }
                    })}
                    {(!r.skipped.is_empty()).then(|| {
                        let names = r.skipped.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(", ");
                        view! { <p>"Tested out of: "{names}</p> }
                    })}
                    {r.next.map(|(k, t)| view! { <p>"Next: "<A href=format!("{base}/{k}")>{t}</A></p> })}
                </div>
            }
            .into_any()
        }
    }
}

/// A judgement: the verdict, each case, and a diff for the visible ones.
#[component]
pub(crate) fn JudgementView(judgement: Judgement) -> impl IntoView {
    let tone = if judgement.verdict == Verdict::Accepted {
        "ok"
    } else {
        "bad"
    };
    view! {
        <p class=format!("verdict {tone}") data-verdict=judgement.verdict.id()>
            {format!("{}: {} of {} tests passed ({} of {} hidden)", judgement.verdict.label(), judgement.passed, judgement.total, judgement.hidden_passed, judgement.hidden_total)}
        </p>
        {judgement.compile_error.map(|e| view! { <pre class="stream stderr">{e}</pre> })}
        <ul class="cases">
            {judgement.cases.into_iter().map(|c| {
                let label = if c.visible { format!("Example {}", c.index + 1) } else { format!("Hidden test {}", c.index + 1) };
                view! {
                    <li class=if c.verdict == Verdict::Accepted { "case ok" } else { "case bad" }>
                        {format!("{label}: {}", c.verdict.label())}
                        {c.details.map(|d| view! {
                            <div class="example-io">
                                <div><p class="small">"Expected"</p><pre class="stream">{d.expected}</pre></div>
                                <div><p class="small">"Got"</p><pre class="stream">{d.actual}</pre></div>
                            </div>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
