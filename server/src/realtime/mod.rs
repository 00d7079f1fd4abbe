//! Realtime: each learner's WebSocket, and getting a message to it from any
//! instance.
//!
//! In: `GET /ws` upgrades (signed-in, same origin), and messages for a learner
//! from anywhere in the server ([`Hub::send_to`]). Out: those messages on every
//! socket the learner has open, on whichever instance holds it, encoded as the
//! socket asked (`eduscale_core::protocol`).

mod hub;
pub mod socket;

pub use hub::Hub;

use crate::AppState;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

/// The WebSocket route.
pub fn router<S>() -> Router<S>
where
    AppState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/ws", get(socket::upgrade))
}

#[cfg(test)]
mod tests;
