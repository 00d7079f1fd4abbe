//! What the instructors' dashboards show, as data: the server computes these
//! (and caches them in Redis as JSON until the views are next refreshed), the
//! pages render them, and the CSV export writes their rows.
//!
//! Times are strings the page shows as they are (`YYYY-MM-DD`, or
//! `YYYY-MM-DD HH:MM UTC`), so the server and the browser never disagree on a
//! time zone. Rates are fractions in 0..=1.

use super::flags::Flag;
use serde::{Deserialize, Serialize};

/// The id of the whole platform as a scope (admins only): the nil uuid.
pub const PLATFORM: &str = "00000000-0000-0000-0000-000000000000";

/// A scope a person may look at: one of their cohorts, or the platform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// The cohort's id, or [`PLATFORM`].
    pub id: String,
    /// The cohort's name, or "Whole platform".
    pub name: String,
    /// Learners in it.
    pub learners: i64,
}

/// The headline numbers of a scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The scope.
    pub scope: Scope,
    /// Learners active in the last 7 days.
    pub active_7d: i64,
    /// Nodes passed in the last 7 days.
    pub passes_7d: i64,
    /// Active learners today and in the 7 days to today.
    pub dau: i64,
    /// See `dau`.
    pub wau: i64,
    /// When the views were last refreshed (`YYYY-MM-DD HH:MM:SS UTC`), if ever.
    pub refreshed_at: Option<String>,
}

/// One week of a scope's velocity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeekPoint {
    /// The Monday the week starts on, `YYYY-MM-DD`.
    pub week: String,
    /// Nodes passed in the week.
    pub nodes_passed: i64,
    /// Learners who passed at least one node.
    pub learners_passing: i64,
    /// Learners active at all.
    pub active_learners: i64,
}

/// One day of a scope's engagement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Learners active that day.
    pub dau: i64,
    /// Learners active in the 7 days ending that day.
    pub wau: i64,
}

/// A node where the scope's learners get stuck, or may.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roadblock {
    /// The node's id (for its drill-down).
    pub node_id: i64,
    /// The path's slug and the node's key (for links to the path page).
    pub path_slug: String,
    /// See `path_slug`.
    pub node_key: String,
    /// The node's title.
    pub title: String,
    /// Learners who reached it.
    pub learners: i64,
    /// Of those, how many have not passed it yet.
    pub stuck: i64,
    /// Attempts in all.
    pub attempts: i64,
    /// Passed / reached.
    pub pass_rate: f64,
    /// The model's mean probability that a learner who has not passed yet will
    /// pass their next attempt; `None` before a model is fitted.
    pub predicted_pass: Option<f64>,
    /// Median seconds from first touch to pass.
    pub median_pass_s: Option<f64>,
    /// Attempted, not passed, and gone from the node for 7 days.
    pub dropped: i64,
    /// The flag, with its light and reasons.
    pub flag: Flag,
}

/// A learner who may be falling away.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AtRisk {
    /// The learner.
    pub user_id: String,
    /// Their display name.
    pub name: String,
    /// Their last active day, `YYYY-MM-DD`.
    pub last_active: String,
    /// Whole days since then.
    pub days_inactive: i64,
    /// Nodes passed in the last 7 days.
    pub passes_7d: i64,
    /// Nodes passed per week in the 3 weeks before.
    pub weekly_before: f64,
    /// Consecutive active days up to yesterday or today.
    pub current_streak: i64,
    /// The flag, with its light and reasons.
    pub flag: Flag,
}

/// A learner practising a skill a lot without mastering it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WheelSpin {
    /// The learner.
    pub user_id: String,
    /// Their display name.
    pub name: String,
    /// The skill.
    pub skill: String,
    /// Attempts on it, and how many passed.
    pub attempts: i64,
    /// See `attempts`.
    pub successes: i64,
    /// The model's probability that their next attempt on it passes.
    pub predicted: f64,
    /// The flag, with its light and reasons.
    pub flag: Flag,
}

/// A scope's whole dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Headline numbers.
    pub overview: Overview,
    /// The last 12 weeks, oldest first.
    pub velocity: Vec<WeekPoint>,
    /// The last 30 days, oldest first.
    pub engagement: Vec<DayPoint>,
    /// Worst first (red, then amber), at most 20.
    pub roadblocks: Vec<Roadblock>,
    /// Worst first, at most 50.
    pub at_risk: Vec<AtRisk>,
    /// Worst first, at most 50.
    pub wheel_spinning: Vec<WheelSpin>,
}

/// One thing a learner did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineItem {
    /// `YYYY-MM-DD HH:MM UTC`.
    pub at: String,
    /// The event's kind (`verdict`, `node_passed`, ...).
    pub kind: String,
    /// What it was about, in words ("Greeting: wrong_answer").
    pub what: String,
}

/// One battle a learner played.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BattleRow {
    /// The battle (for its replay).
    pub battle_id: String,
    /// When it finished, `YYYY-MM-DD HH:MM UTC`.
    pub at: String,
    /// Their rank (1 = won).
    pub rank: i32,
    /// Players in it.
    pub players: i32,
    /// Rating after, and its change.
    pub rating: i32,
    /// See `rating`.
    pub rating_change: i32,
}

/// The model's view of a learner on one skill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillRow {
    /// The skill.
    pub skill: String,
    /// Passed and failed attempts.
    pub successes: i64,
    /// See `successes`.
    pub failures: i64,
    /// Probability that their next attempt on it passes.
    pub predicted: Option<f64>,
}

/// The model's probability that a learner passes a node they have open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodePrediction {
    /// The path's slug and the node's key.
    pub path_slug: String,
    /// See `path_slug`.
    pub node_key: String,
    /// The node's title.
    pub title: String,
    /// Probability of passing the next attempt.
    pub predicted: Option<f64>,
}

/// One learner, drilled into.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerReport {
    /// The learner.
    pub user_id: String,
    /// Their display name.
    pub name: String,
    /// Their latest 100 events, newest first.
    pub timeline: Vec<TimelineItem>,
    /// Their battles, newest first (at most 50).
    pub battles: Vec<BattleRow>,
    /// Skills, weakest first.
    pub skills: Vec<SkillRow>,
    /// Nodes they have open or in progress, least likely first.
    pub predictions: Vec<NodePrediction>,
    /// The paths they have progress on, `(slug, title)` (for their path graphs).
    pub paths: Vec<(String, String)>,
    /// Their flag, if any.
    pub at_risk: Option<AtRisk>,
}

/// One node, drilled into.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    /// The node.
    pub node_id: i64,
    /// The path's slug and the node's key.
    pub path_slug: String,
    /// See `path_slug`.
    pub node_key: String,
    /// Its title.
    pub title: String,
    /// Learners who reached it, passed it, and attempts.
    pub learners: i64,
    /// See `learners`.
    pub passed: i64,
    /// See `learners`.
    pub attempts: i64,
    /// Median seconds from first touch to pass.
    pub median_pass_s: Option<f64>,
    /// How many learners needed how many attempts: `(label, learners)`, with the
    /// labels `0`, `1`, `2`, ... `9`, `10+`.
    pub attempt_histogram: Vec<(String, i64)>,
    /// Verdicts other than accepted, most common first: `(verdict, count)`.
    pub wrong_verdicts: Vec<(String, i64)>,
}

/// A cohort's health, for admins comparing cohorts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortHealth {
    /// The cohort.
    pub scope: Scope,
    /// Its instructor's name.
    pub instructor: String,
    /// Learners active in the last 7 days.
    pub active_7d: i64,
    /// Nodes passed in the last 7 days.
    pub passes_7d: i64,
    /// Passed / attempted over all its verdicts.
    pub pass_rate: Option<f64>,
    /// Learners inactive for 7 days or more.
    pub inactive: i64,
}

/// The live pulse of a scope, from Redis counters: updated as events arrive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pulse {
    /// Learners with an event in the last 5 minutes.
    pub active_5m: u64,
    /// Runs in the last 60 seconds.
    pub runs_1m: u64,
    /// Events in the last 60 seconds.
    pub events_1m: u64,
    /// Battles in progress with a learner of the scope.
    pub battles_live: u64,
}
