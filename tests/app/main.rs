//! The app end to end over HTTP (without a browser) and through its command line: each test gets its own
//! database (`#[sqlx::test]`) and its own Redis key prefix, and drives the real
//! router with real PostgreSQL and Redis.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers panic on purpose: a failed set-up is a failed test"
)]

mod harness;

mod accounts;
mod bad_input;
mod cli;
mod insights;
mod ops;
mod paths;
mod realtime;
mod roles;
mod runs;
