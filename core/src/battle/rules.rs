//! The rules: what each [`Command`] does to a battle, decided by its single
//! writer and turned into a [`Delta`].
//!
//! Scoring, in short. A duel is won by the first submission judged to pass every
//! hidden test: the writer takes verdicts one at a time, so whichever it scores
//! first closes the battle and any later one is [`Refusal::TooLate`]. A group
//! ranks by solve time (when the passing submission was received), then hidden
//! tests, then visible tests, then fewer attempts, then who joined first: a total
//! order, so no two players ever share a place. Nothing changes once finished.

use super::delta::{Delta, Op, apply_ops};
use super::state::{BattleState, FinishReason, Mode, Phase, Player, Problem, Standing};
use super::text::{TextEdit, TextError};
use super::{MAX_PLAYERS, StateHash};
use crate::code::{Language, MAX_SOURCE_BYTES};
use serde::{Deserialize, Serialize};

/// Something that should change a battle. `now_ms` is the writer's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// A user joins the lobby.
    Join {
        /// Who.
        user: String,
        /// Shown as.
        name: String,
        /// Writes in.
        language: Language,
        /// Rating now.
        rating: i32,
    },
    /// A player leaves (forfeits if the battle is on).
    Leave {
        /// Who.
        user: String,
        /// When.
        now_ms: u64,
    },
    /// A player is ready (or not); everyone ready starts the countdown.
    Ready {
        /// Who.
        user: String,
        /// Ready?
        ready: bool,
        /// When.
        now_ms: u64,
    },
    /// A player's last socket closed.
    Away {
        /// Who.
        user: String,
        /// When.
        now_ms: u64,
    },
    /// A player is connected again.
    Back {
        /// Who.
        user: String,
    },
    /// The countdown is over: reveal the problem and start the clock.
    Reveal {
        /// The problem.
        problem: Problem,
        /// When.
        now_ms: u64,
    },
    /// The clock: time up, and players away past the grace period.
    Tick {
        /// When.
        now_ms: u64,
    },
    /// A player typed.
    Edit {
        /// Who.
        user: String,
        /// The changes, in order.
        edits: Vec<TextEdit>,
    },
    /// A player's run of the visible tests finished.
    Ran {
        /// Who.
        user: String,
        /// Visible tests passed.
        visible_passed: u16,
    },
    /// A submission was judged on the hidden tests.
    Judged {
        /// Who.
        user: String,
        /// Hidden tests passed.
        hidden_passed: u16,
        /// When the submission reached the server.
        received_at_ms: u64,
        /// When it is scored.
        now_ms: u64,
    },
    /// The number of spectators changed.
    Spectators {
        /// How many now.
        count: u32,
    },
    /// Ratings after the battle, by user.
    Rate {
        /// (user, new rating).
        ratings: Vec<(String, i32)>,
    },
}

/// Why a command changed nothing. Each says what the player is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// "You are not playing in this battle."
    #[error("you are not playing in this battle")]
    NotAPlayer,
    /// "You are already in this battle."
    #[error("you are already in this battle")]
    AlreadyJoined,
    /// "The battle is full."
    #[error("the battle is full")]
    Full,
    /// "Not now: the battle is {phase}."
    #[error("not now: the battle is {0}")]
    WrongPhase(String),
    /// "Too late: the battle is over." (The submission is kept; it counts for nothing.)
    #[error("too late: the battle is over")]
    TooLate,
    /// "You are out of this battle."
    #[error("you are out of this battle")]
    Forfeited,
    /// "Your last run or submission is still being judged."
    #[error("your last run or submission is still being judged")]
    Busy,
    /// "That edit does not fit your code: ..."
    #[error("that edit does not fit your code: {0}")]
    BadEdit(String),
}

impl BattleState {
    /// Decides `cmd` and, if it changes anything, applies it and returns the
    /// delta for everyone else (the writer's side of [`super::apply`]).
    pub fn advance(&mut self, cmd: &Command) -> Result<Option<Delta>, Refusal> {
        let mut change = Change {
            state: self,
            ops: Vec::new(),
        };
        change.decide(cmd)?;
        let Change { state, ops } = change;
        if ops.is_empty() {
            return Ok(None);
        }
        state.seq += 1;
        Ok(Some(Delta {
            battle: state.id,
            seq: state.seq,
            ops,
            state_hash: StateHash::of(state),
        }))
    }

    /// The first moment (battle clock, ms) at which a [`Command::Tick`] can
    /// change anything: the countdown's end, the time limit, or an away
    /// player's grace running out. Before it a tick is a no-op, so the writer
    /// sleeps until then instead of ticking on a timer. `None`: nothing is due
    /// until something else happens.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        let phase = match self.phase {
            Phase::Lobby => None,
            Phase::Countdown { starts_at_ms } => Some(starts_at_ms),
            Phase::Running { ends_at_ms, .. } => Some(ends_at_ms),
            Phase::Finished { .. } => return None,
        };
        let grace = self.settings.grace_ms;
        let forfeit = self
            .players
            .iter()
            .filter(|p| !p.forfeited)
            .filter_map(|p| p.away_since_ms)
            .map(|since| since.saturating_add(grace))
            .min();
        phase.into_iter().chain(forfeit).min()
    }
}

/// Ops being decided, each applied as it is pushed so that later rules see it.
struct Change<'a> {
    state: &'a mut BattleState,
    ops: Vec<Op>,
}

impl Change<'_> {
    fn push(&mut self, op: Op) {
        // The rules check every op before pushing it; one that did not fit
        // would be a bug here, and `apply` on a client would report it.
        if let Err(e) = apply_ops(self.state, std::slice::from_ref(&op)) {
            debug_assert!(false, "the rules produced an op that does not fit: {e}");
        }
        self.ops.push(op);
    }

    fn player(&self, user: &str) -> Result<(u8, &Player), Refusal> {
        let index = self.state.player_index(user).ok_or(Refusal::NotAPlayer)?;
        // At most MAX_PLAYERS, so the index fits.
        Ok((index as u8, &self.state.players[index]))
    }

    fn active_player(&self, user: &str) -> Result<u8, Refusal> {
        let (index, player) = self.player(user)?;
        if player.forfeited {
            return Err(Refusal::Forfeited);
        }
        Ok(index)
    }

    fn wrong_phase(&self) -> Refusal {
        Refusal::WrongPhase(
            match self.state.phase {
                Phase::Lobby => "in its lobby",
                Phase::Countdown { .. } => "counting down",
                Phase::Running { .. } => "running",
                Phase::Finished { .. } => "over",
            }
            .into(),
        )
    }

    fn decide(&mut self, cmd: &Command) -> Result<(), Refusal> {
        match cmd {
            Command::Join {
                user,
                name,
                language,
                rating,
            } => {
                if self.state.phase != Phase::Lobby {
                    return Err(self.wrong_phase());
                }
                if self.state.player_index(user).is_some() {
                    return Err(Refusal::AlreadyJoined);
                }
                if self.state.players.len()
                    >= usize::from(self.state.settings.capacity.min(MAX_PLAYERS))
                {
                    return Err(Refusal::Full);
                }
                self.push(Op::Join(Player::new(
                    user.clone(),
                    name.clone(),
                    *language,
                    *rating,
                )));
            }
            Command::Leave { user, now_ms } => {
                let (player, _) = self.player(user)?;
                match self.state.phase {
                    Phase::Lobby => self.push(Op::Leave { player }),
                    Phase::Countdown { .. } => {
                        self.push(Op::Leave { player });
                        self.push(Op::Phase(Phase::Lobby));
                    }
                    Phase::Running { .. } => {
                        self.active_player(user)?;
                        self.push(Op::Forfeit { player });
                        self.restand();
                        self.maybe_finish(*now_ms);
                    }
                    Phase::Finished { .. } => return Err(self.wrong_phase()),
                }
            }
            Command::Ready {
                user,
                ready,
                now_ms,
            } => {
                let (player, current) = self.player(user)?;
                let was = current.ready;
                match self.state.phase {
                    Phase::Lobby | Phase::Countdown { .. } if was == *ready => {}
                    Phase::Lobby => {
                        self.push(Op::Ready {
                            player,
                            ready: *ready,
                        });
                        let players = &self.state.players;
                        if players.len() >= 2 && players.iter().all(|p| p.ready) {
                            let starts_at_ms = now_ms + self.state.settings.countdown_ms;
                            self.push(Op::Phase(Phase::Countdown { starts_at_ms }));
                        }
                    }
                    Phase::Countdown { .. } => {
                        self.push(Op::Ready {
                            player,
                            ready: false,
                        });
                        self.push(Op::Phase(Phase::Lobby));
                    }
                    _ => return Err(self.wrong_phase()),
                }
            }
            Command::Away { user, now_ms } => {
                let (player, current) = self.player(user)?;
                if current.away_since_ms.is_none() && !self.state.is_finished() {
                    self.push(Op::Away {
                        player,
                        since_ms: Some(*now_ms),
                    });
                }
            }
            Command::Back { user } => {
                let (player, current) = self.player(user)?;
                if current.away_since_ms.is_some() {
                    self.push(Op::Away {
                        player,
                        since_ms: None,
                    });
                }
            }
            Command::Reveal { problem, now_ms } => match self.state.phase {
                Phase::Countdown { starts_at_ms } if *now_ms >= starts_at_ms => {
                    self.push(Op::Reveal(problem.clone()));
                    self.push(Op::Phase(Phase::Running {
                        started_at_ms: *now_ms,
                        ends_at_ms: now_ms + self.state.settings.duration_ms,
                    }));
                    self.restand();
                }
                Phase::Countdown { .. } => {
                    return Err(Refusal::WrongPhase("still counting down".into()));
                }
                _ => return Err(self.wrong_phase()),
            },
            Command::Tick { now_ms } => self.tick(*now_ms),
            Command::Edit { user, edits } => {
                if !matches!(self.state.phase, Phase::Running { .. }) {
                    return Err(self.wrong_phase());
                }
                let player = self.active_player(user)?;
                // Check the whole batch first, so it applies entirely or not at all.
                let mut doc = self.state.players[usize::from(player)].code.clone();
                for edit in edits {
                    edit.apply(&mut doc, MAX_SOURCE_BYTES)
                        .map_err(|e: TextError| Refusal::BadEdit(e.to_string()))?;
                }
                for edit in edits {
                    self.push(Op::Edit {
                        player,
                        edit: edit.clone(),
                    });
                }
            }
            Command::Ran {
                user,
                visible_passed,
            } => {
                if !matches!(self.state.phase, Phase::Running { .. }) {
                    return Err(self.wrong_phase());
                }
                let player = self.active_player(user)?;
                let visible = self.state.problem.as_ref().map_or(0, |p| p.visible);
                let passed = (*visible_passed).min(visible);
                if self.state.players[usize::from(player)].visible_passed != passed {
                    self.push(Op::Visible { player, passed });
                    self.restand();
                }
            }
            Command::Judged {
                user,
                hidden_passed,
                received_at_ms,
                now_ms,
            } => self.judged(user, *hidden_passed, *received_at_ms, *now_ms)?,
            Command::Spectators { count } => {
                if self.state.spectators != *count {
                    self.push(Op::Spectators(*count));
                }
            }
            Command::Rate { ratings } => {
                if !self.state.is_finished() {
                    return Err(self.wrong_phase());
                }
                for (user, rating) in ratings {
                    let (player, current) = self.player(user)?;
                    if current.rating_after != Some(*rating) {
                        self.push(Op::Rated {
                            player,
                            rating: *rating,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn judged(
        &mut self,
        user: &str,
        hidden_passed: u16,
        received_at_ms: u64,
        now_ms: u64,
    ) -> Result<(), Refusal> {
        let (started_at_ms, ends_at_ms) = match self.state.phase {
            Phase::Running {
                started_at_ms,
                ends_at_ms,
            } => (started_at_ms, ends_at_ms),
            Phase::Finished { .. } => return Err(Refusal::TooLate),
            _ => return Err(self.wrong_phase()),
        };
        if received_at_ms >= ends_at_ms {
            return Err(Refusal::TooLate);
        }
        let player = self.active_player(user)?;
        let hidden = self.state.problem.as_ref().map_or(0, |p| p.hidden);
        let current = &self.state.players[usize::from(player)];
        let passed = hidden_passed.min(hidden);
        let already_solved = current.solved_ms.is_some();
        self.push(Op::Judged {
            player,
            hidden_passed: current.hidden_passed.max(passed),
            attempts: current.attempts.saturating_add(1),
        });
        if passed == hidden && hidden > 0 && !already_solved {
            self.push(Op::Solved {
                player,
                at_ms: received_at_ms.saturating_sub(started_at_ms),
            });
        }
        self.restand();
        self.maybe_finish(now_ms);
        Ok(())
    }

    fn tick(&mut self, now_ms: u64) {
        let grace = self.state.settings.grace_ms;
        let overdue = |p: &Player| {
            !p.forfeited && p.away_since_ms.is_some_and(|since| now_ms >= since + grace)
        };
        match self.state.phase {
            Phase::Lobby | Phase::Countdown { .. } => {
                // Remove from the back so earlier indices stay valid.
                let gone: Vec<usize> = (0..self.state.players.len())
                    .rev()
                    .filter(|&i| overdue(&self.state.players[i]))
                    .collect();
                for &i in &gone {
                    self.push(Op::Leave { player: i as u8 });
                }
                if !gone.is_empty() && matches!(self.state.phase, Phase::Countdown { .. }) {
                    self.push(Op::Phase(Phase::Lobby));
                }
            }
            Phase::Running { ends_at_ms, .. } => {
                let gone: Vec<usize> = (0..self.state.players.len())
                    .filter(|&i| overdue(&self.state.players[i]))
                    .collect();
                for &i in &gone {
                    self.push(Op::Forfeit { player: i as u8 });
                }
                if !gone.is_empty() {
                    self.restand();
                }
                if now_ms >= ends_at_ms {
                    self.finish(ends_at_ms, FinishReason::TimeUp);
                } else {
                    self.maybe_finish(now_ms);
                }
            }
            Phase::Finished { .. } => {}
        }
    }

    /// Closes the battle if its rules say it is decided.
    fn maybe_finish(&mut self, now_ms: u64) {
        if !matches!(self.state.phase, Phase::Running { .. }) {
            return;
        }
        let players = &self.state.players;
        let active: Vec<&Player> = players.iter().filter(|p| !p.forfeited).collect();
        let reason = if active.len() <= 1 && players.len() >= 2 {
            Some(FinishReason::Forfeit)
        } else {
            match self.state.settings.mode {
                Mode::Duel if players.iter().any(|p| p.solved_ms.is_some()) => {
                    Some(FinishReason::Solved)
                }
                Mode::Group
                    if !active.is_empty() && active.iter().all(|p| p.solved_ms.is_some()) =>
                {
                    Some(FinishReason::Solved)
                }
                _ => None,
            }
        };
        if let Some(reason) = reason {
            self.finish(now_ms, reason);
        }
    }

    fn finish(&mut self, at_ms: u64, reason: FinishReason) {
        self.restand();
        self.push(Op::Phase(Phase::Finished { at_ms, reason }));
    }

    /// Pushes a standing for every player whose place or score changed.
    fn restand(&mut self) {
        let hidden = self.state.problem.as_ref().map_or(0, |p| p.hidden);
        let ranking = self.state.ranking();
        for (place, index) in ranking.into_iter().enumerate() {
            let p = &self.state.players[index];
            let standing = Standing {
                rank: place as u16 + 1,
                score: if hidden == 0 {
                    0
                } else {
                    (u32::from(p.hidden_passed) * 100 / u32::from(hidden)) as u16
                },
            };
            if p.standing != standing {
                self.push(Op::Standing {
                    player: index as u8,
                    standing,
                });
            }
        }
    }
}
