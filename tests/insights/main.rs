//! Insights against real PostgreSQL and Redis: the views against the same
//! aggregates computed directly, refreshes that block no reader, the model's
//! AUC on generated learners, the seed's history, and a server killed in the
//! middle of ingestion.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers panic on purpose: a failed set-up is a failed test"
)]

// The arena's real-process helpers: `eduscale serve` processes and signed-in people.
#[path = "../arena/client.rs"]
#[allow(dead_code, reason = "only some of the arena's helpers are used here")]
mod client;
#[path = "../arena/cluster.rs"]
#[allow(dead_code, reason = "only some of the arena's helpers are used here")]
mod cluster;
mod support;

mod kill;
mod model;
mod seed;
mod views;
