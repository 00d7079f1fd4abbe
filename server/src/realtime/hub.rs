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
//! Locally each learner has a bounded broadcast channel; a socket that falls
//! behind gets `Lagged`, which the socket loop turns into a resync, so a slow
//! tab never holds up another.

use crate::redis::{Heard, Redis};
use eduscale_core::protocol::ServerMsg;
use fred::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Messages one learner's sockets on this instance may fall behind by.
const PER_LEARNER_BUFFER: usize = 16;

/// The realtime relay of this instance. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    /// std Mutex: held only to look up or insert, never across an await.
    locals: Mutex<HashMap<Uuid, broadcast::Sender<Arc<ServerMsg>>>>,
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
                            Some(envelope) => relay.deliver(envelope.user, Arc::new(envelope.msg)),
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

    /// A receiver of `user`'s messages on this instance.
    pub fn subscribe(&self, user: Uuid) -> broadcast::Receiver<Arc<ServerMsg>> {
        let mut locals = self.locals();
        locals
            .entry(user)
            .or_insert_with(|| broadcast::channel(PER_LEARNER_BUFFER).0)
            .subscribe()
    }

    /// Forgets `user`'s channel once no socket here listens to it any more.
    pub fn release(&self, user: Uuid) {
        let mut locals = self.locals();
        if locals.get(&user).is_some_and(|s| s.receiver_count() == 0) {
            locals.remove(&user);
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
            self.deliver(user, Arc::new(msg));
        }
    }

    fn deliver(&self, user: Uuid, msg: Arc<ServerMsg>) {
        if let Some(sender) = self.locals().get(&user) {
            // No receiver left is fine: the socket just closed.
            let _ = sender.send(msg);
        }
    }

    fn resync_all(&self) {
        let msg = Arc::new(ServerMsg::Resync {
            reason: "the server missed messages".into(),
        });
        for sender in self.locals().values() {
            let _ = sender.send(msg.clone());
        }
    }

    fn locals(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Uuid, broadcast::Sender<Arc<ServerMsg>>>> {
        // A panic while holding this lock leaves the map itself intact.
        self.inner
            .locals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
