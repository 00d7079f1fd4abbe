//! The runner over gRPC, for scale-out: runner processes on their own machines
//! (`eduscale runner serve`, over [`serve`]), and the web server's client that
//! spreads jobs over them ([`RemoteRunners`], an [`Executor`](crate::queue::Executor)
//! like the local runner, so nothing above it knows the difference).
//!
//! The protocol is `proto/runner.proto` (package `eduscale.runner.v1`); its
//! code is generated at build time by protox and tonic-prost-build, with no
//! `protoc` needed. A run's outcome, including "busy" and other refusals, is a
//! typed field of the reply; a gRPC error status means only that the call
//! failed, which is what lets the client tell "this runner said no" (answer the
//! caller, or ask another runner when it is busy) from "this runner is gone"
//! (mark it down and retry elsewhere).
//!
//! Retrying a run on another runner is safe because runs are idempotent: a
//! sandboxed program has no network, no host files and no state that outlives
//! it, so running it twice (say, when a runner died after starting it) costs
//! CPU and changes nothing else.

mod client;
mod server;
pub mod wire;

pub use client::{RemoteConfig, RemoteRunners, RemoteStats};
pub use server::serve;

/// The messages and the tonic client and server, generated from `proto/runner.proto`.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    reason = "generated code"
)]
pub mod pb {
    tonic::include_proto!("eduscale.runner.v1");
}

/// The largest message either side accepts. A report carries up to
/// `Limits::MAX.output_bytes` of output, which lossy UTF-8 can at most triple.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;
