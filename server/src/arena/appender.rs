//! Group commit of deltas: this instance's actors hand their deltas to one
//! task, which appends all those waiting in one script call ([`log::append_many`]).
//!
//! At 10,000 sockets an instance appended 5,000 deltas a second, each its own
//! script call and its own published message, which every instance then read
//! one by one: in Redis, in fred and in the relay, the cost was per call, not
//! per byte. Now a call carries what gathered while the last one was out.
//! Nothing is decided jointly: each delta is still checked against its own
//! battle's epoch and seq, and its actor hears its own answer. A battle never
//! has two deltas in flight (its actor waits for each answer), so the order
//! of a battle's deltas is the order its actor made them.

use super::batch::Batcher;
use super::log::{self, Appended, Entry};
use crate::redis::Redis;
use fred::error::Error;

/// Most deltas in one call: a call is kept to about a millisecond of Redis's time.
const MOST: usize = 256;

/// Where this instance's actors append. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Appender(Batcher<Entry, Appended>);

impl Appender {
    /// Starts the appending task; it ends when every `Appender` is dropped.
    pub(crate) fn start(redis: Redis) -> Appender {
        Appender(Batcher::start(MOST, move |entries: Vec<Entry>| {
            let redis = redis.clone();
            async move {
                match log::append_many(&redis, &entries).await {
                    Ok(answers) => answers.into_iter().map(Ok).collect(),
                    Err(e) => entries.iter().map(|_| Err(e.clone())).collect(),
                }
            }
        }))
    }

    /// Appends `entry` with whatever else is waiting; what it came to.
    pub(crate) async fn append(&self, entry: Entry) -> Result<Appended, Error> {
        self.0.submit(entry).await
    }
}
