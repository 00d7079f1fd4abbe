//! The arena across real processes: two (or three) `eduscale serve` instances
//! over one PostgreSQL, the machine's Redis, and three lock nodes of their own.
//! Owners are killed and paused like real processes; every socket applies every
//! delta with the browser's own `apply` and hash check.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers panic on purpose: a failed set-up is a failed test"
)]

mod client;
mod cluster;
mod world;

mod bad_input;
mod failover;
mod scoring;
mod store;
mod sync;
