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

use super::log::{self, Appended, Entry};
use crate::redis::Redis;
use fred::error::{Error, ErrorKind};
use tokio::sync::{mpsc, oneshot};

/// Most deltas in one call: a call is kept to about a millisecond of Redis's time.
const MOST: usize = 256;

/// Where this instance's actors append. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Appender {
    tx: mpsc::Sender<Job>,
}

struct Job {
    entry: Entry,
    done: oneshot::Sender<Result<Appended, Error>>,
}

impl Appender {
    /// Starts the appending task; it ends when every `Appender` is dropped.
    pub(crate) fn start(redis: Redis) -> Appender {
        let (tx, rx) = mpsc::channel(4 * MOST);
        tokio::spawn(run(redis, rx));
        Appender { tx }
    }

    /// Appends `entry` with whatever else is waiting; what it came to.
    pub(crate) async fn append(&self, entry: Entry) -> Result<Appended, Error> {
        let (done, answer) = oneshot::channel();
        let gone = || Error::new(ErrorKind::Canceled, "the appender stopped");
        self.tx
            .send(Job { entry, done })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(redis: Redis, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MOST);
    while rx.recv_many(&mut jobs, MOST).await > 0 {
        let entries: Vec<Entry> = jobs.iter().map(|job| job.entry.clone()).collect();
        match log::append_many(&redis, &entries).await {
            Ok(answers) => {
                for (job, answer) in jobs.drain(..).zip(answers) {
                    let _ = job.done.send(Ok(answer));
                }
                // A short answer (it never is) must not leave an actor waiting.
                for job in jobs.drain(..) {
                    let _ = job.done.send(Err(Error::new(
                        ErrorKind::Unknown,
                        "the append script answered too few deltas",
                    )));
                }
            }
            Err(e) => {
                for job in jobs.drain(..) {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}
