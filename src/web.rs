//! The axum server: Leptos pages and server functions, operational endpoints,
//! sessions, limits and metrics, in one router; and serving it until a signal.
//!
//! Layers, outermost first: request tracing, metrics, the body-size limit (so an
//! oversized body is refused before anything reads it; the run endpoints get a
//! larger one, sized for a program and its input), then sessions.

use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Router, middleware};
use eduscale_app::api::runs;
use eduscale_app::{App, shell};
use eduscale_server::{AppState, auth, ops, realtime};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// What the router's handlers can reach.
#[derive(Clone)]
pub struct WebState {
    /// Pools and settings.
    pub app: AppState,
    /// How Leptos renders and where the site's files are.
    pub leptos: LeptosOptions,
}

impl FromRef<WebState> for AppState {
    fn from_ref(s: &WebState) -> Self {
        s.app.clone()
    }
}

impl FromRef<WebState> for LeptosOptions {
    fn from_ref(s: &WebState) -> Self {
        s.leptos.clone()
    }
}

/// The whole web app.
pub fn router(state: WebState, body_limit: usize) -> Router {
    // Metrics recorded before the recorder exists are lost: install it first.
    ops::recorder();
    let routes = generate_route_list(App);
    let app_state = state.app.clone();
    let context = move || provide_context(app_state.clone());
    let leptos = state.leptos.clone();
    Router::new()
        .route("/api/{*fn_name}", post(server_fn).get(server_fn))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            WebState,
            _,
        >(context, shell))
        .merge(ops::router())
        .merge(realtime::router())
        .merge(eduscale_server::insights::export::router())
        .layer(auth::session::layer(&state.app))
        .layer(middleware::from_fn_with_state(body_limit, limit_body))
        .layer(middleware::from_fn(ops::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses bodies over `default` bytes (413), or over what a program and its input
/// need on the run endpoints, whose server functions then apply the exact limits
/// with a message saying which one.
async fn limit_body(
    State(default): State<usize>,
    request: Request<Body>,
    next: middleware::Next,
) -> axum::response::Response {
    use tower::ServiceExt;
    let limit = if runs::takes_a_program(request.uri().path()) {
        default.max(runs::MAX_BODY_BYTES)
    } else {
        default
    };
    let limited = tower::ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(limit))
        .map_request(|r: Request<_>| r.map(Body::new))
        .service(next);
    match limited.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

async fn server_fn(State(state): State<WebState>, request: Request<Body>) -> impl IntoResponse {
    let app = state.app.clone();
    leptos_axum::handle_server_fns_with_context(move || provide_context(app.clone()), request).await
}

/// Serves `router` on `addr` until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(router: Router, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} ({e}); is another server running? Set LEPTOS_SITE_ADDR to use another address"))?;
    // Leptos streams a page in several writes; with Nagle's algorithm on, the client's
    // delayed ACK holds each response ~40 ms under keep-alive.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    tracing::info!(%addr, "listening on http://{addr}");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on the first Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
