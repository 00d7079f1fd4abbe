//! A coding battle, as both sides hold it: the state, the commands that change
//! it, the deltas that carry each change, and the one [`apply`] the server uses
//! to advance and the browser uses to follow.
//!
//! In: [`Command`]s, decided by the battle's single writer ([`BattleState::advance`]).
//! Out: numbered [`Delta`]s of small [`Op`]s, each carrying the hash of the
//! whole state after it. A client that starts from any snapshot and applies the
//! deltas after it holds the server's state, byte for byte, and proves it on
//! every delta; a delta applied twice, out of order, for another battle or with
//! a hash that does not match is an error, never silently accepted.
//!
//! Time is the server's: every command that depends on it carries `now_ms`
//! (milliseconds since the Unix epoch, read by the writer), so the rules stay
//! pure and a replay gives the same result.

mod delta;
mod hash;
mod rules;
mod state;
mod text;

pub use delta::{ApplyError, Delta, Op, apply};
pub use hash::StateHash;
pub use rules::{Command, Refusal};
pub use state::{
    BattleState, FinishReason, MAX_PLAYERS, Mode, Phase, Player, Problem, Settings, Standing,
};
pub use text::{TextEdit, TextError};

#[cfg(test)]
mod tests;
