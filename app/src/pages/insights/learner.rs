//! `/insights/:scope/learners/:id`: one learner drilled into: their flag and
//! its reasons, their paths (to their graphs), the model's view of their skills
//! and of the nodes they have open, their battles (to the replays) and their
//! latest events.

use super::parts::{Failed, LightBadge, Reasons, may_read, maybe_percent, param};
use crate::api::insights::insight_learner;
use crate::session::use_auth;
use eduscale_core::insights::report::LearnerReport;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/insights/:scope/learners/:id`
#[component]
pub fn LearnerPage() -> impl IntoView {
    let auth = use_auth();
    let scope = param("scope");
    let learner = param("id");
    let report = Resource::new(
        move || (scope.get(), learner.get()),
        move |(scope, learner)| async move {
            may_read(auth).await?;
            insight_learner(scope, learner).await
        },
    );
    view! {
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(r) => view! { <Learner report=r scope=scope.get_untracked() /> }.into_any(),
                    Err(error) => view! { <Title text="Insights" /><Failed error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Learner(report: LearnerReport, scope: String) -> impl IntoView {
    let id = report.user_id.clone();
    view! {
        <Title text=format!("{} · Insights", report.name) />
        <section class="insights-head">
            <p class="crumbs">
                <A href="/insights">"Insights"</A>" / "<A href=format!("/insights/{scope}")>"Cohort overview"</A>" / "
            </p>
            <h1>{report.name.clone()}</h1>
        </section>
        <section class="card" data-testid="learner-flag">
            <h2>"At risk?"</h2>
            {match report.at_risk {
                Some(r) => view! {
                    <p><LightBadge light=r.flag.light />" "{format!("Last active {} ({} days ago).", r.last_active, r.days_inactive)}</p>
                    <Reasons factors=r.flag.factors />
                }
                .into_any(),
                None => view! { <p class="muted">"No activity to judge yet."</p> }.into_any(),
            }}
        </section>
        <section class="card">
            <h2>"Path graphs"</h2>
            {if report.paths.is_empty() {
                view! { <p class="muted">"No progress on any path yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="link-list">
                        {report
                            .paths
                            .into_iter()
                            .map(|(slug, title)| view! {
                                <li><A href=format!("/paths/{slug}?learner={id}")>{title}</A>" — their graph, as they see it"</li>
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        <div class="chart-grid">
            <section class="card">
                <h2>"Skills"</h2>
                <p class="small muted">"Weakest first: the model's chance they pass their next attempt needing the skill."</p>
                {if report.skills.is_empty() {
                    view! { <p class="muted">"No attempts yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <thead><tr><th scope="col">"Skill"</th><th scope="col" class="num">"Passed"</th><th scope="col" class="num">"Failed"</th><th scope="col" class="num">"Predicted"</th></tr></thead>
                            <tbody>
                                {report.skills.into_iter().map(|s| view! {
                                    <tr>
                                        <td><code>{s.skill}</code></td>
                                        <td class="num">{s.successes}</td>
                                        <td class="num">{s.failures}</td>
                                        <td class="num">{maybe_percent(s.predicted)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any()
                }}
            </section>
            <section class="card">
                <h2>"Open nodes"</h2>
                <p class="small muted">"Least likely first: the model's chance they pass their next attempt."</p>
                {if report.predictions.is_empty() {
                    view! { <p class="muted">"No node open or in progress."</p> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <thead><tr><th scope="col">"Node"</th><th scope="col" class="num">"Predicted"</th></tr></thead>
                            <tbody>
                                {report.predictions.into_iter().map(|p| view! {
                                    <tr>
                                        <td>{p.title}<div class="small muted">{format!("{} / {}", p.path_slug, p.node_key)}</div></td>
                                        <td class="num">{maybe_percent(p.predicted)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any()
                }}
            </section>
        </div>
        <section class="card">
            <h2>"Battles"</h2>
            {if report.battles.is_empty() {
                view! { <p class="muted">"No battles played."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="table" data-testid="learner-battles">
                            <thead><tr><th scope="col">"Finished"</th><th scope="col">"Place"</th><th scope="col" class="num">"Rating"</th><th scope="col">"Replay"</th></tr></thead>
                            <tbody>
                                {report.battles.into_iter().map(|b| view! {
                                    <tr>
                                        <td>{b.at}</td>
                                        <td>{if b.rank == 1 { "Won".to_owned() } else { format!("{} of {}", b.rank, b.players) }}</td>
                                        <td class="num">{format!("{} ({:+})", b.rating, b.rating_change)}</td>
                                        <td><A href=format!("/arena/{}/replay", b.battle_id)>"Watch the replay"</A></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
        <section class="card">
            <h2>"Timeline"</h2>
            <p class="small muted">"Their latest 100 events, newest first."</p>
            {if report.timeline.is_empty() {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline-list" data-testid="learner-timeline">
                        {report.timeline.into_iter().map(|t| view! {
                            <li>
                                <time class="small muted">{t.at}</time>
                                <span class="tag">{t.kind.replace('_', " ")}</span>
                                <span>{t.what}</span>
                            </li>
                        }).collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
}
