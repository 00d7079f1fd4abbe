//! The playground: write a program in any language that runs here, give it input,
//! run it, and see what it printed, how it ended and what it used.
//!
//! Each language keeps its own draft while the learner switches between them
//! (starting from a small program that reads its input). Languages that cannot run
//! on this server are listed, disabled, with the reason.

use crate::api::runs::{RunCode, languages};
use crate::components::code_editor::CodeEditor;
use crate::error::AppError;
use crate::layout::Problem;
use crate::session::use_auth;
use eduscale_core::code::{Language, LanguageStatus, Report, Verdict};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use std::collections::HashMap;

/// `/playground`
#[component]
pub fn Playground() -> impl IntoView {
    let auth = use_auth();
    let statuses = Resource::new(|| (), |_| languages());
    view! {
        <Title text="Playground" />
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                match (auth.me.await, statuses.await) {
                    (Ok(Some(_)), Ok(statuses)) => view! { <Workbench statuses /> }.into_any(),
                    (Ok(None), _) => view! { <SignInFirst /> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SignInFirst() -> impl IntoView {
    view! {
        <section class="card narrow error-page">
            <h1>"Log in to use the playground"</h1>
            <p class="muted">"Programs run in a sandbox on our servers, so we need to know who is running them."</p>
            <p class="actions">
                <A href="/login" attr:class="button">"Log in"</A>
                <A href="/signup" attr:class="button ghost">"Sign up"</A>
            </p>
        </section>
    }
}

/// The picker, the editor, the input and the output.
#[component]
fn Workbench(statuses: Vec<LanguageStatus>) -> impl IntoView {
    let first = statuses
        .iter()
        .find(|s| s.unavailable.is_none())
        .map_or(Language::Python, |s| s.language);
    let language = RwSignal::new(first);
    let code = RwSignal::new(starter(first).to_owned());
    let stdin = RwSignal::new("Ada\n".to_owned());
    let drafts = StoredValue::new(HashMap::<Language, String>::new());
    let run = ServerAction::<RunCode>::new();

    let switch_to = move |next: Language| {
        let current = language.get_untracked();
        if next == current {
            return;
        }
        drafts.update_value(|d| {
            d.insert(current, code.get_untracked());
        });
        let draft = drafts.with_value(|d| d.get(&next).cloned());
        code.set(draft.unwrap_or_else(|| starter(next).to_owned()));
        language.set(next);
    };
    let start = move || {
        if !run.pending().get_untracked() {
            run.dispatch(RunCode {
                language: language.get_untracked().id().to_owned(),
                source: code.get_untracked(),
                stdin: stdin.get_untracked(),
            });
        }
    };
    let on_run = Callback::new(move |()| start());
    let unavailable: Vec<(String, String)> = statuses
        .iter()
        .filter_map(|s| {
            s.unavailable
                .clone()
                .map(|why| (s.language.name().to_owned(), why))
        })
        .collect();

    view! {
        <section class="playground">
            <header class="playground-head">
                <h1>"Playground"</h1>
                <p class="muted">
                    "Write a program, give it some input, and run it. "
                    <kbd>"Ctrl"</kbd>"+"<kbd>"Enter"</kbd>" runs it from the editor."
                </p>
            </header>
            <div class="playground-grid">
                <section class="card editor-card" aria-label="Program">
                    <div class="toolbar">
                        <label for="language" class="toolbar-label">"Language"</label>
                        <select
                            id="language"
                            class="select"
                            on:change=move |ev| {
                                if let Some(l) = Language::from_id(&event_target_value(&ev)) {
                                    switch_to(l);
                                }
                            }
                        >
                            {statuses
                                .iter()
                                .map(|s| {
                                    let l = s.language;
                                    let name = match s.unavailable {
                                        None => l.name().to_owned(),
                                        Some(_) => format!("{} (not available)", l.name()),
                                    };
                                    view! {
                                        <option
                                            value=l.id()
                                            disabled=s.unavailable.is_some()
                                            title=s.unavailable.clone()
                                            selected=move || language.get() == l
                                        >
                                            {name}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <button
                            class="button run-button"
                            on:click=move |_| start()
                            disabled=move || run.pending().get()
                            aria-keyshortcuts="Control+Enter"
                        >
                            {move || if run.pending().get() { "Running…" } else { "Run ▶" }}
                        </button>
                    </div>
                    <CodeEditor code language on_run label="Program" />
                    <label for="stdin" class="stdin-label">"Input (stdin)"</label>
                    <textarea
                        id="stdin"
                        class="stdin"
                        rows="4"
                        spellcheck="false"
                        prop:value=move || stdin.get()
                        on:input=move |ev| stdin.set(event_target_value(&ev))
                        on:keydown=move |ev| {
                            if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "Enter" {
                                ev.prevent_default();
                                start();
                            }
                        }
                    >
                        {stdin.get_untracked()}
                    </textarea>
                    <Unavailable list=unavailable />
                </section>
                <Output
                    result=Signal::derive(move || run.value().get())
                    pending=Signal::derive(move || run.pending().get())
                />
            </div>
        </section>
    }
}

/// The languages that cannot run here, with why (one line per reason).
#[component]
fn Unavailable(list: Vec<(String, String)>) -> impl IntoView {
    let mut by_reason: Vec<(String, Vec<String>)> = Vec::new();
    for (name, why) in list {
        match by_reason.iter_mut().find(|(r, _)| *r == why) {
            Some((_, names)) => names.push(name),
            None => by_reason.push((why, vec![name])),
        }
    }
    (!by_reason.is_empty()).then(|| {
        view! {
            <div class="unavailable" data-testid="unavailable-languages">
                <p class="unavailable-title">"Not available on this server"</p>
                <ul>
                    {by_reason
                        .into_iter()
                        .map(|(why, names)| {
                            view! {
                                <li>
                                    <strong>{names.join(", ")}</strong>
                                    ": "
                                    {why}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

/// How the last run went: the verdict, what it used, and what it printed.
#[component]
fn Output(
    result: Signal<Option<Result<Report, AppError>>>,
    pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <section
            class="card output-card"
            class:stale=move || pending.get()
            aria-label="Output"
            aria-live="polite"
            aria-busy=move || pending.get().to_string()
        >
            <h2>"Output"</h2>
            {move || match result.get() {
                None => {
                    view! { <p class="muted">"Run the program to see what it prints."</p> }
                        .into_any()
                }
                Some(Err(e)) => {
                    view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                }
                Some(Ok(report)) => view! { <ReportView report /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ReportView(report: Report) -> impl IntoView {
    let tone = match report.verdict {
        Verdict::Accepted => "ok",
        Verdict::TimeLimit | Verdict::MemoryLimit | Verdict::OutputLimit => "warn",
        _ => "bad",
    };
    let exit = report
        .exit_code
        .map_or_else(|| "—".to_owned(), |c| c.to_string());
    view! {
        <p class=format!("verdict {tone}") data-verdict=report.verdict.id()>
            {report.verdict.label()}
        </p>
        {report.detail.map(|d| view! { <p class="muted small">{d}</p> })}
        <dl class="run-stats">
            <div><dt>"Time"</dt><dd>{format!("{:.1} ms", report.wall_us as f64 / 1000.0)}</dd></div>
            <div><dt>"Memory"</dt><dd>{format!("{:.1} MiB", report.peak_memory_bytes as f64 / f64::from(1 << 20))}</dd></div>
            <div><dt>"Fuel"</dt><dd>{grouped(report.fuel)}</dd></div>
            <div><dt>"Exit code"</dt><dd>{exit}</dd></div>
        </dl>
        <h3 class="stream-title">"stdout"</h3>
        {if report.stdout.is_empty() {
            view! { <p class="muted small stream-empty">"(nothing printed)"</p> }.into_any()
        } else {
            view! { <pre class="stream" data-stream="stdout">{report.stdout}</pre> }.into_any()
        }}
        {(!report.stderr.is_empty()).then(|| {
            view! {
                <h3 class="stream-title">"stderr"</h3>
                <pre class="stream stderr" data-stream="stderr">{report.stderr}</pre>
            }
        })}
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A first program for each language: it reads a name and greets it, so the input
/// box has a use from the start.
fn starter(language: Language) -> &'static str {
    match language {
        Language::Python => {
            "import sys\n\nname = sys.stdin.readline().strip() or \"world\"\nprint(f\"Hello, {name}!\")\n"
        }
        Language::JavaScript => {
            "const name = (readline() || \"\").trim() || \"world\";\nconsole.log(`Hello, ${name}!`);\n"
        }
        Language::C => {
            "#include <stdio.h>\n\nint main(void) {\n    char name[100] = \"world\";\n    scanf(\"%99s\", name);\n    printf(\"Hello, %s!\\n\", name);\n    return 0;\n}\n"
        }
        Language::Cpp => {
            "#include <iostream>\n#include <string>\n\nint main() {\n    std::string name = \"world\";\n    std::cin >> name;\n    std::cout << \"Hello, \" << name << \"!\\n\";\n}\n"
        }
        Language::Rust => {
            "use std::io::stdin;\n\nfn main() {\n    let mut name = String::new();\n    stdin().read_line(&mut name).unwrap();\n    let name = name.trim();\n    println!(\"Hello, {}!\", if name.is_empty() { \"world\" } else { name });\n}\n"
        }
        Language::Go => {
            "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tname := \"world\"\n\tfmt.Scan(&name)\n\tfmt.Printf(\"Hello, %s!\\n\", name)\n}\n"
        }
        Language::Java => {
            "import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n        Scanner in = new Scanner(System.in);\n        String name = in.hasNext() ? in.next() : \"world\";\n        System.out.println(\"Hello, \" + name + \"!\");\n    }\n}\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(20_000_000_000), "20,000,000,000");
    }

    #[test]
    fn every_language_has_a_starter_program() {
        for language in Language::ALL {
            assert!(starter(language).contains("world"), "{language}");
        }
    }
}
