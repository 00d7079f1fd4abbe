//! EduScale's backend library (native only): the database, Redis, accounts,
//! challenges and submissions, learning paths, and the operational endpoints. The `app` crate
//! reaches it from server functions (under its `ssr` feature) and the binary
//! wires it into one axum server.
//!
//! Everything a request needs travels in one [`AppState`], cloned cheaply (pools
//! and `Arc`s inside).

pub mod arena;
pub mod auth;
pub mod challenges;
pub mod db;
pub mod insights;
pub mod ops;
pub mod paths;
pub mod realtime;
pub mod redis;
pub mod submissions;

/// The size of the future an async fn of five arguments returns, without
/// calling it: the memory each long-lived task of that fn holds (tests keep
/// sockets' and battles' tasks small).
#[cfg(test)]
pub(crate) fn future_size<A, B, C, D, E, Fut>(_: impl FnOnce(A, B, C, D, E) -> Fut) -> usize {
    std::mem::size_of::<Fut>()
}

/// Pushes `item`, making room for just one more while `list` is short, rather
/// than `Vec`'s first four: the lists kept per socket and per battle (a
/// learner's outboxes, a connection's battles, a room's watchers) mostly hold
/// one or two, 10,000 sockets over. A longer list grows as `Vec` does.
pub(crate) fn push_snug<T>(list: &mut Vec<T>, item: T) {
    if list.len() < 4 {
        list.reserve_exact(1);
    }
    list.push(item);
}

use std::sync::Arc;

/// What every handler and server function can reach: pools and settings.
#[derive(Clone)]
pub struct AppState {
    /// The PostgreSQL pool.
    pub db: sqlx::PgPool,
    /// The Redis command pool, the subscriber and this deployment's key prefix.
    pub redis: redis::Redis,
    /// Password, session and rate-limit settings.
    pub auth: Arc<auth::AuthSettings>,
    /// Runs learners' code: the in-process runner, or a client of remote ones.
    pub runner: Arc<dyn eduscale_runner::queue::Executor>,
    /// Runs per user per minute.
    pub run_limit: Arc<eduscale_runner::rate::RunRateLimit>,
    /// Gets messages to learners' sockets, on whichever instance they are.
    pub realtime: realtime::Hub,
    /// Battles: their owners here, and following them from here.
    pub arena: arena::Arena,
    /// Events in, dashboards and the live pulse out (shared: every socket
    /// holds it).
    pub insights: Arc<insights::Insights>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}
