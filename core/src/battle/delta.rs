//! Deltas: the numbered, hashed changes that carry a battle from one state to
//! the next, and the one function that applies them.
//!
//! Ops are small (one field, one player, one text edit), never a whole state.
//! The server runs [`apply_ops`] when it decides a change and the client runs
//! it inside [`apply`]: the same code, so the same result.

use super::state::{BattleState, Phase, Player, Problem, Standing};
use super::text::{TextEdit, TextError};
use super::{MAX_PLAYERS, StateHash};
use crate::code::MAX_SOURCE_BYTES;
use serde::{Deserialize, Serialize};

/// One change to a battle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A player joined.
    Join(Player),
    /// A player left the lobby (later players move up one place).
    Leave {
        /// Index.
        player: u8,
    },
    /// A player is ready, or no longer.
    Ready {
        /// Index.
        player: u8,
        /// Ready?
        ready: bool,
    },
    /// A player's connection went away (`Some(since)`) or came back (`None`).
    Away {
        /// Index.
        player: u8,
        /// Since when.
        since_ms: Option<u64>,
    },
    /// The phase changed.
    Phase(Phase),
    /// The problem is revealed.
    Reveal(Problem),
    /// Visible tests passed on the player's last run.
    Visible {
        /// Index.
        player: u8,
        /// Tests passed.
        passed: u16,
    },
    /// A submission was judged.
    Judged {
        /// Index.
        player: u8,
        /// Best hidden tests passed so far.
        hidden_passed: u16,
        /// Submissions judged so far.
        attempts: u16,
    },
    /// The player passed every hidden test, this long after the start.
    Solved {
        /// Index.
        player: u8,
        /// Milliseconds since the start.
        at_ms: u64,
    },
    /// The player is out.
    Forfeit {
        /// Index.
        player: u8,
    },
    /// A player's place in the standings.
    Standing {
        /// Index.
        player: u8,
        /// Place and score.
        standing: Standing,
    },
    /// A player's code changed.
    Edit {
        /// Index.
        player: u8,
        /// The change.
        edit: TextEdit,
    },
    /// How many are watching.
    Spectators(u32),
    /// A player's rating after the battle.
    Rated {
        /// Index.
        player: u8,
        /// The new rating.
        rating: i32,
    },
}

/// The change a battle went through at `seq`, and the hash of its state after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The battle.
    pub battle: u64,
    /// 1 for the first delta, then one more each time.
    pub seq: u64,
    /// What changed, in order.
    pub ops: Vec<Op>,
    /// The hash of the whole state after the ops.
    pub state_hash: StateHash,
}

/// Why a delta was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A delta of another battle.
    #[error("delta for battle {got}, this is battle {expected}")]
    WrongBattle {
        /// This battle.
        expected: u64,
        /// The delta's.
        got: u64,
    },
    /// Already applied (a re-delivery); nothing changed.
    #[error("delta {got} already applied (at {have})")]
    Duplicate {
        /// The state's seq.
        have: u64,
        /// The delta's.
        got: u64,
    },
    /// Deltas were missed: fetch them, or a snapshot.
    #[error("delta {got} after {have}: deltas were missed")]
    Gap {
        /// The state's seq.
        have: u64,
        /// The delta's.
        got: u64,
    },
    /// An op does not fit the state: the state no longer matches the server's.
    #[error("op {index} does not fit: {reason}")]
    BadOp {
        /// Which op.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The result is not the server's state.
    #[error("state hash {got} after delta {seq}, the server's is {expected}")]
    HashMismatch {
        /// The delta's seq.
        seq: u64,
        /// The server's.
        expected: StateHash,
        /// Ours.
        got: StateHash,
    },
}

impl ApplyError {
    /// Whether the state was left untouched (a re-delivery or a gap, which
    /// fetching the missing deltas fixes); otherwise the state must be replaced
    /// by a snapshot.
    pub fn state_intact(&self) -> bool {
        matches!(
            self,
            ApplyError::WrongBattle { .. } | ApplyError::Duplicate { .. } | ApplyError::Gap { .. }
        )
    }
}

/// Applies the server's `delta` to a client's `state` and checks the hash.
///
/// A duplicate, a gap or another battle's delta leaves the state as it was. An
/// op that does not fit, or a hash that differs, leaves the state unusable:
/// replace it with a snapshot ([`ApplyError::state_intact`] tells which).
pub fn apply(state: &mut BattleState, delta: &Delta) -> Result<(), ApplyError> {
    if delta.battle != state.id {
        return Err(ApplyError::WrongBattle {
            expected: state.id,
            got: delta.battle,
        });
    }
    if delta.seq <= state.seq {
        return Err(ApplyError::Duplicate {
            have: state.seq,
            got: delta.seq,
        });
    }
    if delta.seq != state.seq + 1 {
        return Err(ApplyError::Gap {
            have: state.seq,
            got: delta.seq,
        });
    }
    apply_ops(state, &delta.ops)?;
    state.seq = delta.seq;
    let got = StateHash::of(state);
    if got != delta.state_hash {
        return Err(ApplyError::HashMismatch {
            seq: delta.seq,
            expected: delta.state_hash,
            got,
        });
    }
    Ok(())
}

/// Applies `ops` in order (no seq or hash: see [`apply`]).
pub(crate) fn apply_ops(state: &mut BattleState, ops: &[Op]) -> Result<(), ApplyError> {
    for (index, op) in ops.iter().enumerate() {
        apply_op(state, op).map_err(|reason| ApplyError::BadOp { index, reason })?;
    }
    Ok(())
}

fn apply_op(state: &mut BattleState, op: &Op) -> Result<(), String> {
    match op {
        Op::Join(player) => {
            if state.players.len() >= usize::from(state.settings.capacity.min(MAX_PLAYERS)) {
                return Err("the battle is full".into());
            }
            // One more seat, not `Vec`'s doubling: joins are rare, and the
            // server holds each state three times, 5,000 duels over.
            state.players.reserve_exact(1);
            state.players.push(player.clone());
        }
        Op::Leave { player } => {
            player_mut(state, *player)?;
            state.players.remove(usize::from(*player));
        }
        Op::Ready { player, ready } => player_mut(state, *player)?.ready = *ready,
        Op::Away { player, since_ms } => player_mut(state, *player)?.away_since_ms = *since_ms,
        Op::Phase(phase) => state.phase = *phase,
        Op::Reveal(problem) => state.problem = Some(problem.clone()),
        Op::Visible { player, passed } => player_mut(state, *player)?.visible_passed = *passed,
        Op::Judged {
            player,
            hidden_passed,
            attempts,
        } => {
            let p = player_mut(state, *player)?;
            p.hidden_passed = *hidden_passed;
            p.attempts = *attempts;
        }
        Op::Solved { player, at_ms } => player_mut(state, *player)?.solved_ms = Some(*at_ms),
        Op::Forfeit { player } => player_mut(state, *player)?.forfeited = true,
        Op::Standing { player, standing } => player_mut(state, *player)?.standing = *standing,
        Op::Edit { player, edit } => edit
            .apply(&mut player_mut(state, *player)?.code, MAX_SOURCE_BYTES)
            .map_err(|e: TextError| e.to_string())?,
        Op::Spectators(count) => state.spectators = *count,
        Op::Rated { player, rating } => player_mut(state, *player)?.rating_after = Some(*rating),
    }
    Ok(())
}

fn player_mut(state: &mut BattleState, index: u8) -> Result<&mut Player, String> {
    let count = state.players.len();
    state
        .players
        .get_mut(usize::from(index))
        .ok_or_else(|| format!("no player {index} (there are {count})"))
}
