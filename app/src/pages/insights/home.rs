//! `/insights`: the scopes the caller may read (their cohorts; for admins
//! every cohort and the whole platform) and, for admins, every cohort's
//! health side by side, with its CSV.

use super::parts::{CsvLink, Failed, may_read, maybe_percent};
use crate::api::insights::{insight_health, insight_scopes};
use crate::session::use_auth;
use eduscale_core::account::Role;
use eduscale_core::insights::report::{CohortHealth, PLATFORM, Scope};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/insights`
#[component]
pub fn InsightsPage() -> impl IntoView {
    let auth = use_auth();
    let scopes = Resource::new(
        || (),
        move |_| async move {
            let role = may_read(auth).await?;
            // Health is for admins: nobody else asks (and is refused).
            let health = match role {
                Role::Admin => Some(insight_health().await?),
                _ => None,
            };
            Ok((insight_scopes().await?, health))
        },
    );
    view! {
        <Title text="Insights" />
        <section class="insights-head">
            <h1>"Insights"</h1>
            <p class="muted">"How your cohorts are doing: who is moving, who is stuck, and where."</p>
        </section>
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                match scopes.await {
                    Ok((scopes, health)) => view! {
                        <Scopes scopes />
                        {health.map(|rows| view! { <Health rows /> })}
                    }
                    .into_any(),
                    Err(error) => view! { <Failed error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Scopes(scopes: Vec<Scope>) -> impl IntoView {
    if scopes.is_empty() {
        return view! {
            <section class="card">
                <p class="muted">"You have no cohorts yet. "<A href="/teach">"Create one"</A>" and share its invite code; its insights appear here."</p>
            </section>
        }
        .into_any();
    }
    view! {
        <ul class="scope-list" data-testid="scopes">
            {scopes
                .into_iter()
                .map(|s| {
                    let platform = s.id == PLATFORM;
                    view! {
                        <li class="card scope-card" class:platform=platform>
                            <h2><A href=format!("/insights/{}", s.id)>{s.name}</A></h2>
                            <p class="small muted">
                                {if platform { "Every learner, across all cohorts: " } else { "" }}
                                {format!("{} learner{}", s.learners, if s.learners == 1 { "" } else { "s" })}
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// Community health: every cohort side by side (admins).
#[component]
fn Health(rows: Vec<CohortHealth>) -> impl IntoView {
    view! {
        <section class="card insight-table" data-testid="table-health">
            <div class="section-head">
                <h2>"Community health"</h2>
                <CsvLink scope=PLATFORM.to_owned() table="health" />
            </div>
            <p class="small muted">"Every cohort on the platform: activity and progress in the last 7 days, and how many have gone quiet."</p>
            {if rows.is_empty() {
                view! { <p class="muted table-empty">"No cohorts yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Cohort"</th>
                                    <th scope="col">"Instructor"</th>
                                    <th scope="col" class="num">"Learners"</th>
                                    <th scope="col" class="num">"Active (7 days)"</th>
                                    <th scope="col" class="num">"Passes (7 days)"</th>
                                    <th scope="col" class="num">"Pass rate"</th>
                                    <th scope="col" class="num">"Inactive 7+ days"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|h| view! {
                                        <tr>
                                            <td><A href=format!("/insights/{}", h.scope.id)>{h.scope.name}</A></td>
                                            <td>{h.instructor}</td>
                                            <td class="num">{h.scope.learners}</td>
                                            <td class="num">{h.active_7d}</td>
                                            <td class="num">{h.passes_7d}</td>
                                            <td class="num">{maybe_percent(h.pass_rate)}</td>
                                            <td class="num">{h.inactive}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
    }
}
