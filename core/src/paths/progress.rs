//! One learner on one node: what is stored (`Progress`, one `progress` row) and
//! what the learner is shown (`NodeStatus`, computed by `rules::statuses`).
//!
//! Only what the learner did is stored; locked and open are derived, so a change
//! to the path's content changes what is open without rewriting anyone's rows.

use super::graph::UnknownName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a learner stands on a node they have touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Attempted (or opened), not passed yet.
    InProgress,
    /// Passed with a score at or above the node's pass score.
    Passed,
    /// Tested out of by passing a checkpoint that guards it.
    Skipped,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 3] = [Stage::InProgress, Stage::Passed, Stage::Skipped];

    /// The name stored in `progress.stage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::InProgress => "in_progress",
            Stage::Passed => "passed",
            Stage::Skipped => "skipped",
        }
    }
}

impl FromStr for Stage {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownName::new("stage", s))
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A learner's record on one node (a `progress` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// In progress, passed or skipped.
    pub stage: Stage,
    /// The best score of any attempt, 0..=100 (0 before the first).
    pub best_score: u8,
    /// Attempts made.
    pub attempts: u32,
    /// Attempts that scored below the node's pass score (never more than `attempts`).
    pub failures: u32,
}

impl Progress {
    /// A record with no attempts yet, in progress.
    pub const UNTRIED: Progress = Progress {
        stage: Stage::InProgress,
        best_score: 0,
        attempts: 0,
        failures: 0,
    };
}

/// What a learner sees on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Its prerequisites are not met yet.
    Locked,
    /// Ready to start, never touched.
    Open,
    /// Started and not passed; the learner may carry on.
    InProgress,
    /// Passed.
    Passed,
    /// Tested out of.
    Skipped,
}

impl NodeStatus {
    /// Every status.
    pub const ALL: [NodeStatus; 5] = [
        NodeStatus::Locked,
        NodeStatus::Open,
        NodeStatus::InProgress,
        NodeStatus::Passed,
        NodeStatus::Skipped,
    ];

    /// The name the statuses query returns and the wire carries.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Locked => "locked",
            NodeStatus::Open => "open",
            NodeStatus::InProgress => "in_progress",
            NodeStatus::Passed => "passed",
            NodeStatus::Skipped => "skipped",
        }
    }

    /// True when the learner may work on the node now (open or in progress).
    pub fn is_available(self) -> bool {
        matches!(self, NodeStatus::Open | NodeStatus::InProgress)
    }
}

impl FromStr for NodeStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownName::new("node status", s))
    }
}

impl fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_and_status_names_match_serde_and_parse_back() {
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>().unwrap(), stage);
            assert_eq!(
                serde_json::to_string(&stage).unwrap(),
                format!("\"{stage}\"")
            );
        }
        for status in NodeStatus::ALL {
            assert_eq!(status.as_str().parse::<NodeStatus>().unwrap(), status);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{status}\"")
            );
        }
        assert!("done".parse::<Stage>().is_err());
    }
}
