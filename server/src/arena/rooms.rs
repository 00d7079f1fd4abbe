//! The battles this instance's sockets follow: a copy of each one's state,
//! kept by applying its deltas as they are published, and the sockets to relay
//! them to.
//!
//! Following a battle here (rather than asking its owner) means a socket that
//! connects or reconnects is caught up without asking the owner: from the
//! battle's log in Redis when it fell behind, or with a snapshot of the copy
//! when the log no longer reaches back far enough. The copy keeps no deltas of
//! its own: at 10,000 sockets, 32 of them per battle were a sixth of the
//! instances' memory, and a socket that fell behind costs one read of the log.
//! The copy is checked with the same `apply` and hash as the browser's, so an
//! instance that missed a delta notices and catches up.
//!
//! Each delta is encoded once per instance, not once per socket: sockets get an
//! `Arc` of the message with its frames built on first use. A socket whose
//! outbox is full misses the delta and is marked lagged; its loop then tells it
//! to resync, and nothing else waits for it.

use super::{Outbox, Shared, log, store};
use crate::redis::Heard;
use axum::extract::ws::{Message, Utf8Bytes};
use eduscale_core::battle::{ApplyError, BattleState, Delta, apply};
use eduscale_core::protocol::{self, Encoding, Frame, ServerMsg};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use uuid::Uuid;

/// A message for many sockets (a delta, or a message to one learner's
/// sockets), encoded at most once per encoding.
#[derive(Debug)]
pub struct Outgoing {
    body: Body,
    binary: OnceLock<fred::bytes::Bytes>,
    json: OnceLock<Utf8Bytes>,
}

#[derive(Debug)]
enum Body {
    Delta(Arc<Delta>),
    Learner(ServerMsg),
}

impl Outgoing {
    /// Wraps `delta`, whose frames are built on first use.
    pub fn new(delta: Arc<Delta>) -> Arc<Outgoing> {
        Arc::new(Outgoing {
            body: Body::Delta(delta),
            binary: OnceLock::new(),
            json: OnceLock::new(),
        })
    }

    /// Wraps a message to a learner, whose frames are built on first use.
    pub fn learner(msg: ServerMsg) -> Arc<Outgoing> {
        Arc::new(Outgoing {
            body: Body::Learner(msg),
            binary: OnceLock::new(),
            json: OnceLock::new(),
        })
    }

    /// Wraps `delta` as published: `published` is its postcard encoding, which
    /// the binary frame carries as it is.
    fn published(delta: Arc<Delta>, published: &[u8]) -> Arc<Outgoing> {
        Arc::new(Outgoing {
            body: Body::Delta(delta),
            binary: OnceLock::from(fred::bytes::Bytes::from(protocol::delta_frame(published))),
            json: OnceLock::new(),
        })
    }

    /// The delta, if this is one.
    pub fn delta(&self) -> Option<&Delta> {
        match &self.body {
            Body::Delta(delta) => Some(delta),
            Body::Learner(_) => None,
        }
    }

    fn encode(&self, encoding: Encoding) -> Frame {
        match &self.body {
            Body::Delta(delta) => protocol::encode_delta(delta, encoding),
            Body::Learner(msg) => protocol::encode(msg, encoding),
        }
    }

    /// The WebSocket message for a socket speaking `encoding`.
    pub fn message(&self, encoding: Encoding) -> Message {
        match encoding {
            Encoding::Binary => Message::Binary(
                self.binary
                    .get_or_init(|| match self.encode(encoding) {
                        Frame::Binary(b) => b.into(),
                        Frame::Text(t) => t.into_bytes().into(),
                    })
                    .clone(),
            ),
            Encoding::Json => Message::Text(
                self.json
                    .get_or_init(|| match self.encode(encoding) {
                        Frame::Text(t) => t.into(),
                        Frame::Binary(_) => Utf8Bytes::default(),
                    })
                    .clone(),
            ),
        }
    }
}

enum Follower {
    /// Being loaded; deltas that arrive meanwhile wait in `pending`. `stale`
    /// is the copy that fell out of step, if any: the loader first tries to
    /// bring it up to date from the battle's log, which costs one Redis read
    /// instead of reading the whole battle back from PostgreSQL.
    Loading {
        pending: Vec<Delta>,
        stale: Option<Stale>,
    },
    /// In step.
    Ready { state: Box<BattleState> },
}

impl Follower {
    fn loading(pending: Vec<Delta>, stale: Option<Stale>) -> Follower {
        Follower::Loading { pending, stale }
    }
}

/// A copy that missed a delta.
type Stale = Box<BattleState>;

struct Room {
    follower: Follower,
    public: bool,
    watchers: Vec<Outbox>,
}

/// Every followed battle on this instance.
#[derive(Default)]
pub(crate) struct Rooms {
    /// std Mutex: never held across an await.
    map: Mutex<HashMap<u64, Room>>,
    /// The battles each connection follows here, so that a socket that closes
    /// is taken out of its rooms without a walk over every room (10,000
    /// sockets closing at once each walked 5,000 rooms, holding up the relay).
    /// Locked after `map`, never before.
    by_conn: Mutex<HashMap<u64, Vec<u64>>>,
}

/// What a socket gets when it starts following.
#[derive(Debug)]
pub enum CatchUp {
    /// Nothing missed.
    Nothing,
    /// The deltas after what it holds.
    Deltas(Vec<Arc<Delta>>),
    /// The whole state.
    Snapshot(Box<BattleState>),
}

/// Why a socket cannot follow a battle.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// No such battle.
    #[error("no such battle")]
    Unknown,
    /// Private, and not theirs.
    #[error("this battle is private")]
    Forbidden,
    /// Loading failed.
    #[error("the battle could not be loaded: {0}")]
    Unavailable(String),
}

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Room>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The battles followed here that are not finished.
    pub(crate) fn live(&self) -> Vec<u64> {
        self.lock()
            .iter()
            .filter(|(_, room)| match &room.follower {
                Follower::Ready { state, .. } => !state.is_finished(),
                Follower::Loading { .. } => false,
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Whether `user` plays in `battle` (as this instance's copy says).
    pub(crate) fn is_player(&self, battle: u64, user: Uuid) -> bool {
        let who = user.to_string();
        self.lock()
            .get(&battle)
            .is_some_and(|room| match &room.follower {
                Follower::Ready { state, .. } => state.player_index(&who).is_some(),
                Follower::Loading { .. } => false,
            })
    }

    /// `user`'s sockets on `battle` here, and the spectators' sockets.
    pub(crate) fn counts(&self, battle: u64, user: Uuid) -> (u32, u32) {
        let map = self.lock();
        let Some(room) = map.get(&battle) else {
            return (0, 0);
        };
        let players: Vec<String> = match &room.follower {
            Follower::Ready { state, .. } => state.players.iter().map(|p| p.user.clone()).collect(),
            Follower::Loading { .. } => Vec::new(),
        };
        let mine = room.watchers.iter().filter(|w| w.user == user).count() as u32;
        let spectators = room
            .watchers
            .iter()
            .filter(|w| !players.contains(&w.user.to_string()))
            .count() as u32;
        (mine, spectators)
    }

    /// Applies a published delta (`bytes` its encoding) to the copy of its
    /// battle, and offers it to the battle's sockets here.
    fn on_delta(&self, shared: &Arc<Shared>, delta: Delta, bytes: &[u8]) {
        let battle = delta.battle;
        let mut map = self.lock();
        let Some(room) = map.get_mut(&battle) else {
            return;
        };
        match &mut room.follower {
            Follower::Loading { pending, .. } => pending.push(delta),
            Follower::Ready { state } => match apply(state, &delta) {
                Ok(()) => {
                    let msg = Outgoing::published(Arc::new(delta), bytes);
                    for watcher in &room.watchers {
                        watcher.offer(&msg);
                    }
                }
                Err(ApplyError::Duplicate { .. }) => {}
                Err(e) => {
                    if matches!(e, ApplyError::Gap { .. }) {
                        tracing::debug!(battle, error = %e, "this instance's copy of a battle missed a delta; catching up");
                    } else {
                        tracing::warn!(battle, error = %e, "this instance's copy of a battle is out of step; reloading");
                    }
                    let gap = matches!(e, ApplyError::Gap { .. });
                    let stale = match std::mem::replace(
                        &mut room.follower,
                        Follower::loading(Vec::new(), None),
                    ) {
                        // Only a copy that merely fell behind is worth catching up.
                        Follower::Ready { state } if gap => Some(state),
                        _ => None,
                    };
                    room.follower = Follower::loading(vec![delta], stale);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        if let Err(e) = load(&shared, battle).await {
                            tracing::warn!(battle, error = %e, "reloading a battle failed");
                        }
                    });
                }
            },
        }
    }

    /// Stops relaying to connection `conn` in `battle` (every battle if `None`);
    /// returns the live battles it left, each with whether the user plays in it.
    pub(crate) fn remove(&self, conn: u64, user: Uuid, battle: Option<u64>) -> Vec<(u64, bool)> {
        let who = user.to_string();
        let mut map = self.lock();
        let battles = {
            let mut followed = self.conns();
            match battle {
                None => followed.remove(&conn).unwrap_or_default(),
                Some(battle) => {
                    let Some(battles) = followed.get_mut(&conn) else {
                        return Vec::new();
                    };
                    battles.retain(|b| *b != battle);
                    if battles.is_empty() {
                        followed.remove(&conn);
                    }
                    vec![battle]
                }
            }
        };
        let mut left = Vec::new();
        for id in battles {
            let Some(room) = map.get_mut(&id) else {
                continue;
            };
            let before = room.watchers.len();
            room.watchers.retain(|w| w.conn != conn);
            if room.watchers.len() != before
                && let Follower::Ready { state, .. } = &room.follower
                && !state.is_finished()
            {
                left.push((id, state.player_index(&who).is_some()));
            }
            // Forget a battle nobody here follows any more.
            if room.watchers.is_empty() && matches!(room.follower, Follower::Ready { .. }) {
                map.remove(&id);
            }
        }
        left
    }

    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Vec<u64>>> {
        self.by_conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this instance's copy of `battle` is finished.
    pub(crate) fn is_finished(&self, battle: u64) -> bool {
        self.lock()
            .get(&battle)
            .is_some_and(|room| match &room.follower {
                Follower::Ready { state, .. } => state.is_finished(),
                Follower::Loading { .. } => false,
            })
    }
}

/// Loads (or reloads) this instance's copy of `battle`, then applies what
/// arrived meanwhile. A copy that only fell behind is caught up from the log;
/// otherwise it is read back from PostgreSQL and the log.
async fn load(shared: &Arc<Shared>, battle: u64) -> Result<(), WatchError> {
    let stale = match shared.rooms.lock().get_mut(&battle) {
        Some(Room {
            follower: Follower::Loading { stale, .. },
            ..
        }) => stale.take(),
        _ => None,
    };
    let caught_up = match stale {
        Some(stale) => catch_up_from_log(shared, battle, stale).await,
        None => None,
    };
    // The deltas the copy was missing, for the sockets here, which missed them too.
    let (mut state, missed, public) = match caught_up {
        Some((state, missed)) => (state, missed, None),
        None => {
            let (state, public) = read_back(shared, battle).await?;
            (state, Vec::new(), Some(public))
        }
    };
    let mut map = shared.rooms.lock();
    let room = match (map.get_mut(&battle), public) {
        (Some(room), _) => room,
        (None, Some(public)) => map.entry(battle).or_insert(Room {
            follower: Follower::loading(Vec::new(), None),
            public,
            watchers: Vec::new(),
        }),
        // Caught up, but every socket here left meanwhile.
        (None, None) => return Ok(()),
    };
    if let Some(public) = public {
        room.public = public;
    }
    let pending = match std::mem::replace(&mut room.follower, Follower::loading(Vec::new(), None)) {
        Follower::Loading { pending, .. } => pending,
        Follower::Ready { .. } => Vec::new(),
    };
    for delta in missed {
        let msg = Outgoing::new(delta);
        for watcher in &room.watchers {
            watcher.offer(&msg);
        }
    }
    for delta in pending {
        match apply(&mut state, &delta) {
            Ok(()) => {
                // Sockets already here missed these while the copy reloaded.
                let msg = Outgoing::new(Arc::new(delta));
                for watcher in &room.watchers {
                    watcher.offer(&msg);
                }
            }
            Err(ApplyError::Duplicate { .. }) => {}
            Err(e) => {
                // Published after our read of the log but with a gap: read again.
                map.remove(&battle);
                return Err(WatchError::Unavailable(e.to_string()));
            }
        }
    }
    room.follower = Follower::Ready {
        state: Box::new(state),
    };
    Ok(())
}

/// Brings a copy that fell behind up to date from the log: the copy and the
/// deltas it had missed; none if the log no longer reaches back to it.
async fn catch_up_from_log(
    shared: &Shared,
    battle: u64,
    mut state: Stale,
) -> Option<(BattleState, Vec<Arc<Delta>>)> {
    let (deltas, covered) = log::read_after(&shared.redis, battle, state.seq)
        .await
        .ok()?;
    if !covered {
        return None;
    }
    let mut missed = Vec::with_capacity(deltas.len());
    for delta in deltas {
        match apply(&mut state, &delta) {
            Ok(()) => missed.push(Arc::new(delta)),
            Err(ApplyError::Duplicate { .. }) => {}
            Err(_) => return None,
        }
    }
    Some((*state, missed))
}

/// Reads `battle` back from PostgreSQL and the log: its state, and whether it
/// is public.
async fn read_back(shared: &Shared, battle: u64) -> Result<(BattleState, bool), WatchError> {
    let unavailable = |e: &dyn std::fmt::Display| WatchError::Unavailable(e.to_string());
    let Some(row) = store::find(&shared.db, battle)
        .await
        .map_err(|e| unavailable(&e))?
    else {
        shared.rooms.lock().remove(&battle);
        return Err(WatchError::Unknown);
    };
    let mut state = store::fresh_state(&row);
    let stored = store::deltas_after(&shared.db, battle, 0)
        .await
        .map_err(|e| unavailable(&e))?;
    let (logged, _) = log::read_after(&shared.redis, battle, 0)
        .await
        .map_err(|e| unavailable(&e))?;
    for delta in stored.into_iter().chain(logged) {
        match apply(&mut state, &delta) {
            Ok(()) | Err(ApplyError::Duplicate { .. }) => {}
            Err(e) => return Err(unavailable(&e)),
        }
    }
    Ok((state, row.settings.public))
}

/// Starts following `battle` for `outbox`: what it missed, then every delta.
pub(crate) async fn watch(
    shared: &Arc<Shared>,
    battle: u64,
    have: Option<u64>,
    outbox: Outbox,
    allowed: impl Fn(bool) -> bool,
) -> Result<CatchUp, WatchError> {
    let mut outbox = Some(outbox);
    for _ in 0..100 {
        let step = {
            let mut map = shared.rooms.lock();
            match map.get_mut(&battle) {
                None => {
                    map.insert(
                        battle,
                        Room {
                            follower: Follower::loading(Vec::new(), None),
                            public: false,
                            watchers: Vec::new(),
                        },
                    );
                    Step::Load
                }
                Some(room) => match &room.follower {
                    Follower::Loading { .. } => Step::Wait,
                    Follower::Ready { state } => {
                        if !allowed(room.public) {
                            return Err(WatchError::Forbidden);
                        }
                        let plan = plan(state, have);
                        // Watching again (after a gap or a resync) replaces the
                        // socket's entry: a second one would deliver every delta
                        // twice and count a spectator twice.
                        // (Always there: this step ends the loop.)
                        if let Some(outbox) = outbox.take() {
                            room.watchers.retain(|w| w.conn != outbox.conn);
                            let followed = &mut shared.rooms.conns();
                            let battles = followed.entry(outbox.conn).or_default();
                            if !battles.contains(&battle) {
                                crate::push_snug(battles, battle);
                            }
                            crate::push_snug(&mut room.watchers, outbox);
                        }
                        Step::Watching(plan)
                    }
                },
            }
        };
        match step {
            Step::Watching(Plan::Ready(catch_up)) => return Ok(catch_up),
            Step::Watching(Plan::FromLog { after, upto, state }) => {
                return Ok(from_log(shared, battle, after, upto, state).await);
            }
            Step::Load => {
                if let Err(e) = load(shared, battle).await {
                    shared.rooms.lock().remove(&battle);
                    return Err(e);
                }
            }
            Step::Wait => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    Err(WatchError::Unavailable("loading took too long".into()))
}

/// What `watch` found under the lock.
enum Step {
    /// Nobody here follows the battle: load it.
    Load,
    /// Another socket is loading it.
    Wait,
    /// The socket follows it now.
    Watching(Plan),
}

/// How a socket that starts following is caught up.
enum Plan {
    /// From what is at hand.
    Ready(CatchUp),
    /// With the deltas after `after` up to `upto` from the battle's log, or if
    /// the log no longer reaches back so far, with `state` (the copy at `upto`).
    FromLog {
        after: u64,
        upto: u64,
        state: Box<BattleState>,
    },
}

fn plan(state: &BattleState, have: Option<u64>) -> Plan {
    match have {
        Some(h) if h == state.seq => Plan::Ready(CatchUp::Nothing),
        Some(h) if h < state.seq => Plan::FromLog {
            after: h,
            upto: state.seq,
            state: Box::new(state.clone()),
        },
        _ => Plan::Ready(CatchUp::Snapshot(Box::new(state.clone()))),
    }
}

/// The deltas after `after` up to `upto` from the log, when it holds every one
/// of them; otherwise `state`. (Deltas after `upto` are already on their way
/// to the socket.)
async fn from_log(
    shared: &Shared,
    battle: u64,
    after: u64,
    upto: u64,
    state: Box<BattleState>,
) -> CatchUp {
    match log::read_after(&shared.redis, battle, after).await {
        Ok((deltas, true)) => {
            let deltas: Vec<Arc<Delta>> = deltas
                .into_iter()
                .take_while(|d| d.seq <= upto)
                .map(Arc::new)
                .collect();
            let whole =
                deltas.len() as u64 == upto - after && deltas.last().is_some_and(|d| d.seq == upto);
            if whole {
                return CatchUp::Deltas(deltas);
            }
            CatchUp::Snapshot(state)
        }
        Ok((_, false)) => CatchUp::Snapshot(state),
        Err(e) => {
            tracing::debug!(battle, error = %e, "could not read the log; sending a snapshot");
            CatchUp::Snapshot(state)
        }
    }
}

/// Relays every published delta to the rooms that follow its battle.
pub(crate) async fn relay(shared: &Arc<Shared>) -> Result<(), fred::error::Error> {
    let channel = log::deltas_channel(&shared.redis.prefix);
    // Weak: the listener lives in `shared.redis`.
    let weak: Weak<Shared> = Arc::downgrade(shared);
    shared
        .redis
        .listen(channel, move |heard| {
            let Some(shared) = weak.upgrade() else { return };
            match heard {
                Heard::Message(value) => {
                    let Some(message) = value.as_bytes() else {
                        return;
                    };
                    // The deltas one owner appended in one call.
                    for bytes in log::frames(message) {
                        match postcard::from_bytes::<Delta>(bytes) {
                            Ok(delta) => shared.rooms.on_delta(&shared, delta, bytes),
                            Err(e) => tracing::warn!(error = %e, "unreadable battle delta"),
                        }
                    }
                }
                // The copies notice the gap at their next delta and reload.
                Heard::Missed(missed) => tracing::warn!(missed, "the battle relay fell behind"),
            }
        })
        .await
}
