//! Getting a move to its battle's owner, wherever it is, and following battles
//! from sockets.
//!
//! A move for a battle this instance owns goes straight to its actor's mailbox.
//! Otherwise the owner key in Redis names the instance that does (remembered
//! for a while, see [`Owners`]), and the move is published, in postcard, on
//! that instance's own channel, with the other moves waiting for the same
//! owner (see `forwarder`). With no owner (never taken, or
//! the owner died and its lease ran out), this instance takes the battle. The
//! watchdog does the same for battles its sockets follow, so a battle whose
//! owner died goes on (its clock, its countdown) even when nobody moves.

use super::rooms::{self, CatchUp, WatchError};
use super::{Arena, Outbox, Shared, actor, log};
use crate::redis::Heard;
use eduscale_core::protocol::PlayerAction;
use fred::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

/// What sockets send a battle's owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Input {
    /// A player's move.
    Play {
        /// Who (authenticated at the socket).
        user: Uuid,
        /// Their display name.
        name: String,
        /// The move.
        action: PlayerAction,
    },
    /// How many sockets `user` has on `instance` following the battle.
    Presence {
        /// Who.
        user: Uuid,
        /// Where.
        instance: Uuid,
        /// How many.
        sockets: u32,
    },
    /// How many spectators' sockets `instance` has on the battle.
    Watchers {
        /// Where.
        instance: Uuid,
        /// How many.
        count: u32,
    },
}

/// A move on its way to its battle's owner.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Forward {
    battle: u64,
    input: Input,
}

/// Why a move could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// No such battle.
    #[error("no such battle")]
    UnknownBattle,
    /// Not allowed (a private battle that is not theirs).
    #[error("this battle is private")]
    Forbidden,
    /// No owner could be reached or made.
    #[error("the battle is not reachable right now; try again")]
    Unavailable,
}

impl From<WatchError> for PlayError {
    fn from(e: WatchError) -> Self {
        match e {
            WatchError::Unknown => PlayError::UnknownBattle,
            WatchError::Forbidden => PlayError::Forbidden,
            WatchError::Unavailable(_) => PlayError::Unavailable,
        }
    }
}

/// Where a move's owner is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The owner this instance last reached for the battle, if it still
    /// remembers one: a move from a local socket.
    Remembered,
    /// Redis, always: a move forwarded here for a battle this instance does not
    /// own. (Two instances each remembering the other would pass it back and
    /// forth.)
    Fresh,
}

/// Which instance owns each battle, as this instance last reached it.
///
/// A forwarded move then costs one publish instead of a lookup and a publish.
/// An entry that went stale costs a hop, never a move: a publish nobody hears
/// (the owner is gone) is retried after a fresh lookup, and an instance that
/// is sent a move for a battle it no longer owns looks up the owner afresh and
/// forwards it on. Entries last a lease's TTL, so a new owner is found soon
/// whatever happens.
#[derive(Default)]
pub(crate) struct Owners {
    /// std Mutex: never held across an await.
    map: Mutex<HashMap<u64, (Uuid, Instant)>>,
}

impl Owners {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Uuid, Instant)>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, battle: u64) -> Option<Uuid> {
        let map = self.lock();
        let (owner, until) = map.get(&battle)?;
        (Instant::now() < *until).then_some(*owner)
    }

    fn remember(&self, battle: u64, owner: Uuid, ttl: Duration) {
        let now = Instant::now();
        let mut map = self.lock();
        // Battles end: drop what has expired before the map grows large.
        if map.len() >= 4_096 && !map.contains_key(&battle) {
            map.retain(|_, (_, until)| *until > now);
        }
        map.insert(battle, (owner, now + ttl));
    }

    fn forget(&self, battle: u64) {
        self.lock().remove(&battle);
    }
}

/// [`deliver`] with a fresh lookup, as a future of a type that names nothing
/// of the actor's: an actor that stopped hands its moves on with it, and
/// delivering may take the battle, which spawns an actor, whose future would
/// then have to contain itself.
pub(crate) fn deliver_erased(
    shared: &Arc<Shared>,
    battle: u64,
    input: Input,
) -> std::pin::Pin<Box<dyn Future<Output = Result<(), PlayError>> + Send + '_>> {
    Box::pin(deliver(shared, battle, input, Lookup::Fresh))
}

/// Delivers `input` to `battle`'s owner, taking the battle if nobody owns it.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    battle: u64,
    input: Input,
    lookup: Lookup,
) -> Result<(), PlayError> {
    let mut lookup = lookup;
    for attempt in 0..20u64 {
        let local = shared.actors().get(&battle).cloned();
        if let Some(tx) = local {
            if tx
                .send(actor::Mail::Input(Box::new(input.clone())))
                .await
                .is_ok()
            {
                return Ok(());
            }
            // The actor just stopped; find the new owner.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let remembered = match lookup {
            Lookup::Remembered => shared.owners.get(battle),
            Lookup::Fresh => None,
        };
        let owner = match remembered {
            Some(owner) => Ok(Some(owner)),
            None => log::owner(&shared.redis, battle).await,
        };
        match owner {
            Ok(Some(owner)) if owner != shared.instance => {
                let forward = Forward {
                    battle,
                    input: input.clone(),
                };
                let heard = shared
                    .forwarder
                    .forward(owner, forward)
                    .await
                    .map_err(|_| PlayError::Unavailable)?;
                if heard > 0 {
                    shared
                        .owners
                        .remember(battle, owner, shared.config.lease_ttl);
                    return Ok(());
                }
                // Nobody heard it: the owner is gone. Ask Redis who is now, and
                // once its owner key has lapsed, take the battle.
                shared.owners.forget(battle);
                if remembered.is_none() {
                    tokio::time::sleep(Duration::from_millis(25 * (attempt + 1))).await;
                }
                lookup = Lookup::Fresh;
                continue;
            }
            Ok(_) => shared.owners.forget(battle),
            Err(_) => return Err(PlayError::Unavailable),
        }
        match actor::take(shared, battle).await {
            Ok(true) => continue,
            Ok(false) => tokio::time::sleep(Duration::from_millis(25 * (attempt + 1))).await,
            Err(actor::TakeError::Unknown) => return Err(PlayError::UnknownBattle),
            Err(e) => {
                tracing::warn!(battle, error = %e, "could not take a battle");
                return Err(PlayError::Unavailable);
            }
        }
    }
    Err(PlayError::Unavailable)
}

/// Forwarded moves waiting for their battle's owner here: a busy battle holds
/// the ones behind it back, while the subscriber's reader goes on.
const FORWARDED_QUEUE: usize = 65_536;

/// Listens on this instance's channel for moves forwarded to battles it owns.
pub(crate) async fn listen(shared: &Arc<Shared>) -> Result<(), fred::error::Error> {
    let channel = log::instance_channel(&shared.redis.prefix, shared.instance);
    let (tx, mut rx) = mpsc::channel::<Forward>(FORWARDED_QUEUE);
    shared
        .redis
        .listen(channel, move |heard| match heard {
            Heard::Message(value) => {
                // The moves one instance forwarded here together, in order.
                let Some(forwards) = value
                    .as_bytes()
                    .and_then(|b| postcard::from_bytes::<Vec<Forward>>(b).ok())
                else {
                    tracing::warn!("unreadable forwarded battle moves");
                    return;
                };
                for forward in forwards {
                    if let Err(mpsc::error::TrySendError::Full(forward)) = tx.try_send(forward) {
                        tracing::warn!(
                            battle = forward.battle,
                            "forwarded battle moves are {FORWARDED_QUEUE} behind; dropped one"
                        );
                    }
                }
            }
            Heard::Missed(missed) => tracing::warn!(missed, "forwarded battle moves were missed"),
        })
        .await?;
    // Weak: the queue's sender lives in `shared.redis`; this task ends with it.
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        while let Some(forward) = rx.recv().await {
            let Some(shared) = weak.upgrade() else { break };
            // In order, on this task: moves must reach the owner in the order
            // they were made (a full mailbox holds the rest back).
            if let Err(e) = deliver(&shared, forward.battle, forward.input, Lookup::Fresh).await {
                tracing::warn!(battle = forward.battle, error = %e, "forwarded move dropped");
            }
        }
    });
    Ok(())
}

/// Takes over battles followed here whose owner is gone.
pub(crate) async fn watchdog(weak: Weak<Shared>) {
    loop {
        let every = match weak.upgrade() {
            Some(shared) => shared.config.lease_ttl / 2,
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(shared) = weak.upgrade() else { return };
        let mut followed = shared.rooms.live();
        followed.retain(|battle| !shared.actors().contains_key(battle));
        // One MGET per thousand battles, not a GET each.
        let owners = match log::owners(&shared.redis, &followed).await {
            Ok(owners) => owners,
            Err(e) => {
                tracing::debug!(error = %e, "watchdog could not read the owner keys");
                continue;
            }
        };
        for (battle, owner) in followed.into_iter().zip(owners) {
            if owner.is_none()
                && let Err(e) = actor::take(&shared, battle).await
            {
                tracing::debug!(battle, error = %e, "watchdog could not take a battle");
            }
        }
    }
}

fn invited_key(shared: &Shared, battle: u64) -> String {
    shared
        .redis
        .prefix
        .key(&format!("arena:battle:{battle}:invited"))
}

impl Arena {
    /// Lets `user` into a private battle (they know its code).
    pub async fn invite(&self, battle: u64, user: Uuid) -> Result<(), fred::error::Error> {
        let key = invited_key(&self.shared, battle);
        let pool = &self.shared.redis.pool;
        let _: i64 = pool.sadd(&key, user.to_string()).await?;
        let _: bool = pool.expire(&key, 7 * 24 * 3600, None).await?;
        Ok(())
    }

    pub(crate) async fn may_enter(&self, battle: u64, user: Uuid) -> bool {
        if self.shared.rooms.is_player(battle, user) {
            return true;
        }
        let key = invited_key(&self.shared, battle);
        self.shared
            .redis
            .pool
            .sismember(key, user.to_string())
            .await
            .unwrap_or(false)
    }

    /// A player's move, from a socket of `user` (authenticated) on this instance.
    pub async fn play(
        &self,
        battle: u64,
        user: Uuid,
        name: &str,
        action: PlayerAction,
    ) -> Result<(), PlayError> {
        if matches!(action, PlayerAction::Join { .. }) {
            let public = super::store::find(&self.shared.db, battle)
                .await
                .map_err(|_| PlayError::Unavailable)?
                .ok_or(PlayError::UnknownBattle)?
                .settings
                .public;
            if !public && !self.may_enter(battle, user).await {
                return Err(PlayError::Forbidden);
            }
        }
        let joined = matches!(action, PlayerAction::Join { .. });
        let input = Input::Play {
            user,
            name: name.to_owned(),
            action,
        };
        deliver(&self.shared, battle, input, Lookup::Remembered).await?;
        if joined {
            // Their sockets here now count as a player's, not a spectator's.
            self.report(battle, user, true).await;
        }
        Ok(())
    }

    /// Starts relaying `battle` to `outbox`; returns what the socket missed.
    pub async fn watch(
        &self,
        battle: u64,
        have: Option<u64>,
        outbox: Outbox,
    ) -> Result<CatchUp, PlayError> {
        let user = outbox.user;
        let invited = self.may_enter(battle, user).await;
        let catch_up = rooms::watch(&self.shared, battle, have, outbox, |public| {
            public || invited
        })
        .await?;
        if !self.shared.rooms.is_finished(battle) {
            let player = self.shared.rooms.is_player(battle, user);
            self.report(battle, user, player).await;
        }
        Ok(catch_up)
    }

    /// Stops relaying `battle` (every battle if `None`) to connection `conn`.
    pub async fn unwatch(&self, conn: u64, user: Uuid, battle: Option<u64>) {
        for (left, player) in self.shared.rooms.remove(conn, user, battle) {
            self.report(left, user, player).await;
        }
    }

    /// Tells the owner how many sockets `user` and the spectators have here.
    async fn report(&self, battle: u64, user: Uuid, player: bool) {
        let (mine, spectators) = self.shared.rooms.counts(battle, user);
        let instance = self.shared.instance;
        let mut inputs = vec![Input::Watchers {
            instance,
            count: spectators,
        }];
        if player {
            inputs.push(Input::Presence {
                user,
                instance,
                sockets: mine,
            });
        }
        for input in inputs {
            if let Err(e) = deliver(&self.shared, battle, input, Lookup::Remembered).await {
                tracing::debug!(battle, error = %e, "presence not delivered");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_owner_lasts_its_ttl_and_can_be_forgotten() {
        let owners = Owners::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        owners.remember(1, a, Duration::from_secs(60));
        owners.remember(2, b, Duration::ZERO);
        assert_eq!(owners.get(1), Some(a));
        assert_eq!(owners.get(2), None, "an expired entry is looked up afresh");
        owners.forget(1);
        assert_eq!(owners.get(1), None);
    }

    #[test]
    fn a_forwarded_move_survives_the_trip() {
        let forward = Forward {
            battle: 7,
            input: Input::Play {
                user: Uuid::new_v4(),
                name: "Ada".into(),
                action: PlayerAction::Edit {
                    edits: vec![eduscale_core::battle::TextEdit {
                        at: 3,
                        delete: 1,
                        insert: "é\n".into(),
                    }],
                },
            },
        };
        let bytes = postcard::to_allocvec(&forward).expect("encodes");
        let back: Forward = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(format!("{back:?}"), format!("{forward:?}"));
    }
}
