//! A battle's single writer: the one task, on the instance holding the
//! battle's lease, that decides every change.
//!
//! In: [`Mail`]: players' moves and presence (local or forwarded), and the
//! verdicts of the judging it started. Out: deltas, appended to the log and
//! published (fenced), stored in PostgreSQL; private answers to players through
//! the hub. One loop over an event `select!`: mail and the clock. The lease is
//! renewed by the instance's keeper ([`lease::keep_renewing`]), which mails the
//! actor [`Mail::Fenced`] if a successor took over.
//! Any failure to write (fenced out, Redis down) ends the actor at once; the
//! next instance to take the lease rebuilds from the log, so a half-done step
//! is never built upon. A stopped actor hands the moves still in its mailbox
//! to whoever takes the battle next, in order, and, when fenced out, also the
//! one a fenced write refused. They used to be dropped: in arena bench runs
//! stalled past the lease, players then had 19 and 127 later edits refused as
//! misplaced.

mod judging;
mod mailbox;
mod phases;

pub(crate) use mailbox::{Inbox, Mailbox};

use judging::Queued;

use super::lease;
use super::problems::Loaded;
use super::route::Input;
use super::store::{self, BattleRow, PendingDelta, StoreError};
use super::{Shared, log, ranking};
use eduscale_core::battle::{BattleState, Command, Delta, Phase, Refusal, apply};
use eduscale_core::code::Language;
use eduscale_core::protocol::{PlayerAction, ServerMsg};
use fred::bytes::Bytes;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::{Instant, sleep_until};
use uuid::Uuid;

/// What an actor hears.
#[derive(Debug)]
pub enum Mail {
    /// From a socket, here or forwarded. Boxed: a mailbox sets aside room for
    /// 32 mails as soon as it is made, and every battle has one.
    Input(Box<Input>),
    /// A submission's verdict.
    Judged {
        /// The stored submission.
        submission: i64,
        /// Whose.
        user: Uuid,
        /// When it arrived.
        received_ms: u64,
        /// Hidden tests passed, and in all.
        hidden: Option<(u16, u16)>,
    },
    /// A run of the visible tests finished.
    Ran {
        /// Whose.
        user: Uuid,
        /// Visible tests passed (none if the runner failed).
        passed: Option<u16>,
    },
    /// The lease keeper found another owner's epoch current: stop.
    Fenced,
}

/// Why an actor stopped.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("fenced out: another instance owns the battle")]
    Fenced,
    #[error("the log refused the delta out of order")]
    OutOfOrder,
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("lease: {0}")]
    Lease(#[from] lease::LeaseError),
    #[error("rebuild: {0}")]
    Rebuild(String),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Fenced => Stop::Fenced,
            StoreError::Db(e) => Stop::Db(e),
        }
    }
}

/// The milliseconds since the Unix epoch: the battle clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Tries to take `battle` and start its actor here. `Ok(false)`: another
/// instance holds it (or is taking it).
pub(crate) async fn take(shared: &Arc<Shared>, battle: u64) -> Result<bool, TakeError> {
    let Some(row) = store::find(&shared.db, battle).await? else {
        return Err(TakeError::Unknown);
    };
    if shared.actors().contains_key(&battle) {
        return Ok(true);
    }
    let Some(owned) = lease::acquire(shared, battle).await? else {
        return Ok(false);
    };
    let (tx, rx) = mailbox::mailbox(512);
    let raced = {
        let mut actors = shared.actors();
        let raced = actors.contains_key(&battle);
        if !raced {
            actors.insert(battle, tx.clone());
        }
        raced
    };
    if raced {
        lease::let_go(shared, battle, &owned).await;
        return Ok(true);
    }
    let epoch = owned.epoch;
    shared.held.hold(battle, owned, tx.clone());
    tokio::spawn(run(shared.clone(), row, epoch, tx, rx));
    Ok(true)
}

/// Why a battle could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    /// No such battle.
    #[error("no such battle")]
    Unknown,
    /// PostgreSQL failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The lease could not be taken.
    #[error(transparent)]
    Lease(#[from] lease::LeaseError),
}

fn run(
    shared: Arc<Shared>,
    row: BattleRow,
    epoch: i64,
    me: Mailbox,
    mut rx: Inbox,
) -> impl Future<Output = ()> {
    let battle = row.id;
    // The task lives as long as the battle, so every resting battle carries its
    // future: everything but the loop itself is boxed (an inline future is as
    // large as its largest step, and the rebuild and the settling hold
    // PostgreSQL queries), and nothing is held twice. An `async fn` keeps its
    // arguments as passed and as moved into its body, and a `match` on the
    // awaited actor kept the value matched beside the actor moved out of it:
    // 1.5 KB a battle, where it is now a few hundred bytes and the boxed actor.
    let rebuild = Box::pin(Actor::rebuild(shared.clone(), row, epoch, me.clone()));
    async move {
        let span = tracing::info_span!("battle", battle, epoch);
        let _ = span.enter();
        let rebuilt = rebuild.await.map(Box::new);
        let (ended, unplayed, served) = match rebuilt {
            Ok(mut actor) => {
                tracing::info!(battle, epoch, seq = actor.state.seq, "took the battle");
                let ended = actor.serve(&mut rx).await;
                (ended, actor.unplayed.take(), true)
            }
            Err(e) => (Err(e), None, false),
        };
        let leftovers = rx.close();
        Box::pin(lease::release(&shared, battle, epoch)).await;
        match &ended {
            Ok(()) => tracing::debug!(battle, "battle actor done"),
            Err(Stop::Fenced) => {
                // Every refused write of an owner whose lease was taken over ends here.
                metrics::counter!("arena_fenced_writes_total").increment(1);
                tracing::warn!(battle, epoch, "battle actor fenced out; standing down")
            }
            Err(e) => tracing::warn!(battle, epoch, error = %e, "battle actor stopped"),
        }
        {
            let mut actors = shared.actors();
            if actors.get(&battle).is_some_and(|tx| tx.same(&me)) {
                actors.remove(&battle);
            }
        }
        // The moves still in the mailbox were never tried, so after a failure
        // they go to whoever holds the battle next: the successor that fenced
        // this owner out, or, after any other failure, this instance again,
        // taking the released battle afresh (rebuilt from the log). The move
        // being played goes too only when a fence refused its write; after
        // any other failure its write may have happened. Nothing is handed on
        // when the battle ended (it takes no moves) or could not be rebuilt
        // (taking it again would fail the same way).
        match ended {
            Err(Stop::Fenced) => Box::pin(hand_on(&shared, battle, unplayed, leftovers)).await,
            Err(_) if served => Box::pin(hand_on(&shared, battle, None, leftovers)).await,
            Ok(()) | Err(_) => drop(leftovers),
        }
    }
}

/// Whether a move can be played again by the next owner after a write of it
/// was refused as fenced: every move but a run or a submission makes one
/// delta, so a refused one did nothing. A submission is stored before its
/// delta, so playing it again could count it twice; a run could run twice.
fn hand_on_safe(input: &Input) -> bool {
    !matches!(
        input,
        Input::Play {
            action: PlayerAction::Run | PlayerAction::Submit,
            ..
        }
    )
}

/// Delivers what a stopped actor left, in order, to whoever owns the
/// battle now; then lets the senders its mailbox refused meanwhile go on.
async fn hand_on(
    shared: &Arc<Shared>,
    battle: u64,
    unplayed: Option<Input>,
    mut leftovers: mailbox::Leftovers,
) {
    let waiting = std::mem::take(&mut leftovers.mail);
    let waiting = waiting.into_iter().filter_map(|mail| match mail {
        Mail::Input(input) => Some(*input),
        // The next owner judges the pending submissions itself, and a run's
        // result has already been sent to its player.
        Mail::Judged { .. } | Mail::Ran { .. } | Mail::Fenced => None,
    });
    let moves: Vec<Input> = unplayed.into_iter().chain(waiting).collect();
    if !moves.is_empty() {
        metrics::counter!("arena_moves_handed_on_total").increment(moves.len() as u64);
        tracing::info!(
            battle,
            moves = moves.len(),
            "handing on the moves the stopped owner left"
        );
    }
    for input in moves {
        let delivered = super::route::deliver_erased(shared, battle, input).await;
        if let Err(e) = delivered {
            tracing::warn!(battle, error = %e, "a move the stopped owner left was dropped");
        }
    }
    drop(leftovers);
}

struct Actor {
    shared: Arc<Shared>,
    state: BattleState,
    /// The fencing token every durable write names.
    epoch: i64,
    me: Mailbox,
    problem: Option<Arc<Loaded>>,
    /// Sockets per (player, instance): a player is away when all are zero.
    presence: HashMap<(Uuid, Uuid), u32>,
    /// Spectating sockets per instance.
    watchers: HashMap<Uuid, u32>,
    /// Players with a run of the visible tests going.
    running: HashSet<Uuid>,
    /// Each player's submissions waiting to be judged, in the order received;
    /// one per player is judged at a time, so a flood of submissions is a
    /// queue here and not a flood of the runner.
    queued: HashMap<Uuid, VecDeque<Queued>>,
    /// Players with a submission being judged.
    judging: HashSet<Uuid>,
    /// When the battle finished and was settled, to linger a while after.
    settled_at: Option<Instant>,
    /// When the clock was last checked (battle clock, ms).
    checked_at_ms: u64,
    /// The move being played, while it is, if handing it on is safe should a
    /// write refuse it as fenced (see [`hand_on_safe`]).
    unplayed: Option<Input>,
}

/// How long an owner keeps a finished battle (late submissions, spectators).
const LINGER: Duration = Duration::from_secs(30);
/// How soon an owner checks the clock again when a deadline's step failed.
const RETRY: Duration = Duration::from_millis(250);

impl Actor {
    async fn rebuild(
        shared: Arc<Shared>,
        row: BattleRow,
        epoch: i64,
        me: Mailbox,
    ) -> Result<Actor, Stop> {
        let battle = row.id;
        let mut state = store::fresh_state(&row);
        let stored = store::deltas_after(&shared.db, battle, 0).await?;
        for delta in &stored {
            apply(&mut state, delta)
                .map_err(|e| Stop::Rebuild(format!("stored delta {}: {e}", delta.seq)))?;
        }
        let (logged, _) = log::read_after(&shared.redis, battle, state.seq).await?;
        for delta in &logged {
            apply(&mut state, delta)
                .map_err(|e| Stop::Rebuild(format!("logged delta {}: {e}", delta.seq)))?;
            // The old owner may not have stored these; store them under our epoch.
            let _ = shared
                .store_tx
                .send(PendingDelta {
                    battle,
                    seq: delta.seq,
                    bytes: postcard::to_allocvec(delta).unwrap_or_default(),
                    epoch,
                })
                .await;
        }
        if !log::set_seq(&shared.redis, battle, epoch, state.seq).await? {
            return Err(Stop::Fenced);
        }
        let mut actor = Actor {
            shared,
            state,
            epoch,
            me,
            problem: None,
            presence: HashMap::new(),
            watchers: HashMap::new(),
            running: HashSet::new(),
            queued: HashMap::new(),
            judging: HashSet::new(),
            settled_at: None,
            checked_at_ms: 0,
            unplayed: None,
        };
        actor.resume().await?;
        Ok(actor)
    }

    /// Picks up where a previous owner left off: the problem, pending
    /// submissions, an unsettled finish.
    async fn resume(&mut self) -> Result<(), Stop> {
        if self.state.problem.is_some()
            && let Some(challenge) = store::challenge_of(&self.shared.db, self.state.id).await?
        {
            self.problem = self.load(challenge).await?;
        }
        // What a previous owner received but never judged: in the order received.
        for pending in store::pending_submissions(&self.shared.db, self.state.id).await? {
            let language = Language::from_id(&pending.language).unwrap_or(Language::Python);
            self.queued
                .entry(pending.user)
                .or_default()
                .push_back(Queued {
                    submission: pending.id,
                    language,
                    source: pending.source,
                    received_ms: pending.received_ms,
                });
        }
        let waiting: Vec<Uuid> = self.queued.keys().copied().collect();
        for user in waiting {
            self.pump(user).await?;
        }
        if self.state.is_finished() {
            self.settle().await?;
        }
        Ok(())
    }

    async fn load(&self, challenge: Uuid) -> Result<Option<Arc<Loaded>>, Stop> {
        Ok(self.shared.problems.get(&self.shared.db, challenge).await?)
    }

    async fn serve(&mut self, rx: &mut Inbox) -> Result<(), Stop> {
        loop {
            tokio::select! {
                // Boxed: thousands of actors rest between events, and the
                // handlers' futures are large.
                mail = rx.recv() => {
                    self.unplayed = match &mail {
                        Mail::Input(input) if hand_on_safe(input) => Some((**input).clone()),
                        _ => None,
                    };
                    Box::pin(self.on_mail(mail)).await?;
                    self.unplayed = None;
                }
                () = sleep_until(self.next_check()) => Box::pin(self.on_tick()).await?,
            }
            if self.state.is_finished() && self.settled_at.is_none() {
                Box::pin(self.settle()).await?;
            }
            if self.settled_at.is_some_and(|at| {
                at.elapsed() > LINGER && self.running.is_empty() && self.judging.is_empty()
            }) {
                return Ok(());
            }
        }
    }

    /// When to look at the clock next: at the battle's next deadline (a
    /// little after, so that the wall clock has surely passed it), and at least
    /// every `config.tick`. Thousands of battles that wait for their players
    /// then cost no wake-ups; ticking every 250 ms cost 10,000 a second per
    /// instance at 10,000 sockets.
    fn next_check(&self) -> Instant {
        let most = self.shared.config.tick;
        let wait = match self.state.next_deadline_ms() {
            None => most,
            // Checked since it fell due, and still due: what the check had to do
            // failed (a countdown with no problem to reveal). Again in a while,
            // not in a spin.
            Some(due) if due <= self.checked_at_ms => RETRY.min(most),
            Some(due) => {
                Duration::from_millis(due.saturating_sub(now_ms()).saturating_add(1)).min(most)
            }
        };
        Instant::now() + wait
    }

    async fn on_tick(&mut self) -> Result<(), Stop> {
        let now = now_ms();
        self.checked_at_ms = now;
        match self.state.phase {
            Phase::Countdown { starts_at_ms } if now >= starts_at_ms => self.reveal(now).await,
            Phase::Lobby | Phase::Countdown { .. } | Phase::Running { .. } => {
                self.commit(&Command::Tick { now_ms: now }).await.map(drop)
            }
            Phase::Finished { .. } => Ok(()),
        }
    }

    /// Decides `cmd`; publishes the delta if it changed anything. (A finish is
    /// settled by the loop, after the event.)
    async fn commit(&mut self, cmd: &Command) -> Result<Result<(), Refusal>, Stop> {
        match self.state.advance(cmd) {
            Ok(Some(delta)) => {
                self.publish(&delta).await?;
                Ok(Ok(()))
            }
            Ok(None) => Ok(Ok(())),
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    async fn publish(&self, delta: &Delta) -> Result<(), Stop> {
        let bytes = postcard::to_allocvec(delta).unwrap_or_default();
        let appended = self
            .shared
            .appender
            .append(log::Entry {
                epoch: self.epoch,
                battle: delta.battle,
                seq: delta.seq,
                encoded: Bytes::from(bytes.clone()),
            })
            .await?;
        match appended {
            log::Appended::Done => {}
            log::Appended::Fenced => return Err(Stop::Fenced),
            log::Appended::OutOfOrder => return Err(Stop::OutOfOrder),
        }
        metrics::counter!("arena_deltas_total").increment(1);
        // A full writer applies backpressure here rather than dropping a delta.
        let _ = self
            .shared
            .store_tx
            .send(PendingDelta {
                battle: delta.battle,
                seq: delta.seq,
                bytes,
                epoch: self.epoch,
            })
            .await;
        Ok(())
    }

    async fn tell(&self, user: Uuid, msg: ServerMsg) {
        self.shared.hub.send_to(user, msg).await;
    }

    /// Refuses a move, unless this owner has been fenced out: a refusal writes
    /// nothing, so it is the one decision an owner that missed its successor's
    /// moves could make on a stale state (an edit placed past the end of a
    /// document that grew elsewhere). Then the move goes to the new owner
    /// instead (see [`hand_on`]). Refusals are few, so the check costs little.
    async fn refuse(&self, user: Uuid, refusal: Refusal) -> Result<(), Stop> {
        let battle = self.state.id;
        if !log::is_current(&self.shared.redis, battle, self.epoch).await? {
            return Err(Stop::Fenced);
        }
        self.tell(user, ServerMsg::BattleRefused { battle, refusal })
            .await;
        Ok(())
    }

    async fn on_mail(&mut self, mail: Mail) -> Result<(), Stop> {
        match mail {
            Mail::Input(input) => self.on_input(*input).await,
            Mail::Judged {
                submission,
                user,
                received_ms,
                hidden,
            } => {
                self.judging.remove(&user);
                self.judged(submission, user, received_ms, hidden).await?;
                self.pump(user).await
            }
            Mail::Ran { user, passed } => {
                self.running.remove(&user);
                if let Some(passed) = passed {
                    let cmd = Command::Ran {
                        user: user.to_string(),
                        visible_passed: passed,
                    };
                    if let Err(refusal) = self.commit(&cmd).await? {
                        self.refuse(user, refusal).await?;
                    }
                }
                Ok(())
            }
            Mail::Fenced => Err(Stop::Fenced),
        }
    }

    async fn on_input(&mut self, input: Input) -> Result<(), Stop> {
        match input {
            Input::Play { user, name, action } => self.play(user, name, action).await,
            Input::Presence {
                user,
                instance,
                sockets,
            } => {
                self.presence.insert((user, instance), sockets);
                let total: u32 = self
                    .presence
                    .iter()
                    .filter(|((u, _), _)| *u == user)
                    .map(|(_, n)| n)
                    .sum();
                let cmd = if total == 0 {
                    Command::Away {
                        user: user.to_string(),
                        now_ms: now_ms(),
                    }
                } else {
                    Command::Back {
                        user: user.to_string(),
                    }
                };
                // Presence of someone who is not playing is no one's business.
                let _ = self.commit(&cmd).await?;
                Ok(())
            }
            Input::Watchers { instance, count } => {
                self.watchers.insert(instance, count);
                let count = self.watchers.values().sum();
                self.commit(&Command::Spectators { count }).await.map(drop)
            }
        }
    }

    async fn play(&mut self, user: Uuid, name: String, action: PlayerAction) -> Result<(), Stop> {
        let who = user.to_string();
        let cmd = match action {
            PlayerAction::Join { language } => {
                let rating = store::rating(&self.shared.db, user)
                    .await?
                    .map_or(ranking::START_RATING, |(_, _, shown)| shown);
                Command::Join {
                    user: who,
                    name,
                    language,
                    rating,
                }
            }
            PlayerAction::Leave => Command::Leave {
                user: who,
                now_ms: now_ms(),
            },
            PlayerAction::Ready { ready } => Command::Ready {
                user: who,
                ready,
                now_ms: now_ms(),
            },
            PlayerAction::Edit { edits } => Command::Edit { user: who, edits },
            PlayerAction::Run => return self.run_visible(user).await,
            PlayerAction::Submit => return self.submit(user).await,
        };
        if let Err(refusal) = self.commit(&cmd).await? {
            self.refuse(user, refusal).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::future_size;

    /// Every battle owned here is one such task for its whole life; with its
    /// rare steps inline it was 8.5 KiB (`eduscale bench arena`'s memory per
    /// socket).
    #[test]
    fn a_resting_battle_costs_little_memory() {
        let size = future_size(run);
        assert!(size <= 3 << 10, "the actor's task is {size} bytes");
    }
}
