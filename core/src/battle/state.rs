//! What a battle is at one moment: its settings, phase, problem, players and
//! spectators. Everything here is in the hash, so nothing here may depend on
//! iteration order (no maps) or on anything but the deltas applied.

use crate::code::Language;
use serde::{Deserialize, Serialize};

/// The most players a group battle takes.
pub const MAX_PLAYERS: u8 = 12;

/// 1v1 or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Two players; the first to pass every hidden test wins.
    Duel,
    /// Up to [`MAX_PLAYERS`]; ranked by solve time, then tests passed.
    Group,
}

/// How a battle is played, fixed when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// 1v1 or group.
    pub mode: Mode,
    /// Most players (2 for a duel).
    pub capacity: u8,
    /// Listed in the lobby and open to spectators.
    pub public: bool,
    /// From everyone ready to the problem revealed.
    pub countdown_ms: u64,
    /// From the problem revealed to time up.
    pub duration_ms: u64,
    /// A player away longer than this while running forfeits.
    pub grace_ms: u64,
}

impl Settings {
    /// The usual settings for `mode`.
    pub fn standard(mode: Mode, public: bool) -> Settings {
        Settings {
            mode,
            capacity: match mode {
                Mode::Duel => 2,
                Mode::Group => MAX_PLAYERS,
            },
            public,
            countdown_ms: 5_000,
            duration_ms: 15 * 60_000,
            grace_ms: 30_000,
        }
    }
}

/// Where a battle is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Players join and get ready.
    Lobby,
    /// Everyone is ready; the problem is revealed at `starts_at_ms`.
    Countdown {
        /// When the problem is revealed.
        starts_at_ms: u64,
    },
    /// The problem is out; submissions count.
    Running {
        /// When the problem was revealed.
        started_at_ms: u64,
        /// Time up.
        ends_at_ms: u64,
    },
    /// Over: the standings are final.
    Finished {
        /// When it closed; a submission received later is too late.
        at_ms: u64,
        /// Why it closed.
        reason: FinishReason,
    },
}

/// Why a battle closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Someone solved it (a duel), or everyone still in did (a group).
    Solved,
    /// The clock ran out.
    TimeUp,
    /// Too few players were left.
    Forfeit,
}

/// The problem, revealed when the countdown ends (never before: the state is
/// sent to every player).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The challenge's slug (its statement and starter code are fetched by it).
    pub challenge: String,
    /// Its title.
    pub title: String,
    /// Visible test cases (players run them; they do not score).
    pub visible: u16,
    /// Hidden test cases (submissions are judged on them).
    pub hidden: u16,
}

/// One player and how they are doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Player {
    /// The user's id.
    pub user: String,
    /// The name shown.
    pub name: String,
    /// The language they write in.
    pub language: Language,
    /// Rating when they joined (shown in the lobby).
    pub rating: i32,
    /// Ready to start.
    pub ready: bool,
    /// Since when their connection is gone, if it is.
    pub away_since_ms: Option<u64>,
    /// Visible tests passed on their last run.
    pub visible_passed: u16,
    /// Hidden tests passed by their best submission.
    pub hidden_passed: u16,
    /// Submissions judged.
    pub attempts: u16,
    /// Milliseconds from the start to the submission that passed everything.
    pub solved_ms: Option<u64>,
    /// Out of the battle (left while running, or away too long).
    pub forfeited: bool,
    /// Their place and score in the live standings.
    pub standing: Standing,
    /// Their code, as they type it (spectators watch it).
    pub code: String,
    /// Rating after the battle, once it is over and rated.
    pub rating_after: Option<i32>,
}

impl Player {
    /// A player who just joined.
    pub fn new(user: String, name: String, language: Language, rating: i32) -> Player {
        Player {
            user,
            name,
            language,
            rating,
            ready: false,
            away_since_ms: None,
            visible_passed: 0,
            hidden_passed: 0,
            attempts: 0,
            solved_ms: None,
            forfeited: false,
            standing: Standing::default(),
            code: String::new(),
            rating_after: None,
        }
    }
}

/// A place in the standings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// 1 is first; 0 until the battle runs.
    pub rank: u16,
    /// Percent of the hidden tests passed.
    pub score: u16,
}

/// Everything about one battle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleState {
    /// The battle's id.
    pub id: u64,
    /// The seq of the last delta applied (0: none yet).
    pub seq: u64,
    /// How it is played.
    pub settings: Settings,
    /// Where it is.
    pub phase: Phase,
    /// Revealed when it starts.
    pub problem: Option<Problem>,
    /// In the order they joined (the final tie-break).
    pub players: Vec<Player>,
    /// People watching.
    pub spectators: u32,
}

impl BattleState {
    /// A new battle in its lobby, before any delta.
    pub fn new(id: u64, settings: Settings) -> BattleState {
        BattleState {
            id,
            seq: 0,
            settings,
            phase: Phase::Lobby,
            problem: None,
            players: Vec::new(),
            spectators: 0,
        }
    }

    /// The position of `user` among the players.
    pub fn player_index(&self, user: &str) -> Option<usize> {
        self.players.iter().position(|p| p.user == user)
    }

    /// Whether it is over.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished { .. })
    }

    /// The players in standings order (first place first), with their index.
    /// A total order: solved first, earlier solve first, more hidden tests,
    /// more visible tests, fewer attempts, then who joined first; forfeits last.
    pub fn ranking(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.players.len()).collect();
        order.sort_by_key(|&i| {
            let p = &self.players[i];
            (
                p.forfeited,
                p.solved_ms.is_none(),
                p.solved_ms.unwrap_or(u64::MAX),
                std::cmp::Reverse(p.hidden_passed),
                std::cmp::Reverse(p.visible_passed),
                p.attempts,
                i,
            )
        });
        order
    }
}
