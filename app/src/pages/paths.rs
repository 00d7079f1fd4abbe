//! The paths: the list with the learner's progress on each, and one path's
//! graph with what to do next.
//!
//! Both take `?learner=<id>` so an instructor sees a learner of their cohorts
//! exactly as the learner does (the server checks they may). The learner's own
//! graph listens on the live socket: an attempt in any tab recolours it, and the
//! nodes it unlocked pulse, with no reload.

use crate::api::paths::{MyLearners, PathView, get_path, list_my_learners, list_paths};
use crate::components::live::{LiveEvent, LiveState, use_live};
use crate::components::path_graph::PathGraphView;
use crate::layout::Problem;
use crate::session::use_auth;
use eduscale_core::account::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

fn learner_param() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("learner")).filter(|s| !s.is_empty()))
}

fn with_learner(href: String, learner: &Option<String>) -> String {
    match learner {
        Some(id) => format!("{href}?learner={id}"),
        None => href,
    }
}

/// `/paths`
#[component]
pub fn PathsPage() -> impl IntoView {
    let learner = learner_param();
    let paths = Resource::new(move || learner.get(), list_paths);
    let auth = use_auth();
    view! {
        <Title text="Learning paths" />
        <section class="paths-head">
            <h1>"Learning paths"</h1>
            <p class="muted">"Each path is a map of lessons and challenges. Nodes open as you pass what they need."</p>
        </section>
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                let me = auth.me.await.ok().flatten();
                let teaches = me.as_ref().is_some_and(|m| matches!(m.role, Role::Instructor | Role::Admin));
                match paths.await {
                    Ok(list) => {
                        let learner = learner.get_untracked();
                        view! {
                            {teaches.then(|| view! { <LearnerPicker /> })}
                            <ul class="path-list">
                                {list.into_iter().map(|p| {
                                    let pct = if p.nodes > 0 { p.done * 100 / p.nodes } else { 0 };
                                    let href = with_learner(format!("/paths/{}", p.slug), &learner);
                                    view! {
                                        <li class="card path-card" data-path=p.slug.clone()>
                                            <h2><A href=href>{p.title}</A></h2>
                                            <p class="muted">{p.summary}</p>
                                            <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct>
                                                <span style=format!("width: {pct}%")></span>
                                            </div>
                                            <p class="small muted">{format!("{} of {} done", p.done, p.nodes)}</p>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// An instructor's choice of whose progress to look at.
#[component]
fn LearnerPicker() -> impl IntoView {
    let learners = Resource::new(|| (), |_| list_my_learners());
    let navigate = use_navigate();
    let current = learner_param();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let navigate = navigate.clone();
                Suspend::new(async move {
                    let list: Vec<MyLearners> = learners.await.unwrap_or_default();
                    view! {
                        <label class="learner-picker">
                            "Show the progress of "
                            <select class="select" on:change=move |ev| {
                                let id = event_target_value(&ev);
                                let href = if id.is_empty() { "/paths".to_owned() } else { format!("/paths?learner={id}") };
                                navigate(&href, Default::default());
                            }>
                                <option value="">"me"</option>
                                {list.into_iter().map(|l| {
                                    let selected = current.get_untracked().as_deref() == Some(l.id.as_str());
                                    view! { <option value=l.id selected=selected>{format!("{} ({})", l.name, l.cohort)}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })
            }}
        </Transition>
    }
}

/// `/paths/:slug`
#[component]
pub fn PathPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug")).unwrap_or_default());
    let learner = learner_param();
    let view = Resource::new(
        move || (slug.get(), learner.get()),
        |(slug, learner)| get_path(slug, learner),
    );
    view! {
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(path) => view! { <PathBody path refetch=move || view.refetch() /> }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PathBody(path: PathView, refetch: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let statuses = RwSignal::new(path.statuses.clone());
    let unlocked = RwSignal::new(Vec::<usize>::new());
    let recommended = RwSignal::new(path.recommended.as_ref().map(|r| r.node));
    let own = path.learner.is_none();
    let slug = path.slug.clone();
    let live = use_live(move |event| match event {
        LiveEvent::Path(update) if own && update.path == slug => {
            statuses.set(update.statuses);
            unlocked.set(update.unlocked);
            recommended.set(update.recommended);
        }
        LiveEvent::Path(_) => {}
        LiveEvent::Resync => refetch(),
    });
    let base = format!("/paths/{}", path.slug);
    let graph = path.graph.clone();
    let next = move || {
        recommended
            .get()
            .and_then(|i| graph.nodes.get(i))
            .map(|n| (n.key.clone(), n.title.clone()))
    };
    let base_for_next = base.clone();
    view! {
        <Title text=path.title.clone() />
        <section class="path-head">
            <p class="crumbs"><A href="/paths">"Paths"</A>" / "</p>
            <h1>{path.title.clone()}</h1>
            {path.learner.clone().map(|name| view! { <p class="viewing-as">{format!("Viewing the progress of {name}")}</p> })}
            <p class="muted">{path.summary.clone()}</p>
            <p class="live-state small" data-live=move || if live.get() == LiveState::Live { "live" } else { "offline" }>
                {move || if live.get() == LiveState::Live { "● live" } else { "○ connecting…" }}
            </p>
        </section>
        {move || next().map(|(key, title)| view! {
            <section class="card next-up" data-testid="next-up">
                <p class="small muted">{if own { "Recommended next" } else { "Their next step" }}</p>
                <A href=format!("{base_for_next}/{key}") attr:class="button">{title}</A>
            </section>
        })}
        <PathGraphView
            graph=path.graph
            statuses=statuses
            unlocked=unlocked
            recommended=recommended
            base
        />
    }
    .into_any()
}
