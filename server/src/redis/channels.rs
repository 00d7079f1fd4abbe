//! One reader of the subscriber's messages, handing each to the listener of
//! its channel.
//!
//! fred copies every message the subscriber hears to every `message_rx()`
//! receiver. With one receiver per feature, each battle delta woke the
//! learners' relay and the move listener only for them to drop it; and a
//! receiver that awaited (a forwarded move waiting on a busy battle) let the
//! shared broadcast overflow, so that it, and it alone, lost messages (moves by
//! the thousand when 10,000 sockets closed at once). Here one task reads the
//! broadcast and calls the channel's listener, which must not wait: a listener
//! with slow work queues it for a task of its own.

use fred::clients::SubscriberClient;
use fred::prelude::*;
use fred::types::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// What a listener is told.
#[derive(Debug)]
pub enum Heard {
    /// A message on its channel.
    Message(Value),
    /// The reader fell behind and `n` messages, on any channels, were lost.
    Missed(u64),
}

type Listener = Arc<dyn Fn(Heard) + Send + Sync>;

/// The listeners of this process's subscriptions. Cheap to clone.
#[derive(Clone, Default)]
pub struct Channels {
    /// std RwLock: written once per subscription, read per message, never
    /// held across an await.
    listeners: Arc<RwLock<HashMap<String, Listener>>>,
}

impl Channels {
    /// Starts reading `subscriber`'s messages. The reader ends when the
    /// subscriber is dropped.
    pub(crate) fn start(subscriber: &SubscriberClient) -> Channels {
        let channels = Channels::default();
        let mut messages = subscriber.message_rx();
        let reader = channels.clone();
        // Unconstrained: tokio makes a task yield after a budget of work, and
        // a yielded task waits behind every runnable one. Behind thousands of
        // sockets that the reader itself just woke, that wait let the
        // broadcast overflow; the reader now reads until it is empty.
        tokio::spawn(tokio::task::unconstrained(async move {
            let mut read: u32 = 0;
            loop {
                // ...but not forever: the other tasks of its thread get a turn
                // now and then even when messages keep coming.
                read = read.wrapping_add(1);
                if read.is_multiple_of(4_096) {
                    tokio::task::yield_now().await;
                }
                match messages.recv().await {
                    Ok(message) => {
                        let listener = reader.listener(&message.channel);
                        if let Some(listener) = listener {
                            listener(Heard::Message(message.value));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let all: Vec<Listener> = reader.read().values().cloned().collect();
                        for listener in all {
                            listener(Heard::Missed(missed));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }));
        channels
    }

    /// Calls `listener` with every message on `channel` (replacing any listener
    /// it had).
    pub(crate) fn insert(&self, channel: String, listener: impl Fn(Heard) + Send + Sync + 'static) {
        self.write().insert(channel, Arc::new(listener));
    }

    pub(crate) fn remove(&self, channel: &str) {
        self.write().remove(channel);
    }

    fn listener(&self, channel: &str) -> Option<Listener> {
        self.read().get(channel).cloned()
    }

    // A panic in a listener cannot leave the map half-written: poisoning is ignored.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Listener>> {
        self.listeners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Listener>> {
        self.listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl super::Redis {
    /// Subscribes to `channel`, handing every message on it to `listener`.
    /// The listener runs on the one reader of all subscriptions: it must not
    /// block.
    pub async fn listen(
        &self,
        channel: String,
        listener: impl Fn(Heard) + Send + Sync + 'static,
    ) -> Result<(), fred::error::Error> {
        self.channels.insert(channel.clone(), listener);
        if let Err(e) = self.subscriber.subscribe(channel.clone()).await {
            self.channels.remove(&channel);
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::{KeyPrefix, Redis};
    use std::time::Duration;
    use tokio::sync::mpsc;

    async fn redis() -> Redis {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = KeyPrefix::new(&format!("test:{}:", uuid::Uuid::new_v4()));
        Redis::connect(&url, 1, prefix)
            .await
            .expect("Redis for tests")
    }

    fn collect(tx: mpsc::UnboundedSender<String>) -> impl Fn(Heard) + Send + Sync + 'static {
        move |heard| {
            if let Heard::Message(value) = heard {
                let _ = tx.send(value.convert::<String>().unwrap_or_default());
            }
        }
    }

    #[tokio::test]
    async fn each_channel_s_messages_reach_its_own_listener_in_order() {
        let redis = redis().await;
        let (a, b) = (redis.prefix.key("a"), redis.prefix.key("b"));
        let (a_tx, mut a_rx) = mpsc::unbounded_channel();
        let (b_tx, mut b_rx) = mpsc::unbounded_channel();
        redis
            .listen(a.clone(), collect(a_tx))
            .await
            .expect("listen a");
        redis
            .listen(b.clone(), collect(b_tx))
            .await
            .expect("listen b");
        // fred may answer a SUBSCRIBE before Redis has made it active (seen
        // once in about twenty runs: the first message on `b` went unheard), so
        // wait until Redis counts both before timing anything.
        for _ in 0..500 {
            let counts: Vec<Value> = redis
                .pool
                .custom(
                    fred::cmd!("PUBSUB"),
                    vec!["NUMSUB".to_owned(), a.clone(), b.clone()],
                )
                .await
                .expect("numsub");
            if counts
                .iter()
                .skip(1)
                .step_by(2)
                .all(|n| n.as_i64() == Some(1))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for i in 0..100 {
            let channel = if i % 3 == 0 { &b } else { &a };
            let _: i64 = redis
                .pool
                .next()
                .publish(channel, i.to_string())
                .await
                .expect("publish");
        }
        let mut heard_a = Vec::new();
        let mut heard_b = Vec::new();
        while heard_a.len() + heard_b.len() < 100 {
            tokio::select! {
                Some(m) = a_rx.recv() => heard_a.push(m),
                Some(m) = b_rx.recv() => heard_b.push(m),
                () = tokio::time::sleep(Duration::from_secs(5)) => panic!("messages lost"),
            }
        }
        let expect = |on_b: bool| -> Vec<String> {
            (0..100)
                .filter(|i| (i % 3 == 0) == on_b)
                .map(|i: i32| i.to_string())
                .collect()
        };
        assert_eq!(heard_a, expect(false));
        assert_eq!(heard_b, expect(true));
        redis.quit().await;
    }

    #[tokio::test]
    async fn a_message_on_a_channel_nobody_listens_to_is_dropped_quietly() {
        let redis = redis().await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let heard = redis.prefix.key("heard");
        redis
            .listen(heard.clone(), collect(tx))
            .await
            .expect("listen");
        // Subscribed by hand, with no listener: the reader must skip it.
        redis
            .subscriber
            .subscribe(redis.prefix.key("unheard"))
            .await
            .expect("subscribe");
        let _: i64 = redis
            .pool
            .next()
            .publish(redis.prefix.key("unheard"), "x")
            .await
            .expect("publish");
        let _: i64 = redis
            .pool
            .next()
            .publish(&heard, "y")
            .await
            .expect("publish");
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(got.expect("in time"), Some("y".to_owned()));
        redis.quit().await;
    }
}
