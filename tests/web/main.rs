//! The web app end to end over HTTP (without a browser): each test gets its own
//! database (`#[sqlx::test]`) and its own Redis key prefix, and drives the real
//! router with real PostgreSQL and Redis.

mod harness;

mod accounts;
mod bad_input;
mod ops;
mod roles;
