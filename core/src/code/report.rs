//! What a run returns. A learner's program failing is data (a verdict), never an
//! error: only the host's own faults are `Err`.

use super::Language;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a run ended, from the learner's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Ran to the end with exit code 0 (and, when judged, the right output).
    Accepted,
    /// Ran to the end, but the output was not the expected one.
    WrongAnswer,
    /// Crashed, raised, trapped or exited non-zero.
    RuntimeError,
    /// Over the wall-clock or fuel budget.
    TimeLimit,
    /// Over the memory limit.
    MemoryLimit,
    /// Wrote more than the output cap.
    OutputLimit,
    /// Did not compile (syntax error for the interpreted languages).
    CompileError,
}

impl Verdict {
    /// The id used on the wire.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::WrongAnswer => "wrong_answer",
            Verdict::RuntimeError => "runtime_error",
            Verdict::TimeLimit => "time_limit",
            Verdict::MemoryLimit => "memory_limit",
            Verdict::OutputLimit => "output_limit",
            Verdict::CompileError => "compile_error",
        }
    }

    /// Parses [`Verdict::id`].
    pub fn from_id(id: &str) -> Option<Verdict> {
        [
            Verdict::Accepted,
            Verdict::WrongAnswer,
            Verdict::RuntimeError,
            Verdict::TimeLimit,
            Verdict::MemoryLimit,
            Verdict::OutputLimit,
            Verdict::CompileError,
        ]
        .into_iter()
        .find(|v| v.id() == id)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Accepted => "Accepted",
            Verdict::WrongAnswer => "Wrong answer",
            Verdict::RuntimeError => "Runtime error",
            Verdict::TimeLimit => "Time limit exceeded",
            Verdict::MemoryLimit => "Memory limit exceeded",
            Verdict::OutputLimit => "Output limit exceeded",
            Verdict::CompileError => "Compile error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One finished run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The language it ran in.
    pub language: Language,
    /// How it ended.
    pub verdict: Verdict,
    /// The exit code, when the program exited by itself.
    pub exit_code: Option<i32>,
    /// Why it ended, when not by exiting (e.g. "stack overflow", "fuel exhausted").
    pub detail: Option<String>,
    /// What it printed (up to the cap; lossy UTF-8).
    pub stdout: String,
    /// The tail of its stderr (lossy UTF-8).
    pub stderr: String,
    /// Wall time of the program itself, in microseconds.
    pub wall_us: u64,
    /// Fuel burnt (0 for backends that do not meter it).
    pub fuel: u64,
    /// Peak memory, in bytes.
    pub peak_memory_bytes: u64,
}

impl Report {
    /// One line for logs and the command line: verdict, time, memory, fuel.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} in {:.1} ms, {:.1} MiB, {} fuel",
            self.verdict.label(),
            self.wall_us as f64 / 1000.0,
            self.peak_memory_bytes as f64 / (1 << 20) as f64,
            self.fuel
        );
        if let Some(code) = self.exit_code.filter(|c| *c != 0) {
            line.push_str(&format!(", exit code {code}"));
        }
        if let Some(detail) = &self.detail {
            line.push_str(&format!(" ({detail})"));
        }
        line
    }
}

/// Keeps the last `max` bytes of `text` on a character boundary: the end of a
/// stderr is where the error is.
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
