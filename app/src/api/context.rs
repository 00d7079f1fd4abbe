//! How a server function reaches the request: the one place that reads the
//! [`AppState`] from Leptos context, the session and the client's address.

use crate::error::AppError;
use eduscale_server::AppState;
use eduscale_server::auth::{User, session};
use leptos::prelude::use_context;
use tower_sessions::Session;

/// The server's state, provided to every server function and page render.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

/// The caller's session (the session layer guarantees one).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session on the request");
        AppError::Internal
    })
}

/// Who is asking, or 401.
pub async fn who() -> Result<(AppState, User), AppError> {
    let state = state()?;
    let session = session().await?;
    let user = session::current_user(&state, &session).await?;
    Ok((state, user))
}

/// The client's address, for per-address limits ("unknown" when the server was not given it).
///
/// Behind a proxy (`behind_proxy`), the socket's peer is the proxy, so the address is the
/// last one in `X-Forwarded-For`: the one our proxy appended, which a client cannot forge
/// (anything a client sends itself comes before it).
pub async fn address(state: &AppState) -> String {
    use axum::extract::ConnectInfo;
    use axum::http::HeaderMap;
    use std::net::{IpAddr, SocketAddr};
    if state.auth.behind_proxy
        && let Ok(headers) = leptos_axum::extract::<HeaderMap>().await
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return ip.to_string();
    }
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map_or_else(
            |_| "unknown".to_owned(),
            |ConnectInfo(a)| a.ip().to_string(),
        )
}
