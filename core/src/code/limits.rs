//! The limits one run gets.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What one run may use. The defaults suit a judged test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time, from the moment the program starts (sleeping counts).
    pub wall: Duration,
    /// Work, in wasmtime fuel (about 1e9 per 0.1 s here). Deterministic: the same
    /// program and input use the same fuel on any machine, so it decides verdicts
    /// that must be reproducible.
    pub fuel: u64,
    /// Linear memory (WASM) or container memory (Docker), in bytes.
    pub memory_bytes: u64,
    /// Captured stdout and stderr together; the program is stopped beyond it.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall: Duration::from_secs(5),
            fuel: 20_000_000_000,
            memory_bytes: 256 << 20,
            output_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// The largest limits a caller may ask for: requests are clamped to these.
    pub const MAX: Limits = Limits {
        wall: Duration::from_secs(20),
        fuel: 100_000_000_000,
        memory_bytes: 512 << 20,
        output_bytes: 4 << 20,
    };

    /// These limits, each no larger than `max`.
    pub fn clamp(self, max: &Limits) -> Limits {
        Limits {
            wall: self.wall.min(max.wall),
            fuel: self.fuel.min(max.fuel),
            memory_bytes: self.memory_bytes.min(max.memory_bytes),
            output_bytes: self.output_bytes.min(max.output_bytes),
        }
    }
}
