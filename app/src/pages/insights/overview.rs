//! `/insights/:scope`: one cohort's (or, for admins, the platform's) dashboard:
//! headline numbers, the live pulse, velocity and engagement charts, and the
//! flag tables, each with its CSV export.

use super::parts::{CsvLink, Failed, Stat, may_read};
use super::tables::{AtRiskLearners, Roadblocks, WheelSpinning};
use super::{parts, series};
use crate::api::insights::insight_dashboard;
use crate::components::charts::{BarChart, LineChart, Series, short_date};
use crate::components::pulse::LivePulse;
use crate::session::use_auth;
use eduscale_core::insights::report::Dashboard;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/insights/:scope`
#[component]
pub fn OverviewPage() -> impl IntoView {
    let auth = use_auth();
    let scope = parts::param("scope");
    let dashboard = Resource::new(
        move || scope.get(),
        move |scope| async move {
            may_read(auth).await?;
            insight_dashboard(scope).await
        },
    );
    view! {
        <Title text="Insights" />
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(d) => view! { <Overview dashboard=d /> }.into_any(),
                    Err(error) => view! { <Failed error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(dashboard: Dashboard) -> impl IntoView {
    let weeks = series::weeks(&dashboard);
    let days = series::days(&dashboard);
    let o = dashboard.overview;
    let scope = o.scope.id.clone();
    view! {
        <section class="insights-head">
            <p class="crumbs"><A href="/insights">"Insights"</A>" / "</p>
            <h1>{o.scope.name.clone()}</h1>
            <p class="small muted" data-testid="refreshed-at">
                {match o.refreshed_at.clone() {
                    Some(at) => format!("Views refreshed at {at}. The live pulse updates every second."),
                    None => "The views have not been refreshed yet. The live pulse updates every second.".to_owned(),
                }}
            </p>
        </section>
        <section class="card" aria-label="Headline numbers">
            <dl class="stat-grid">
                <Stat label="Learners" value=o.scope.learners.to_string() test_id="stat-learners" />
                <Stat label="Active, last 7 days" value=o.active_7d.to_string() test_id="stat-active" />
                <Stat label="Nodes passed, last 7 days" value=o.passes_7d.to_string() test_id="stat-passes" />
                <Stat label="Active today (DAU)" value=o.dau.to_string() test_id="stat-dau" />
                <Stat label="Active this week (WAU)" value=o.wau.to_string() test_id="stat-wau" />
            </dl>
        </section>
        <LivePulse scope=scope.clone() />
        <div class="chart-grid">
            <section class="card">
                <div class="section-head">
                    <h2>"Velocity"</h2>
                    <CsvLink scope=scope.clone() table="velocity" />
                </div>
                <BarChart
                    id="chart-velocity"
                    title="Nodes passed per week, last 12 weeks"
                    desc=format!(
                        "Bar chart: nodes passed each week, from the week of {} to the week of {}; {} in all.",
                        weeks.first().map(|w| w.week.clone()).unwrap_or_default(),
                        weeks.last().map(|w| w.week.clone()).unwrap_or_default(),
                        weeks.iter().map(|w| w.nodes_passed).sum::<i64>(),
                    )
                    x_label="Week starting"
                    y_label="Nodes passed"
                    labels=weeks.iter().map(|w| short_date(&w.week)).collect()
                    values=weeks.iter().map(|w| w.nodes_passed as f64).collect()
                />
            </section>
            <section class="card">
                <div class="section-head">
                    <h2>"Engagement"</h2>
                    <CsvLink scope=scope.clone() table="engagement" />
                </div>
                <LineChart
                    id="chart-engagement"
                    title="Active learners per day, last 30 days"
                    desc=format!(
                        "Line chart: learners active each day (DAU) and in the 7 days ending that day (WAU), from {} to {}.",
                        days.first().map(|d| d.day.clone()).unwrap_or_default(),
                        days.last().map(|d| d.day.clone()).unwrap_or_default(),
                    )
                    x_label="Day"
                    y_label="Learners"
                    labels=days.iter().map(|d| short_date(&d.day)).collect()
                    series=vec![
                        Series {
                            name: "Active that day (DAU)".into(),
                            key: "a",
                            values: days.iter().map(|d| d.dau as f64).collect(),
                        },
                        Series {
                            name: "Active in the 7 days to it (WAU)".into(),
                            key: "b",
                            values: days.iter().map(|d| d.wau as f64).collect(),
                        },
                    ]
                />
            </section>
        </div>
        <Roadblocks scope=scope.clone() rows=dashboard.roadblocks />
        <AtRiskLearners scope=scope.clone() rows=dashboard.at_risk />
        <WheelSpinning scope rows=dashboard.wheel_spinning />
    }
}
