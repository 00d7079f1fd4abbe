//! Getting a move to its battle's owner, wherever it is, and following battles
//! from sockets.
//!
//! A move for a battle this instance owns goes straight to its actor's mailbox.
//! Otherwise the owner key in Redis names the instance that does, and the move
//! is published on that instance's own channel. With no owner (never taken, or
//! the owner died and its lease ran out), this instance takes the battle. The
//! watchdog does the same for battles its sockets follow, so a battle whose
//! owner died goes on (its clock, its countdown) even when nobody moves.

use super::rooms::{self, CatchUp, Outbox, WatchError};
use super::{Arena, Shared, actor, log};
use eduscale_core::protocol::PlayerAction;
use fred::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
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

#[derive(Debug, Serialize, Deserialize)]
struct Forward {
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

/// Delivers `input` to `battle`'s owner, taking the battle if nobody owns it.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    battle: u64,
    input: Input,
) -> Result<(), PlayError> {
    for attempt in 0..20u64 {
        let local = shared.actors().get(&battle).cloned();
        if let Some(tx) = local {
            if tx.send(actor::Mail::Input(input.clone())).await.is_ok() {
                return Ok(());
            }
            // The actor just stopped; find the new owner.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        match log::owner(&shared.redis, battle).await {
            Ok(Some(owner)) if owner != shared.instance => {
                let payload = serde_json::to_string(&Forward { battle, input })
                    .map_err(|_| PlayError::Unavailable)?;
                let channel = log::instance_channel(&shared.redis.prefix, owner);
                // One connection per battle: Redis keeps the order of what one
                // connection publishes, so a player's edits reach the owner before
                // the submission that follows them.
                let clients = shared.redis.pool.clients();
                let client = &clients[battle as usize % clients.len().max(1)];
                let sent: Result<i64, _> = client.publish(channel, payload).await;
                return sent.map(drop).map_err(|_| PlayError::Unavailable);
            }
            Ok(_) => {}
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

/// Listens on this instance's channel for moves forwarded to battles it owns.
pub(crate) async fn listen(shared: &Arc<Shared>) -> Result<(), fred::error::Error> {
    let channel = log::instance_channel(&shared.redis.prefix, shared.instance);
    let mut messages = shared.redis.subscriber.message_rx();
    shared.redis.subscriber.subscribe(channel.clone()).await?;
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        loop {
            let received = messages.recv().await;
            let Some(shared) = weak.upgrade() else { break };
            match received {
                Ok(message) if *message.channel == *channel => {
                    let text: Option<String> = message.value.convert().ok();
                    let Some(forward) = text.and_then(|t| serde_json::from_str::<Forward>(&t).ok())
                    else {
                        tracing::warn!("unreadable forwarded battle move");
                        continue;
                    };
                    // In order, on this task: moves must reach the owner in the
                    // order they were made (a full mailbox holds the rest back).
                    if let Err(e) = deliver(&shared, forward.battle, forward.input).await {
                        tracing::debug!(battle = forward.battle, error = %e, "forwarded move dropped");
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "forwarded battle moves were missed");
                }
                Err(broadcast::error::RecvError::Closed) => break,
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
        for battle in shared.rooms.live() {
            if shared.actors().contains_key(&battle) {
                continue;
            }
            if let Ok(None) = log::owner(&shared.redis, battle).await
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
        deliver(&self.shared, battle, input).await?;
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
            if let Err(e) = deliver(&self.shared, battle, input).await {
                tracing::debug!(battle, error = %e, "presence not delivered");
            }
        }
    }
}
