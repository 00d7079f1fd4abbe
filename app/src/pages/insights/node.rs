//! `/insights/:scope/nodes/:id`: one node drilled into: how many reached and
//! passed it, how many attempts learners needed (a bar chart), and the wrong
//! verdicts they got most.

use super::parts::{Failed, Stat, duration, may_read, param, percent};
use crate::api::insights::insight_node;
use crate::components::charts::BarChart;
use crate::error::AppError;
use crate::session::use_auth;
use eduscale_core::insights::report::NodeReport;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/insights/:scope/nodes/:id`
#[component]
pub fn NodePage() -> impl IntoView {
    let auth = use_auth();
    let scope = param("scope");
    let node = param("id");
    let report = Resource::new(
        move || (scope.get(), node.get()),
        move |(scope, node)| async move {
            may_read(auth).await?;
            let node = node
                .parse::<i64>()
                .map_err(|_| AppError::NotFound("No such node.".into()))?;
            insight_node(scope, node).await
        },
    );
    view! {
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(r) => view! { <Node report=r scope=scope.get_untracked() /> }.into_any(),
                    Err(error) => view! { <Title text="Insights" /><Failed error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Node(report: NodeReport, scope: String) -> impl IntoView {
    let pass_rate = if report.learners > 0 {
        percent(report.passed as f64 / report.learners as f64)
    } else {
        "—".to_owned()
    };
    let total_wrong: i64 = report.wrong_verdicts.iter().map(|(_, n)| n).sum();
    let (labels, values): (Vec<String>, Vec<f64>) = report
        .attempt_histogram
        .iter()
        .map(|(label, n)| (label.clone(), *n as f64))
        .unzip();
    view! {
        <Title text=format!("{} · Insights", report.title) />
        <section class="insights-head">
            <p class="crumbs">
                <A href="/insights">"Insights"</A>" / "<A href=format!("/insights/{scope}")>"Cohort overview"</A>" / "
            </p>
            <h1>{report.title.clone()}</h1>
            <p class="small muted">
                "In the path "
                <A href=format!("/paths/{}/{}", report.path_slug, report.node_key)>{format!("{} / {}", report.path_slug, report.node_key)}</A>
            </p>
        </section>
        <section class="card" aria-label="Headline numbers">
            <dl class="stat-grid">
                <Stat label="Reached it" value=report.learners.to_string() test_id="node-learners" />
                <Stat label="Passed it" value=report.passed.to_string() test_id="node-passed" />
                <Stat label="Pass rate" value=pass_rate />
                <Stat label="Attempts" value=report.attempts.to_string() />
                <Stat label="Median time to pass" value=duration(report.median_pass_s) />
            </dl>
        </section>
        <div class="chart-grid">
            <section class="card">
                <h2>"Attempts needed"</h2>
                <BarChart
                    id="chart-attempts"
                    title="Learners by number of attempts"
                    desc=format!(
                        "Bar chart: how many of the {} learners who reached this node made 0, 1, 2 and more attempts.",
                        report.learners,
                    )
                    x_label="Attempts"
                    y_label="Learners"
                    labels
                    values
                />
            </section>
            <section class="card">
                <h2>"Common wrong verdicts"</h2>
                {if report.wrong_verdicts.is_empty() {
                    view! { <p class="muted">"No wrong verdicts: nobody has failed it yet."</p> }.into_any()
                } else {
                    view! {
                        <ol class="verdict-list" data-testid="wrong-verdicts">
                            {report
                                .wrong_verdicts
                                .into_iter()
                                .map(|(verdict, n)| {
                                    let share = if total_wrong > 0 { n as f64 / total_wrong as f64 } else { 0.0 };
                                    view! {
                                        <li>
                                            <span class="verdict-name">{verdict.replace('_', " ")}</span>
                                            <span class="verdict-count">{format!("{n} ({})", percent(share))}</span>
                                            <span class="share-bar" aria-hidden="true">
                                                <span style=format!("width: {:.0}%", share * 100.0)></span>
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                    .into_any()
                }}
            </section>
        </div>
    }
}
