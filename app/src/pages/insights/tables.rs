//! The dashboard's flag tables: roadblocks, learners at risk, wheel-spinning.
//! Each row shows its light (shape and name as well as colour) and the reasons
//! behind it, links to the drill-down, and each table links its CSV.

use super::parts::{CsvLink, LightBadge, Reasons, duration, maybe_percent, percent};
use eduscale_core::insights::report::{AtRisk, Roadblock, WheelSpin};
use leptos::prelude::*;
use leptos_router::components::A;

/// A table's card: its heading, what it means, its CSV link, then the rows or
/// a line saying there are none.
#[component]
fn TableCard(
    heading: &'static str,
    about: &'static str,
    scope: String,
    table: &'static str,
    empty: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card insight-table" data-testid=format!("table-{table}")>
            <div class="section-head">
                <h2>{heading}</h2>
                <CsvLink scope table />
            </div>
            <p class="small muted">{about}</p>
            {match empty {
                Some(line) => view! { <p class="muted table-empty">{line}</p> }.into_any(),
                None => view! { <div class="table-scroll">{children()}</div> }.into_any(),
            }}
        </section>
    }
}

/// Nodes where the scope's learners get stuck, or may.
#[component]
pub fn Roadblocks(scope: String, rows: Vec<Roadblock>) -> impl IntoView {
    let empty = rows
        .is_empty()
        .then_some("No node has been reached by enough learners to judge yet.");
    let base = format!("/insights/{scope}/nodes");
    view! {
        <TableCard
            heading="Roadblocks"
            about="Nodes where learners get stuck, worst first. The prediction is the model's mean chance that a learner who has not passed yet passes their next attempt."
            scope
            table="roadblocks"
            empty
        >
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Light"</th>
                        <th scope="col">"Node"</th>
                        <th scope="col" class="num">"Reached"</th>
                        <th scope="col" class="num">"Stuck"</th>
                        <th scope="col" class="num">"Attempts"</th>
                        <th scope="col" class="num">"Pass rate"</th>
                        <th scope="col" class="num">"Predicted"</th>
                        <th scope="col" class="num">"Median time"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! {
                            <tr data-testid="roadblock">
                                <td><LightBadge light=r.flag.light /></td>
                                <td>
                                    <A href=format!("{base}/{}", r.node_id)>{r.title}</A>
                                    <div class="small muted">{r.path_slug}</div>
                                </td>
                                <td class="num">{r.learners}</td>
                                <td class="num">{r.stuck}</td>
                                <td class="num">{r.attempts}</td>
                                <td class="num">{percent(r.pass_rate)}</td>
                                <td class="num">{maybe_percent(r.predicted_pass)}</td>
                                <td class="num">{duration(r.median_pass_s)}</td>
                                <td><Reasons factors=r.flag.factors /></td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableCard>
    }
}

/// Learners who may be falling away.
#[component]
pub fn AtRiskLearners(scope: String, rows: Vec<AtRisk>) -> impl IntoView {
    let empty = rows
        .is_empty()
        .then_some("Nobody is flagged: every learner is active and keeping pace.");
    let base = format!("/insights/{scope}/learners");
    view! {
        <TableCard
            heading="Learners at risk"
            about="Learners gone quiet or slowing down, worst first."
            scope
            table="at_risk"
            empty
        >
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Light"</th>
                        <th scope="col">"Learner"</th>
                        <th scope="col">"Last active"</th>
                        <th scope="col" class="num">"Passes (7 days)"</th>
                        <th scope="col" class="num">"Streak"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! {
                            <tr data-testid="at-risk">
                                <td><LightBadge light=r.flag.light /></td>
                                <td><A href=format!("{base}/{}", r.user_id)>{r.name}</A></td>
                                <td>
                                    {r.last_active}
                                    <div class="small muted">{format!("{} days ago", r.days_inactive)}</div>
                                </td>
                                <td class="num">{r.passes_7d}</td>
                                <td class="num">{format!("{} days", r.current_streak)}</td>
                                <td><Reasons factors=r.flag.factors /></td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableCard>
    }
}

/// Learners practising a skill a lot without mastering it.
#[component]
pub fn WheelSpinning(scope: String, rows: Vec<WheelSpin>) -> impl IntoView {
    let empty = rows.is_empty().then_some(
        "Nobody is spinning their wheels: no one has practised a skill long without progress.",
    );
    let base = format!("/insights/{scope}/learners");
    view! {
        <TableCard
            heading="Wheel-spinning"
            about="Many attempts on a skill with a low predicted chance of success: practice that is not working."
            scope
            table="wheel_spinning"
            empty
        >
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Light"</th>
                        <th scope="col">"Learner"</th>
                        <th scope="col">"Skill"</th>
                        <th scope="col" class="num">"Attempts"</th>
                        <th scope="col" class="num">"Passed"</th>
                        <th scope="col" class="num">"Predicted"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! {
                            <tr data-testid="wheel-spin">
                                <td><LightBadge light=r.flag.light /></td>
                                <td><A href=format!("{base}/{}", r.user_id)>{r.name}</A></td>
                                <td><code>{r.skill}</code></td>
                                <td class="num">{r.attempts}</td>
                                <td class="num">{r.successes}</td>
                                <td class="num">{percent(r.predicted)}</td>
                                <td><Reasons factors=r.flag.factors /></td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableCard>
    }
}
