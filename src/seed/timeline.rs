//! A story on the calendar: each session gets a start between the learner's first
//! and last possible moments, at their usual hour, and each event its second;
//! then the progress rows follow from the timed events.
//!
//! Promises: a learner's events are strictly increasing in time (every gap is at
//! least a second, the sub-second jitter less than one), sessions never overlap,
//! and nothing lands after the learner's `end`, which is before now. A slowing
//! learner's sessions thin out towards the end; a steady one's do not.

use super::people::{DAY, HOUR, Learner, Pace};
use super::random::{self, normal};
use super::story::{Ev, Kind, NONE, Stage, Story};
use rand::Rng;

/// Seconds between two events on a node that count towards time spent at most
/// (the server's cap too: a tab left open is not study time).
const MAX_GAP_S: u32 = 300;
/// The least quiet time between two sessions.
const BREAK: i64 = 20 * 60 * 1_000_000;

/// One event, ready to be written (times in Postgres microseconds, since 2000-01-01 UTC).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// When.
    pub at: i64,
    /// The learner's number.
    pub user: u32,
    /// Its place in the learner's story (orders equal times).
    pub seq: u32,
    /// What.
    pub kind: Kind,
    /// Catalog node, or [`NONE`].
    pub node: u16,
    /// The learner's battle number, or [`NONE`].
    pub battle: u16,
    /// Verdict index + 1, or 0.
    pub verdict: u8,
    /// Page index, or [`NONE`].
    pub page: u16,
}

/// One learner's row in `progress`.
#[derive(Debug, Clone, Copy)]
pub struct ProgressRow {
    /// The learner's number.
    pub user: u32,
    /// Catalog node.
    pub node: u16,
    /// In progress, passed or skipped.
    pub stage: &'static str,
    /// Best score.
    pub best: u8,
    /// Judged attempts.
    pub attempts: u32,
    /// Failed attempts.
    pub failures: u32,
    /// Seconds on the node.
    pub time_spent_s: u32,
    /// First event on it (for a node tested out of untouched: the checkpoint's pass).
    pub first: i64,
    /// Last event on it.
    pub last: i64,
    /// When it was passed.
    pub passed_at: Option<i64>,
}

/// A learner's story, timed.
#[derive(Debug, Clone, Default)]
pub struct Placed {
    /// Their events, in time order.
    pub rows: Vec<Row>,
    /// Their progress rows.
    pub progress: Vec<ProgressRow>,
    /// Their first event's time (`end` when they have none).
    pub first_at: i64,
}

/// Times `story` for learner number `user`.
pub fn place(story: &Story, who: &Learner, user: u32) -> Placed {
    let mut rng = random::rng_for(who.stream, 1);
    let bounds: Vec<(usize, usize)> = story
        .sessions
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            (
                s,
                story
                    .sessions
                    .get(k + 1)
                    .copied()
                    .unwrap_or(story.events.len()),
            )
        })
        .collect();
    let lengths: Vec<i64> = bounds
        .iter()
        .map(|&(a, b)| {
            story.events[a..b]
                .iter()
                .map(|e| i64::from(e.gap))
                .sum::<i64>()
                * 1_000_000
        })
        .collect();
    let starts = session_starts(&mut rng, who, &lengths);
    let mut rows = Vec::with_capacity(story.events.len());
    let mut seq = 0u32;
    for (k, &(a, b)) in bounds.iter().enumerate() {
        let mut at = starts[k];
        for e in &story.events[a..b] {
            at += i64::from(e.gap) * 1_000_000;
            rows.push(Row {
                at: at + rng.gen_range(0..1_000_000),
                user,
                seq,
                kind: e.kind,
                node: e.node,
                battle: e.battle,
                verdict: e.verdict,
                page: e.page,
            });
            seq += 1;
        }
    }
    let progress = progress(story, &bounds, &rows, user);
    let first_at = rows.first().map_or(who.end, |r| r.at);
    Placed {
        rows,
        progress,
        first_at,
    }
}

/// Session starts: spread over the learner's window (thinning out for a slowing
/// learner), at their usual hour give or take, apart by at least [`BREAK`], and
/// shifted back as a whole when the last would end after `end`.
fn session_starts(rng: &mut impl Rng, who: &Learner, lengths: &[i64]) -> Vec<i64> {
    let span = (who.end - who.start).max(HOUR);
    let warp = match who.pace {
        Pace::Steady => 1.0,
        Pace::Slowing => 1.8,
        Pace::Dropout => 1.2,
    };
    let mut spots: Vec<f64> = lengths
        .iter()
        .map(|_| rng.r#gen::<f64>().powf(warp))
        .collect();
    spots.sort_by(f64::total_cmp);
    let mut starts: Vec<i64> = spots
        .iter()
        .map(|&x| {
            let day = (who.start + (x * span as f64) as i64).div_euclid(DAY);
            let hour = who.hour + 1.5 * normal(rng);
            day * DAY + (hour * HOUR as f64) as i64
        })
        .collect();
    starts.sort_unstable();
    for k in 1..starts.len() {
        starts[k] = starts[k].max(starts[k - 1] + lengths[k - 1] + BREAK);
    }
    // Events land a second or more after their session's start, each with up to
    // a second of jitter: keep the last one clear of `end`.
    let last_end = starts
        .last()
        .zip(lengths.last())
        .map_or(0, |(s, l)| s + l + 1_000_000);
    let overflow = (last_end - who.end).max(0);
    starts.iter().map(|s| s - overflow).collect()
}

/// The progress rows: counters and stage from the story, times from the rows.
fn progress(story: &Story, bounds: &[(usize, usize)], rows: &[Row], user: u32) -> Vec<ProgressRow> {
    let n = story.nodes.len();
    let mut first = vec![i64::MAX; n];
    let mut last = vec![i64::MIN; n];
    let mut passed_at: Vec<Option<i64>> = vec![None; n];
    let mut spent = vec![0u32; n];
    for &(a, b) in bounds {
        let mut previous: Option<&Ev> = None;
        for (i, e) in story.events[a..b].iter().enumerate() {
            let node = usize::from(e.node);
            if e.node != NONE && e.kind != Kind::RemediationOpened {
                let at = rows[a + i].at;
                first[node] = first[node].min(at);
                last[node] = last[node].max(at);
                if e.kind == Kind::NodePassed && passed_at[node].is_none() {
                    passed_at[node] = Some(at);
                }
                if previous.is_some_and(|p| p.node == e.node) {
                    spent[node] += e.gap.min(MAX_GAP_S);
                }
            }
            previous = Some(e);
        }
    }
    let mut out = Vec::new();
    for (node, state) in story.nodes.iter().enumerate() {
        let stage = match state.stage {
            Stage::Untouched => continue,
            Stage::InProgress => "in_progress",
            Stage::Passed => "passed",
            Stage::Skipped(_) => "skipped",
        };
        // A node tested out of without ever being opened: its times are the checkpoint's pass.
        let (first_at, last_at) = match state.stage {
            Stage::Skipped(c) if first[node] == i64::MAX => {
                let at = passed_at[usize::from(c)].unwrap_or(0);
                (at, at)
            }
            _ if first[node] == i64::MAX => continue,
            _ => (first[node], last[node]),
        };
        out.push(ProgressRow {
            user,
            node: u16::try_from(node).unwrap_or(NONE),
            stage,
            best: state.best,
            attempts: state.attempts,
            failures: state.failures,
            time_spent_s: spent[node],
            first: first_at,
            last: last_at,
            passed_at: if stage == "passed" {
                passed_at[node]
            } else {
                None
            },
        });
    }
    out
}
