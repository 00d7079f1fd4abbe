//! Operations: `/healthz` (the process is up), `/readyz` (PostgreSQL and Redis
//! answer), `/metrics` (Prometheus text) and the middleware that counts requests.
//!
//! The Prometheus recorder is process-global (the `metrics` facade has one
//! recorder), so it is installed once and shared by every router built in the
//! process, tests included. Request labels use the matched route, never the raw
//! path, so an attacker cannot blow up the number of series.

use crate::AppState;
use axum::extract::{FromRef, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let buckets = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &buckets,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder was installed first (only possible in odd test set-ups):
            // keep a detached one so /metrics still answers.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

/// The routes `/healthz`, `/readyz` and `/metrics`, for any router state that holds an [`AppState`].
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

async fn healthz() -> &'static str {
    "ok"
}

#[derive(serde::Serialize)]
struct Readiness {
    postgres: bool,
    redis: bool,
    /// Which instance answered (what battle owner keys name).
    instance: String,
}

async fn readyz(State(state): State<AppState>) -> Response {
    let deadline = Duration::from_secs(2);
    let postgres = tokio::time::timeout(deadline, sqlx::query("SELECT 1").execute(&state.db))
        .await
        .is_ok_and(|r| r.is_ok());
    let redis = tokio::time::timeout(deadline, state.redis.ping())
        .await
        .unwrap_or(false);
    let status = if postgres && redis {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            postgres,
            redis,
            instance: state.arena.instance().to_string(),
        }),
    )
        .into_response()
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    metrics::gauge!("db_pool_connections").set(f64::from(state.db.size()));
    metrics::gauge!("db_pool_idle_connections").set(state.db.num_idle() as f64);
    metrics::gauge!("redis_pool_connections").set(state.redis.pool.size() as f64);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        recorder().render(),
    )
        .into_response()
}

/// Middleware: counts every request and times it, by method, matched route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
