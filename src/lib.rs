//! The `eduscale` binary's library: command line, configuration and wiring.
//!
//! `main.rs` only parses the command line and calls into here; the integration
//! tests in `tests/` build the very same router with [`web::router`].

pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod evaluate;
pub mod runner;
pub mod seed;
pub mod telemetry;
pub mod web;
