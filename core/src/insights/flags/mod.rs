//! The flags instructors see, each with a traffic light and its reasons.
//!
//! In: numbers the server has already aggregated (a node's stats for a scope, a
//! learner's practice on a skill, a learner's recent activity) and the model's
//! predictions. Out: a [`Flag`] whose [`Factor`]s are the very values that set
//! its light, in words a person reads ("predicted pass rate", "38%", "below
//! 50%"). A flag is always returned, green included, so a page can show why
//! something is fine as well as why it is not. The thresholds are the constants
//! below: one place to read them, one place to tune them.

use serde::{Deserialize, Serialize};

/// A traffic light; ordered, so the worst of several is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// Nothing to act on.
    Green,
    /// Worth a look.
    Amber,
    /// Act now.
    Red,
}

/// One reason behind a flag: what was measured, its value, and how it compares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// What was measured, e.g. "predicted pass rate".
    pub name: String,
    /// Its value as shown, e.g. "38%".
    pub value: String,
    /// How it compares with the threshold, e.g. "below 50%".
    pub note: String,
    /// The light this factor alone calls for.
    pub light: Light,
}

/// Which rule raised a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// A node where many learners get, or will get, stuck.
    Roadblock,
    /// A learner practising a skill a lot without mastering it.
    WheelSpinning,
    /// A learner slowing down or gone quiet.
    AtRisk,
}

/// What a flag is about. Learners are named by their id as text (core has no uuid type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// A path node.
    Node {
        /// `path_nodes.id`.
        node_id: i64,
    },
    /// One learner on one skill.
    LearnerSkill {
        /// The learner's id.
        learner: String,
        /// The skill's name.
        skill: String,
    },
    /// One learner.
    Learner {
        /// The learner's id.
        learner: String,
    },
}

/// A rule's verdict: its light and the factors behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The rule.
    pub kind: FlagKind,
    /// The worst of the factors' lights.
    pub light: Light,
    /// What it is about.
    pub subject: Subject,
    /// Why, value by value.
    pub factors: Vec<Factor>,
}

impl Flag {
    fn new(kind: FlagKind, subject: Subject, factors: Vec<Factor>) -> Self {
        let light = factors
            .iter()
            .map(|f| f.light)
            .max()
            .unwrap_or(Light::Green);
        Self {
            kind,
            light,
            subject,
            factors,
        }
    }
}

fn factor(name: &str, value: String, note: String, light: Light) -> Factor {
    Factor {
        name: name.to_owned(),
        value,
        note,
        light,
    }
}

fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

/// Red below `red`, amber below `amber`, with the note naming the line crossed.
fn below(p: f64, red: f64, amber: f64) -> (String, Light) {
    if p < red {
        (format!("below {}", percent(red)), Light::Red)
    } else if p < amber {
        (format!("below {}", percent(amber)), Light::Amber)
    } else {
        (format!("at or above {}", percent(amber)), Light::Green)
    }
}

// ---- Roadblocks ----

/// Fewer learners on a node than this and it is not judged: two stuck learners
/// out of three is a story, not a roadblock.
pub const ROADBLOCK_MIN_LEARNERS: u32 = 5;
/// Mean predicted pass probability (of those who have not passed) below which a node is amber.
pub const ROADBLOCK_PREDICTED_AMBER: f64 = 0.5;
/// ... and red.
pub const ROADBLOCK_PREDICTED_RED: f64 = 0.3;
/// Observed pass rate (passed / attempted) below which a node is amber.
pub const ROADBLOCK_PASS_RATE_AMBER: f64 = 0.5;
/// ... and red.
pub const ROADBLOCK_PASS_RATE_RED: f64 = 0.3;
/// Mean attempts of the learners stuck on a node at which it is amber.
pub const ROADBLOCK_ATTEMPTS_AMBER: f64 = 4.0;
/// ... and red.
pub const ROADBLOCK_ATTEMPTS_RED: f64 = 8.0;
/// Share of those who attempted a node and left it unpassed for a week, amber.
pub const ROADBLOCK_DROP_AMBER: f64 = 0.15;
/// ... and red.
pub const ROADBLOCK_DROP_RED: f64 = 0.3;

/// How a scope's learners are doing on one node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Learners who reached the node (opened or attempted it).
    pub learners: u32,
    /// Of those, learners who attempted it.
    pub attempted: u32,
    /// Learners who passed it.
    pub passed: u32,
    /// Learners who attempted it, have not passed, and have been away a week.
    pub dropped: u32,
    /// Mean attempts of those who attempted and have not passed.
    pub mean_attempts_stuck: Option<f64>,
    /// Mean predicted probability that a learner who reached it and has not
    /// passed passes their next attempt.
    pub predicted_pass: Option<f64>,
}

/// Whether a node is a roadblock for a scope, and why.
pub fn roadblock(node_id: i64, stats: &NodeStats) -> Flag {
    let subject = Subject::Node { node_id };
    let mut factors = vec![factor(
        "learners who reached it",
        stats.learners.to_string(),
        if stats.learners < ROADBLOCK_MIN_LEARNERS {
            format!("fewer than {ROADBLOCK_MIN_LEARNERS}: too few to judge")
        } else {
            format!("{} attempted, {} passed", stats.attempted, stats.passed)
        },
        Light::Green,
    )];
    if stats.learners < ROADBLOCK_MIN_LEARNERS {
        return Flag::new(FlagKind::Roadblock, subject, factors);
    }
    if let Some(p) = stats.predicted_pass {
        let (note, light) = below(p, ROADBLOCK_PREDICTED_RED, ROADBLOCK_PREDICTED_AMBER);
        factors.push(factor("predicted pass rate", percent(p), note, light));
    }
    if stats.attempted >= ROADBLOCK_MIN_LEARNERS {
        let rate = f64::from(stats.passed) / f64::from(stats.attempted);
        let (note, light) = below(rate, ROADBLOCK_PASS_RATE_RED, ROADBLOCK_PASS_RATE_AMBER);
        factors.push(factor("observed pass rate", percent(rate), note, light));

        let share = f64::from(stats.dropped) / f64::from(stats.attempted);
        let (note, light) = if share >= ROADBLOCK_DROP_RED {
            (
                format!("{} or more", percent(ROADBLOCK_DROP_RED)),
                Light::Red,
            )
        } else if share >= ROADBLOCK_DROP_AMBER {
            (
                format!("{} or more", percent(ROADBLOCK_DROP_AMBER)),
                Light::Amber,
            )
        } else {
            (
                format!("under {}", percent(ROADBLOCK_DROP_AMBER)),
                Light::Green,
            )
        };
        factors.push(factor("dropped off", percent(share), note, light));
    }
    if let Some(a) = stats.mean_attempts_stuck {
        let (note, light) = if a >= ROADBLOCK_ATTEMPTS_RED {
            (format!("{ROADBLOCK_ATTEMPTS_RED} or more"), Light::Red)
        } else if a >= ROADBLOCK_ATTEMPTS_AMBER {
            (format!("{ROADBLOCK_ATTEMPTS_AMBER} or more"), Light::Amber)
        } else {
            (format!("under {ROADBLOCK_ATTEMPTS_AMBER}"), Light::Green)
        };
        factors.push(factor(
            "attempts of those stuck",
            format!("{a:.1}"),
            note,
            light,
        ));
    }
    Flag::new(FlagKind::Roadblock, subject, factors)
}

// ---- Wheel-spinning ----

/// The predicted chance of success that counts as mastery.
pub const MASTERY: f64 = 0.8;
/// Attempts on a skill without mastery at which a learner is red.
pub const WHEEL_RED_ATTEMPTS: u32 = 10;
/// Attempts on a skill at which a learner still far from mastery is amber.
pub const WHEEL_AMBER_ATTEMPTS: u32 = 6;
/// "Far from mastery" for the amber rule.
pub const WHEEL_AMBER_BELOW: f64 = 0.6;

/// Whether a learner is spinning their wheels on a skill: `attempts` on it and
/// `p_now`, the model's chance they pass their next attempt needing it.
pub fn wheel_spinning(learner: &str, skill: &str, attempts: u32, p_now: f64) -> Flag {
    let light = if attempts >= WHEEL_RED_ATTEMPTS && p_now < MASTERY {
        Light::Red
    } else if attempts >= WHEEL_AMBER_ATTEMPTS && p_now < WHEEL_AMBER_BELOW {
        Light::Amber
    } else {
        Light::Green
    };
    let (attempts_note, p_note) = match light {
        Light::Red => (
            format!("{WHEEL_RED_ATTEMPTS} or more"),
            format!("below mastery ({})", percent(MASTERY)),
        ),
        Light::Amber => (
            format!("{WHEEL_AMBER_ATTEMPTS} or more"),
            format!("below {}", percent(WHEEL_AMBER_BELOW)),
        ),
        Light::Green if p_now >= MASTERY => (
            "mastered".to_owned(),
            format!("at or above mastery ({})", percent(MASTERY)),
        ),
        Light::Green => (
            format!("under {WHEEL_AMBER_ATTEMPTS}: still early"),
            format!("below mastery ({})", percent(MASTERY)),
        ),
    };
    let factors = vec![
        factor(
            "attempts on the skill",
            attempts.to_string(),
            attempts_note,
            light,
        ),
        factor(
            "predicted chance of success now",
            percent(p_now),
            p_note,
            light,
        ),
    ];
    Flag::new(
        FlagKind::WheelSpinning,
        Subject::LearnerSkill {
            learner: learner.to_owned(),
            skill: skill.to_owned(),
        },
        factors,
    )
}

// ---- At risk ----

/// Days without activity at which a learner is amber.
pub const INACTIVE_AMBER_DAYS: u32 = 3;
/// ... and red.
pub const INACTIVE_RED_DAYS: u32 = 7;
/// Velocity has dropped when this week's passes fall below this share of the
/// weekly average over the three weeks before.
pub const VELOCITY_DROP: f64 = 0.5;
/// The weekly average a learner needs before a drop means anything: going from
/// 0.3 passes a week to 0 is noise.
pub const VELOCITY_MIN_AVERAGE: f64 = 1.0;

/// A learner's recent activity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Whole days since they last did anything.
    pub days_inactive: u32,
    /// Nodes passed in the last 7 days.
    pub passes_last_week: u32,
    /// Nodes passed in the 21 days before those.
    pub passes_previous_three_weeks: u32,
}

/// Whether a learner is at risk: inactive, or slowing down, or both.
pub fn at_risk(learner: &str, activity: &Activity) -> Flag {
    let days = activity.days_inactive;
    let inactive = if days >= INACTIVE_RED_DAYS {
        Light::Red
    } else if days >= INACTIVE_AMBER_DAYS {
        Light::Amber
    } else {
        Light::Green
    };
    let average = f64::from(activity.passes_previous_three_weeks) / 3.0;
    let dropped = average >= VELOCITY_MIN_AVERAGE
        && f64::from(activity.passes_last_week) < VELOCITY_DROP * average;
    // Slowing down and gone quiet together is the pattern that precedes quitting.
    let velocity = match (dropped, inactive) {
        (false, _) => Light::Green,
        (true, Light::Green) => Light::Amber,
        (true, _) => Light::Red,
    };
    let factors = vec![
        factor(
            "days inactive",
            days.to_string(),
            match inactive {
                Light::Red => format!("{INACTIVE_RED_DAYS} or more"),
                Light::Amber => format!("{INACTIVE_AMBER_DAYS} or more"),
                Light::Green => format!("under {INACTIVE_AMBER_DAYS}"),
            },
            inactive,
        ),
        factor(
            "nodes passed in the last 7 days",
            activity.passes_last_week.to_string(),
            if dropped {
                format!("below half the weekly average of {average:.1} before")
            } else if average < VELOCITY_MIN_AVERAGE {
                format!("too little before to compare (under {VELOCITY_MIN_AVERAGE} a week)")
            } else {
                format!("at least half the weekly average of {average:.1} before")
            },
            velocity,
        ),
        factor(
            "weekly passes in the 3 weeks before",
            format!("{average:.1}"),
            "the pace to compare with".to_owned(),
            Light::Green,
        ),
    ];
    Flag::new(
        FlagKind::AtRisk,
        Subject::Learner {
            learner: learner.to_owned(),
        },
        factors,
    )
}

#[cfg(test)]
mod tests;
