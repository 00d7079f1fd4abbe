//! The runner: learners' programs in sandboxes, judged, behind a fair queue.
//!
//! It knows nothing of HTTP, SQL or Redis. [`Runner`] is what the rest of the
//! product calls: it admits a job (queue room; the per-user rate limit,
//! [`rate::RunRateLimit`], is the caller's), waits for a slot
//! fairly between users, and runs it in the language's [`Sandbox`] — wasmtime
//! guests for Python and JavaScript, Docker for the compiled languages.
//!
//! For scale-out, [`remote`] serves a runner over gRPC and gives web servers
//! [`remote::RemoteRunners`], an [`Executor`] over many runner processes.

pub mod docker;
pub mod judge;
pub mod queue;
pub mod rate;
pub mod remote;
pub mod wasm;

pub use eduscale_core::code::{
    Backend, Checker, Judgement, Language, LanguageStatus, Limits, Report, TestCase, Verdict,
};
pub use queue::{Executor, Load, QueueConfig, Runner};

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One program to run once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    /// Its language.
    pub language: Language,
    /// Its source.
    pub source: String,
    /// What it reads on stdin.
    pub stdin: String,
    /// What it may use.
    pub limits: Limits,
    /// Seed of the randomness the guest sees; `None` for fresh entropy. Judging
    /// passes one, so a verdict (and its fuel) is reproducible.
    pub seed: Option<u64>,
}

impl RunRequest {
    /// A request with the default limits and fresh randomness.
    pub fn new(language: Language, source: impl Into<String>, stdin: impl Into<String>) -> Self {
        RunRequest {
            language,
            source: source.into(),
            stdin: stdin.into(),
            limits: Limits::default(),
            seed: None,
        }
    }
}

/// Why a run did not happen. A program that fails is not an error (it gets a
/// [`Verdict`]); these are the cases where there is no verdict to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RunError {
    /// The language cannot run here.
    #[error("{language} is not available here: {reason}")]
    Unavailable {
        /// The language asked for.
        language: Language,
        /// Why, in words for learners.
        reason: String,
    },
    /// Every slot and queue place is taken.
    #[error("the runner is busy, try again in {} s", retry_after.as_secs().max(1))]
    Busy {
        /// When a retry has a fair chance.
        retry_after: Duration,
    },
    /// This user asked for too many runs too quickly.
    #[error("too many runs, try again in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// When the next run is allowed.
        retry_after: Duration,
    },
    /// The request itself is unacceptable (e.g. the source is too large).
    #[error("{0}")]
    Invalid(String),
    /// The host failed (not the program): a bug or a broken runner.
    #[error("the runner failed: {0}")]
    Host(String),
}

impl RunError {
    /// Wraps a host-side failure.
    pub fn host(error: impl std::fmt::Display) -> RunError {
        RunError::Host(error.to_string())
    }
}

/// A backend that runs one request in isolation.
#[async_trait::async_trait]
pub trait Sandbox: Send + Sync + std::fmt::Debug {
    /// The languages this backend handles, and whether each can run here.
    fn languages(&self) -> Vec<LanguageStatus>;
    /// Runs `request` in a fresh instance and reports how it went.
    async fn run(&self, request: &RunRequest) -> Result<Report, RunError>;
}
