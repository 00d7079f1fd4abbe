//! The words a learner's history is told in: event kinds, events with the
//! seconds between them, where a learner stands on a node, and the page
//! addresses and failure verdicts events name by number.
//!
//! Numbers rather than strings (a node is its catalog index, a verdict its place
//! in [`VERDICTS`]) keep millions of events small in memory; names are looked up
//! only when rows are written.

use super::catalog::Catalog;
use super::random::SeedRng;
use eduscale_core::code::Verdict;
use rand::Rng;

/// No node, battle or page.
pub const NONE: u16 = u16::MAX;
/// The verdicts, numbered from 1 in [`Ev::verdict`] (0: none). Accepted first.
pub const VERDICTS: [Verdict; 7] = [
    Verdict::Accepted,
    Verdict::WrongAnswer,
    Verdict::RuntimeError,
    Verdict::TimeLimit,
    Verdict::MemoryLimit,
    Verdict::OutputLimit,
    Verdict::CompileError,
];
/// Pages that belong to no path; path pages and node pages follow them in [`pages`].
pub const FIXED_PAGES: [&str; 7] = [
    "/",
    "/paths",
    "/arena",
    "/profile",
    "/leaderboard",
    "/cohorts",
    "/playground",
];

/// An event's kind: the server's own, so the seed writes the names it reads.
pub use eduscale_server::insights::event::Kind;

/// One event of the story.
#[derive(Debug, Clone, Copy)]
pub struct Ev {
    /// Seconds since the previous event of the session (0 for the first).
    pub gap: u32,
    /// What happened.
    pub kind: Kind,
    /// The node (catalog index) it concerns; a node's page view names it too,
    /// though only node events store it.
    pub node: u16,
    /// The learner's battle number, from 1; [`NONE`] outside battles.
    pub battle: u16,
    /// Index into [`VERDICTS`] plus one; 0 when not a verdict.
    pub verdict: u8,
    /// The attempt's score, 0..=100 (verdicts only).
    pub score: u8,
    /// Index into [`pages`]; [`NONE`] when not a page view.
    pub page: u16,
}

/// Where a learner stands on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Never opened.
    #[default]
    Untouched,
    /// Opened or tried, not done.
    InProgress,
    /// Passed.
    Passed,
    /// Tested out of by the checkpoint (catalog index) named.
    Skipped(u16),
}

/// A learner on one node.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeState {
    /// Passed, skipped, in progress or untouched.
    pub stage: Stage,
    /// Judged submissions (lessons: 1 once completed).
    pub attempts: u32,
    /// Submissions that did not pass.
    pub failures: u32,
    /// The best score so far.
    pub best: u8,
    /// Failures in a row since the last fresh start.
    pub(super) streak: u32,
    /// Left for now after too many failures in a row.
    pub(super) abandoned: bool,
    /// Opened as remediation (remedial nodes only).
    pub(super) remediation: bool,
}

impl NodeState {
    /// Passed or tested out of.
    pub fn done(&self) -> bool {
        matches!(self.stage, Stage::Passed | Stage::Skipped(_))
    }
}

/// A learner's whole history, untimed.
#[derive(Debug, Clone)]
pub struct Story {
    /// Every event, in order.
    pub events: Vec<Ev>,
    /// Where each session starts in `events`.
    pub sessions: Vec<usize>,
    /// Per catalog node, where the learner ended up.
    pub nodes: Vec<NodeState>,
}

/// Every page address a page view may name, in [`Ev::page`]'s numbering.
pub fn pages(catalog: &Catalog) -> Vec<String> {
    FIXED_PAGES
        .iter()
        .map(|p| (*p).to_owned())
        .chain((0..catalog.paths.len()).map(|p| catalog.path_page(p)))
        .chain((0..catalog.nodes.len()).map(|n| catalog.node_page(n)))
        .collect()
}

/// Per node, how a failed submission's verdict is chosen (weights for the
/// failing verdicts in [`VERDICTS`] order): mostly wrong answers, more time
/// limits on hard nodes, and each node a little different so that "common wrong
/// verdicts" has something to say.
pub fn failure_mixes(catalog: &Catalog, rng: &mut SeedRng) -> Vec<[f64; 6]> {
    catalog
        .nodes
        .iter()
        .map(|n| {
            let d = f64::from(n.difficulty);
            [
                70.0 * rng.gen_range(0.6..1.4),
                14.0 * rng.gen_range(0.3..2.0),
                2.0 + 3.0 * (d - 1.0) * rng.gen_range(0.5..1.5),
                if n.difficulty >= 4 { 3.0 } else { 0.5 },
                1.0,
                6.0 * rng.gen_range(0.5..1.5),
            ]
        })
        .collect()
}

/// An event of `kind`, `gap` seconds (at least one) after the one before, naming nothing.
pub fn ev(gap: u32, kind: Kind) -> Ev {
    Ev {
        gap: gap.max(1),
        kind,
        node: NONE,
        battle: NONE,
        verdict: 0,
        score: 0,
        page: NONE,
    }
}

/// A catalog index as stored in an event.
pub fn idx(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(NONE)
}
