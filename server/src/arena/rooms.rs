//! The battles this instance's sockets follow: a copy of each one's state,
//! kept by applying its deltas as they are published, and the sockets to relay
//! them to.
//!
//! Following a battle here (rather than asking its owner) means a socket that
//! connects or reconnects is caught up without a round trip: from the recent
//! deltas, which mirror the tail of the battle's Redis log (the same length),
//! or with a snapshot of the copy when the log no longer reaches back far
//! enough. The copy is checked with the same `apply` and hash as the browser's,
//! so an instance that missed a delta notices and reloads from the log.
//!
//! Each delta is encoded once per instance, not once per socket: sockets get an
//! `Arc` of the message with its frames built on first use. A socket whose
//! outbox is full misses the delta and is marked lagged; its loop then tells it
//! to resync, and nothing else waits for it.

use super::{Shared, log, store};
use axum::extract::ws::{Message, Utf8Bytes};
use eduscale_core::battle::{ApplyError, BattleState, Delta, apply};
use eduscale_core::protocol::{self, Encoding, Frame, ServerMsg};
use fred::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

/// A message for many sockets, encoded at most once per encoding.
#[derive(Debug)]
pub struct Outgoing {
    /// The message.
    pub msg: ServerMsg,
    binary: OnceLock<fred::bytes::Bytes>,
    json: OnceLock<Utf8Bytes>,
}

impl Outgoing {
    /// Wraps `msg`.
    pub fn new(msg: ServerMsg) -> Arc<Outgoing> {
        Arc::new(Outgoing {
            msg,
            binary: OnceLock::new(),
            json: OnceLock::new(),
        })
    }

    /// The WebSocket message for a socket speaking `encoding`.
    pub fn message(&self, encoding: Encoding) -> Message {
        match encoding {
            Encoding::Binary => Message::Binary(
                self.binary
                    .get_or_init(|| match protocol::encode(&self.msg, encoding) {
                        Frame::Binary(b) => b.into(),
                        Frame::Text(t) => t.into_bytes().into(),
                    })
                    .clone(),
            ),
            Encoding::Json => Message::Text(
                self.json
                    .get_or_init(|| match protocol::encode(&self.msg, encoding) {
                        Frame::Text(t) => t.into(),
                        Frame::Binary(_) => Utf8Bytes::default(),
                    })
                    .clone(),
            ),
        }
    }
}

/// Where one socket's battle messages go.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// The connection's id on this instance.
    pub conn: u64,
    /// Who is connected.
    pub user: Uuid,
    /// Its queue (bounded).
    pub tx: mpsc::Sender<Arc<Outgoing>>,
    /// Set when a message did not fit: the socket must resync.
    pub lagged: Arc<AtomicBool>,
}

impl Outbox {
    fn offer(&self, msg: &Arc<Outgoing>) {
        if self.tx.try_send(msg.clone()).is_err() {
            self.lagged.store(true, Ordering::Relaxed);
        }
    }
}

enum Follower {
    /// Being loaded; deltas that arrive meanwhile wait here.
    Loading(Vec<Delta>),
    /// In step.
    Ready {
        state: Box<BattleState>,
        recent: VecDeque<Arc<Delta>>,
    },
}

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
                Follower::Loading(_) => false,
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
                Follower::Loading(_) => false,
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
            Follower::Loading(_) => Vec::new(),
        };
        let mine = room.watchers.iter().filter(|w| w.user == user).count() as u32;
        let spectators = room
            .watchers
            .iter()
            .filter(|w| !players.contains(&w.user.to_string()))
            .count() as u32;
        (mine, spectators)
    }

    fn on_delta(&self, shared: &Arc<Shared>, delta: Delta) {
        let battle = delta.battle;
        let mut map = self.lock();
        let Some(room) = map.get_mut(&battle) else {
            return;
        };
        match &mut room.follower {
            Follower::Loading(pending) => pending.push(delta),
            Follower::Ready { state, recent } => match apply(state, &delta) {
                Ok(()) => {
                    let delta = Arc::new(delta);
                    recent.push_back(delta.clone());
                    while recent.len() > log::LOG_LEN as usize {
                        recent.pop_front();
                    }
                    let msg = Outgoing::new(ServerMsg::BattleDelta((*delta).clone()));
                    for watcher in &room.watchers {
                        watcher.offer(&msg);
                    }
                }
                Err(ApplyError::Duplicate { .. }) => {}
                Err(e) => {
                    tracing::warn!(battle, error = %e, "this instance's copy of a battle is out of step; reloading");
                    room.follower = Follower::Loading(vec![delta]);
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
        let mut left = Vec::new();
        for (id, room) in map.iter_mut() {
            if battle.is_some_and(|b| b != *id) {
                continue;
            }
            let before = room.watchers.len();
            room.watchers.retain(|w| w.conn != conn);
            if room.watchers.len() != before
                && let Follower::Ready { state, .. } = &room.follower
                && !state.is_finished()
            {
                left.push((*id, state.player_index(&who).is_some()));
            }
        }
        // Forget battles nobody here follows any more.
        map.retain(|_, room| {
            !room.watchers.is_empty() || matches!(room.follower, Follower::Loading(_))
        });
        left
    }

    /// Whether this instance's copy of `battle` is finished.
    pub(crate) fn is_finished(&self, battle: u64) -> bool {
        self.lock()
            .get(&battle)
            .is_some_and(|room| match &room.follower {
                Follower::Ready { state, .. } => state.is_finished(),
                Follower::Loading(_) => false,
            })
    }
}

/// Loads (or reloads) this instance's copy of `battle` from PostgreSQL and the
/// log, then applies what arrived meanwhile.
async fn load(shared: &Arc<Shared>, battle: u64) -> Result<(), WatchError> {
    let unavailable = |e: &dyn std::fmt::Display| WatchError::Unavailable(e.to_string());
    let Some(row) = store::find(&shared.db, battle)
        .await
        .map_err(|e| unavailable(&e))?
    else {
        shared.rooms.lock().remove(&battle);
        return Err(WatchError::Unknown);
    };
    let mut state = store::fresh_state(&row);
    let mut recent = VecDeque::new();
    let stored = store::deltas_after(&shared.db, battle, 0)
        .await
        .map_err(|e| unavailable(&e))?;
    let (logged, _) = log::read_after(&shared.redis, battle, 0)
        .await
        .map_err(|e| unavailable(&e))?;
    for delta in stored.into_iter().chain(logged) {
        match apply(&mut state, &delta) {
            Ok(()) => recent.push_back(Arc::new(delta)),
            Err(ApplyError::Duplicate { .. }) => {}
            Err(e) => return Err(unavailable(&e)),
        }
    }
    while recent.len() > log::LOG_LEN as usize {
        recent.pop_front();
    }
    let mut map = shared.rooms.lock();
    let room = map.entry(battle).or_insert_with(|| Room {
        follower: Follower::Loading(Vec::new()),
        public: row.settings.public,
        watchers: Vec::new(),
    });
    room.public = row.settings.public;
    let pending = match std::mem::replace(&mut room.follower, Follower::Loading(Vec::new())) {
        Follower::Loading(pending) => pending,
        Follower::Ready { .. } => Vec::new(),
    };
    for delta in pending {
        match apply(&mut state, &delta) {
            Ok(()) => {
                // Sockets already here missed these while the copy reloaded.
                let msg = Outgoing::new(ServerMsg::BattleDelta(delta.clone()));
                for watcher in &room.watchers {
                    watcher.offer(&msg);
                }
                recent.push_back(Arc::new(delta));
            }
            Err(ApplyError::Duplicate { .. }) => {}
            Err(e) => {
                // Published after our read of the log but with a gap: read again.
                map.remove(&battle);
                return Err(unavailable(&e));
            }
        }
    }
    room.follower = Follower::Ready {
        state: Box::new(state),
        recent,
    };
    Ok(())
}

/// Starts following `battle` for `outbox`: what it missed, then every delta.
pub(crate) async fn watch(
    shared: &Arc<Shared>,
    battle: u64,
    have: Option<u64>,
    outbox: Outbox,
    allowed: impl Fn(bool) -> bool,
) -> Result<CatchUp, WatchError> {
    for _ in 0..100 {
        let must_load = {
            let mut map = shared.rooms.lock();
            match map.get_mut(&battle) {
                None => {
                    map.insert(
                        battle,
                        Room {
                            follower: Follower::Loading(Vec::new()),
                            public: false,
                            watchers: Vec::new(),
                        },
                    );
                    true
                }
                Some(room) => match &room.follower {
                    Follower::Loading(_) => false,
                    Follower::Ready { state, recent } => {
                        if !allowed(room.public) {
                            return Err(WatchError::Forbidden);
                        }
                        let catch_up = catch_up(state, recent, have);
                        // Watching again (after a gap or a resync) replaces the
                        // socket's entry: a second one would deliver every delta
                        // twice and count a spectator twice.
                        room.watchers.retain(|w| w.conn != outbox.conn);
                        room.watchers.push(outbox);
                        return Ok(catch_up);
                    }
                },
            }
        };
        if must_load {
            if let Err(e) = load(shared, battle).await {
                shared.rooms.lock().remove(&battle);
                return Err(e);
            }
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    Err(WatchError::Unavailable("loading took too long".into()))
}

fn catch_up(state: &BattleState, recent: &VecDeque<Arc<Delta>>, have: Option<u64>) -> CatchUp {
    match have {
        Some(h) if h == state.seq => CatchUp::Nothing,
        Some(h) if h < state.seq && recent.front().is_some_and(|d| d.seq <= h + 1) => {
            CatchUp::Deltas(recent.iter().filter(|d| d.seq > h).cloned().collect())
        }
        _ => CatchUp::Snapshot(Box::new(state.clone())),
    }
}

/// Relays every published delta to the rooms that follow its battle.
pub(crate) async fn relay(shared: &Arc<Shared>) -> Result<(), fred::error::Error> {
    let channel = log::deltas_channel(&shared.redis.prefix);
    let mut messages = shared.redis.subscriber.message_rx();
    shared.redis.subscriber.subscribe(channel.clone()).await?;
    let weak: Weak<Shared> = Arc::downgrade(shared);
    tokio::spawn(async move {
        loop {
            let received = messages.recv().await;
            let Some(shared) = weak.upgrade() else { break };
            match received {
                Ok(message) if *message.channel == *channel => {
                    let Some(bytes) = message.value.as_bytes() else {
                        continue;
                    };
                    match postcard::from_bytes::<Delta>(bytes) {
                        Ok(delta) => shared.rooms.on_delta(&shared, delta),
                        Err(e) => tracing::warn!(error = %e, "unreadable battle delta"),
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // The copies notice the gap at their next delta and reload.
                    tracing::warn!(missed, "the battle relay fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Ok(())
}
