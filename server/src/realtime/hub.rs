//! Who is connected to this instance, and getting a message to a learner
//! wherever their sockets are.
//!
//! A message for a learner is published once on Redis (one channel for the
//! deployment, the learner named in the envelope); every instance relays it to
//! the sockets it holds for that learner, and drops it if it holds none. One
//! channel rather than one per learner: instances then never subscribe and
//! unsubscribe as sockets come and go, and the subscriber's
//! `manage_subscriptions` restores the one subscription after a reconnect.
//!
//! Locally the message goes into the outbox of each of the learner's sockets,
//! beside its battle deltas: a socket that falls behind misses messages and is
//! told to resync, so a slow tab never holds up another. (A broadcast channel
//! per learner cost each socket 0.7 KB more at 10,000 sockets, and its loop
//! one more thing to wait on.)

use crate::arena::{Outbox, Outgoing};
use crate::redis::{Heard, Redis};
use eduscale_core::protocol::ServerMsg;
use fred::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The realtime relay of this instance. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    /// std Mutex: held only to look up or insert, never across an await.
    locals: Mutex<HashMap<Uuid, Vec<Outbox>>>,
    redis: Redis,
    channel: String,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    user: Uuid,
    msg: ServerMsg,
}

impl Hub {
    /// Subscribes to the deployment's channel and starts relaying from it.
    pub async fn start(redis: &Redis) -> Result<Hub, fred::error::Error> {
        let channel = redis.prefix.key("realtime:learners");
        let hub = Hub {
            inner: Arc::new(Inner {
                locals: Mutex::new(HashMap::new()),
                redis: redis.clone(),
                channel: channel.clone(),
            }),
        };
        // Weak: the listener lives in `redis`, which the hub holds.
        let relay = Arc::downgrade(&hub.inner);
        let listening = channel.clone();
        redis
            .listen(channel, move |heard| {
                let Some(inner) = relay.upgrade() else { return };
                let relay = Hub { inner };
                match heard {
                    Heard::Message(value) => {
                        let text: Option<String> = value.convert().ok();
                        match text.and_then(|t| serde_json::from_str::<Envelope>(&t).ok()) {
                            Some(envelope) => relay.deliver(envelope.user, envelope.msg),
                            None => tracing::warn!("unreadable realtime message on {listening}"),
                        }
                    }
                    Heard::Missed(missed) => {
                        tracing::warn!(
                            missed,
                            "realtime relay fell behind; asking every local socket to resync"
                        );
                        relay.resync_all();
                    }
                }
            })
            .await?;
        Ok(hub)
    }

    /// Delivers the messages of `outbox.user` here to `outbox` too, until
    /// [`Hub::detach`].
    pub fn attach(&self, outbox: &Outbox) {
        let mut locals = self.locals();
        crate::push_snug(locals.entry(outbox.user).or_default(), outbox.clone());
    }

    /// Stops delivering to `outbox` (its socket closed).
    pub fn detach(&self, outbox: &Outbox) {
        let mut locals = self.locals();
        if let Some(outboxes) = locals.get_mut(&outbox.user) {
            outboxes.retain(|o| o.conn != outbox.conn);
            if outboxes.is_empty() {
                locals.remove(&outbox.user);
            }
        }
    }

    /// Sends `msg` to every socket of `user`, on every instance.
    pub async fn send_to(&self, user: Uuid, msg: ServerMsg) {
        let payload = match serde_json::to_string(&Envelope {
            user,
            msg: msg.clone(),
        }) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a realtime message");
                return;
            }
        };
        let published: Result<i64, _> = self
            .inner
            .redis
            .pool
            .next()
            .publish(&self.inner.channel, payload)
            .await;
        if let Err(e) = published {
            // The learner's own sockets here still hear it; other instances miss it
            // and their clients catch up on their next fetch.
            tracing::warn!(error = %e, "realtime publish failed; delivering locally only");
            self.deliver(user, msg);
        }
    }

    fn deliver(&self, user: Uuid, msg: ServerMsg) {
        if let Some(outboxes) = self.locals().get(&user) {
            let msg = Outgoing::learner(msg);
            for outbox in outboxes {
                outbox.offer(&msg);
            }
        }
    }

    fn resync_all(&self) {
        let msg = Outgoing::learner(ServerMsg::Resync {
            reason: "the server missed messages".into(),
        });
        for outbox in self.locals().values().flatten() {
            outbox.offer(&msg);
        }
    }

    fn locals(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Outbox>>> {
        // A panic while holding this lock leaves the map itself intact.
        self.inner
            .locals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
