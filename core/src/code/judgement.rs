//! A submission judged against a challenge's test cases: what the learner sees.
//!
//! Visible cases explain a failure (input, expected, actual, a line diff); hidden
//! cases only say pass or fail and how, never their input, expected output, or
//! what the program printed on them (which could echo the input).

use super::{Language, Verdict};
use serde::{Deserialize, Serialize};

/// One test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCase {
    /// What the program reads.
    pub stdin: String,
    /// What it should print.
    pub expected: String,
    /// Whether the learner may see this case.
    pub visible: bool,
}

/// How an output is compared with the expected one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Checker {
    /// Equal after removing trailing whitespace from each line and trailing
    /// blank lines (`\r\n` counts as `\n`).
    #[default]
    Exact,
    /// The same whitespace-separated tokens.
    Tokens,
    /// The same tokens, numbers equal within an absolute or relative tolerance.
    Float {
        /// The largest difference accepted.
        tolerance: f64,
    },
    /// The same lines in any order (e.g. "print every pair").
    UnorderedLines,
    /// A program that decides: it reads a JSON object `{"input", "expected",
    /// "output"}` on stdin and exits 0 to accept. It runs in the sandbox too.
    Program {
        /// The checker's language.
        language: Language,
        /// The checker's source.
        source: String,
    },
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Its position among the challenge's cases (from 0).
    pub index: usize,
    /// Whether it is a visible case.
    pub visible: bool,
    /// How it went.
    pub verdict: Verdict,
    /// Wall time in microseconds.
    pub wall_us: u64,
    /// Fuel burnt.
    pub fuel: u64,
    /// Peak memory in bytes.
    pub peak_memory_bytes: u64,
    /// What went wrong, only for visible cases.
    pub details: Option<CaseDetails>,
}

/// A visible case explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDetails {
    /// Its input.
    pub stdin: String,
    /// The expected output.
    pub expected: String,
    /// What the program printed.
    pub actual: String,
    /// The tail of its stderr.
    pub stderr: String,
    /// Why it stopped, when not by exiting.
    pub detail: Option<String>,
    /// Line by line, where expected and actual differ (at most [`MAX_DIFF_LINES`]).
    pub diff: Vec<DiffLine>,
}

/// The most differing lines a diff lists.
pub const MAX_DIFF_LINES: usize = 50;

/// One line that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// Its line number (from 1).
    pub line: usize,
    /// The expected line (`None` when the program printed more lines).
    pub expected: Option<String>,
    /// The printed line (`None` when the program printed fewer lines).
    pub actual: Option<String>,
}

/// A whole submission judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// Accepted when every case passed; otherwise the verdict of the first case
    /// that failed.
    pub verdict: Verdict,
    /// Cases passed.
    pub passed: usize,
    /// Cases in all.
    pub total: usize,
    /// Hidden cases passed.
    pub hidden_passed: usize,
    /// Hidden cases in all.
    pub hidden_total: usize,
    /// The compiler's (or parser's) message, when it did not compile.
    pub compile_error: Option<String>,
    /// Each case, in order.
    pub cases: Vec<CaseResult>,
    /// The slowest case's wall time, in microseconds.
    pub max_wall_us: u64,
    /// Fuel over all cases.
    pub total_fuel: u64,
    /// The largest peak memory of any case.
    pub peak_memory_bytes: u64,
}
