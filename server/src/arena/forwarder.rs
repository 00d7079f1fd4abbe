//! Moves for battles owned by other instances, forwarded many to a publish:
//! this instance's sockets hand their moves to one task, which publishes all
//! those waiting for one owner as one message on its channel.
//!
//! At 10,000 sockets over two instances, each forwarded 2,500 moves a second,
//! each its own publish and its own message for the owner to read; as with
//! the deltas (see `appender`), the cost was per message. One task, first in
//! first out, also keeps the moves of a battle in the order they were made,
//! which is what one Redis connection per battle used to guarantee.

use super::route::Forward;
use crate::redis::Redis;
use fred::bytes::Bytes;
use fred::error::{Error, ErrorKind};
use fred::prelude::*;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Most moves in one round of publishes.
const MOST: usize = 256;

/// Where this instance's sockets forward moves. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Forwarder {
    tx: mpsc::Sender<Job>,
}

struct Job {
    owner: Uuid,
    forward: Forward,
    /// How many instances heard it (0: the owner is gone).
    done: oneshot::Sender<Result<i64, Error>>,
}

impl Forwarder {
    /// Starts the forwarding task; it ends when every `Forwarder` is dropped.
    pub(crate) fn start(redis: Redis) -> Forwarder {
        let (tx, rx) = mpsc::channel(4 * MOST);
        tokio::spawn(run(redis, rx));
        Forwarder { tx }
    }

    /// Publishes `forward` to `owner` with whatever else is waiting; how many
    /// instances heard it.
    pub(crate) async fn forward(&self, owner: Uuid, forward: Forward) -> Result<i64, Error> {
        let (done, answer) = oneshot::channel();
        let gone = || Error::new(ErrorKind::Canceled, "the forwarder stopped");
        self.tx
            .send(Job {
                owner,
                forward,
                done,
            })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(redis: Redis, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MOST);
    while rx.recv_many(&mut jobs, MOST).await > 0 {
        let mut owners: Vec<Uuid> = Vec::new();
        for job in &jobs {
            if !owners.contains(&job.owner) {
                owners.push(job.owner);
            }
        }
        // One message per owner, in the order the moves came; the owners'
        // publishes go out together.
        let published = futures_util::future::join_all(owners.iter().map(|owner| {
            let batch: Vec<&Forward> = jobs
                .iter()
                .filter(|job| job.owner == *owner)
                .map(|job| &job.forward)
                .collect();
            let payload = postcard::to_allocvec(&batch).unwrap_or_default();
            let channel = super::log::instance_channel(&redis.prefix, *owner);
            let client = redis.pool.next().clone();
            async move {
                client
                    .publish::<i64, _, _>(channel, Bytes::from(payload))
                    .await
            }
        }))
        .await;
        for job in jobs.drain(..) {
            let at = owners.iter().position(|o| *o == job.owner);
            let answer = at
                .and_then(|i| published.get(i).cloned())
                .unwrap_or_else(|| Err(Error::new(ErrorKind::Unknown, "not published")));
            let _ = job.done.send(answer);
        }
    }
}
