//! CSV export of each dashboard table: `GET /insights/{scope}/export/{table}.csv`.
//!
//! The same access rule as the pages (the scope's instructor or an admin), the
//! same cached answers, written with the `csv` crate so that names with commas
//! or quotes come out right. Tables: velocity, engagement, roadblocks, at_risk,
//! wheel_spinning, and (admins, any scope) health.

use super::access::Denied;
use crate::AppState;
use crate::auth::session;
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use eduscale_core::account::Role;
use eduscale_core::insights::flags::Light;
use tower_sessions::Session;

/// The export's route.
pub fn router<S>() -> Router<S>
where
    AppState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/insights/{scope}/export/{table}", get(export))
}

async fn export(
    State(state): State<AppState>,
    session: Session,
    Path((scope, table)): Path<(String, String)>,
) -> Response {
    let Ok(user) = session::current_user(&state, &session).await else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let scope = match state.insights.may_read(&user, &scope).await {
        Ok(Ok(scope)) => scope,
        Ok(Err(Denied::Forbidden)) => return (StatusCode::FORBIDDEN, "not yours").into_response(),
        Ok(Err(Denied::Unknown)) => {
            return (StatusCode::NOT_FOUND, "no such cohort").into_response();
        }
        Err(e) => return failed(e),
    };
    let Some(table) = table.strip_suffix(".csv") else {
        return (StatusCode::NOT_FOUND, "tables end in .csv").into_response();
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = if table == "health" {
        if user.role != Role::Admin {
            return (StatusCode::FORBIDDEN, "admins only").into_response();
        }
        match state.insights.health().await {
            Ok(rows) => write_health(&mut out, &rows),
            Err(e) => return failed(e),
        }
    } else {
        let dashboard = match state.insights.dashboard(scope).await {
            Ok(d) => d,
            Err(e) => return failed(e),
        };
        match table {
            "velocity" => write_rows(
                &mut out,
                &[
                    "week",
                    "nodes_passed",
                    "learners_passing",
                    "active_learners",
                ],
                dashboard.velocity.iter().map(|w| {
                    vec![
                        w.week.clone(),
                        w.nodes_passed.to_string(),
                        w.learners_passing.to_string(),
                        w.active_learners.to_string(),
                    ]
                }),
            ),
            "engagement" => write_rows(
                &mut out,
                &["day", "dau", "wau"],
                dashboard
                    .engagement
                    .iter()
                    .map(|d| vec![d.day.clone(), d.dau.to_string(), d.wau.to_string()]),
            ),
            "roadblocks" => write_rows(
                &mut out,
                &[
                    "path",
                    "node",
                    "title",
                    "light",
                    "learners",
                    "stuck",
                    "attempts",
                    "pass_rate",
                    "predicted_pass",
                    "median_pass_s",
                    "dropped",
                    "why",
                ],
                dashboard.roadblocks.iter().map(|r| {
                    vec![
                        r.path_slug.clone(),
                        r.node_key.clone(),
                        r.title.clone(),
                        light(r.flag.light),
                        r.learners.to_string(),
                        r.stuck.to_string(),
                        r.attempts.to_string(),
                        format!("{:.3}", r.pass_rate),
                        r.predicted_pass
                            .map(|p| format!("{p:.3}"))
                            .unwrap_or_default(),
                        r.median_pass_s
                            .map(|s| format!("{s:.0}"))
                            .unwrap_or_default(),
                        r.dropped.to_string(),
                        why(&r.flag),
                    ]
                }),
            ),
            "at_risk" => write_rows(
                &mut out,
                &[
                    "learner",
                    "name",
                    "light",
                    "last_active",
                    "days_inactive",
                    "passes_7d",
                    "weekly_before",
                    "current_streak",
                    "why",
                ],
                dashboard.at_risk.iter().map(|a| {
                    vec![
                        a.user_id.clone(),
                        a.name.clone(),
                        light(a.flag.light),
                        a.last_active.clone(),
                        a.days_inactive.to_string(),
                        a.passes_7d.to_string(),
                        format!("{:.2}", a.weekly_before),
                        a.current_streak.to_string(),
                        why(&a.flag),
                    ]
                }),
            ),
            "wheel_spinning" => write_rows(
                &mut out,
                &[
                    "learner",
                    "name",
                    "skill",
                    "light",
                    "attempts",
                    "successes",
                    "predicted",
                    "why",
                ],
                dashboard.wheel_spinning.iter().map(|w| {
                    vec![
                        w.user_id.clone(),
                        w.name.clone(),
                        w.skill.clone(),
                        light(w.flag.light),
                        w.attempts.to_string(),
                        w.successes.to_string(),
                        format!("{:.3}", w.predicted),
                        why(&w.flag),
                    ]
                }),
            ),
            _ => return (StatusCode::NOT_FOUND, "no such table").into_response(),
        }
    };
    let body = match written.and_then(|()| out.into_inner().map_err(|e| e.into_error().into())) {
        Ok(body) => body,
        Err(e) => return failed(e),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{table}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn write_rows(
    out: &mut csv::Writer<Vec<u8>>,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), csv::Error> {
    out.write_record(header)?;
    for row in rows {
        out.write_record(&row)?;
    }
    Ok(())
}

fn write_health(
    out: &mut csv::Writer<Vec<u8>>,
    rows: &[eduscale_core::insights::report::CohortHealth],
) -> Result<(), csv::Error> {
    write_rows(
        out,
        &[
            "cohort",
            "name",
            "instructor",
            "learners",
            "active_7d",
            "passes_7d",
            "pass_rate",
            "inactive",
        ],
        rows.iter().map(|h| {
            vec![
                h.scope.id.clone(),
                h.scope.name.clone(),
                h.instructor.clone(),
                h.scope.learners.to_string(),
                h.active_7d.to_string(),
                h.passes_7d.to_string(),
                h.pass_rate.map(|p| format!("{p:.3}")).unwrap_or_default(),
                h.inactive.to_string(),
            ]
        }),
    )
}

fn light(l: Light) -> String {
    match l {
        Light::Green => "green",
        Light::Amber => "amber",
        Light::Red => "red",
    }
    .to_owned()
}

/// The flag's factors in one cell: "name value (note); ...".
fn why(flag: &eduscale_core::insights::flags::Flag) -> String {
    flag.factors
        .iter()
        .map(|f| format!("{} {} ({})", f.name, f.value, f.note))
        .collect::<Vec<_>>()
        .join("; ")
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "exporting insights failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "something went wrong").into_response()
}
