//! Moves for battles owned by other instances, forwarded many to a publish:
//! this instance's sockets hand their moves to one task, which publishes all
//! those waiting for one owner as one message on its channel.
//!
//! At 10,000 sockets over two instances, each forwarded 2,500 moves a second,
//! each its own publish and its own message for the owner to read; as with
//! the deltas (see `appender`), the cost was per message. One task, first in
//! first out, also keeps the moves of a battle in the order they were made,
//! which is what one Redis connection per battle used to guarantee.

use super::batch::Batcher;
use super::route::Forward;
use crate::redis::Redis;
use fred::bytes::Bytes;
use fred::error::Error;
use fred::prelude::*;
use uuid::Uuid;

/// Most moves in one round of publishes.
const MOST: usize = 256;

/// Where this instance's sockets forward moves. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Forwarder(Batcher<(Uuid, Forward), i64>);

impl Forwarder {
    /// Starts the forwarding task; it ends when every `Forwarder` is dropped.
    pub(crate) fn start(redis: Redis) -> Forwarder {
        Forwarder(Batcher::start(MOST, move |moves: Vec<(Uuid, Forward)>| {
            let redis = redis.clone();
            async move { publish(&redis, &moves).await }
        }))
    }

    /// Publishes `forward` to `owner` with whatever else is waiting; how many
    /// instances heard it (0: the owner is gone).
    pub(crate) async fn forward(&self, owner: Uuid, forward: Forward) -> Result<i64, Error> {
        self.0.submit((owner, forward)).await
    }
}

/// One message per owner, holding its moves in the order they came; the
/// owners' publishes go out together. How many heard each move.
async fn publish(redis: &Redis, moves: &[(Uuid, Forward)]) -> Vec<Result<i64, Error>> {
    let mut owners: Vec<Uuid> = Vec::new();
    for (owner, _) in moves {
        if !owners.contains(owner) {
            owners.push(*owner);
        }
    }
    let heard = futures_util::future::join_all(owners.iter().map(|owner| {
        let batch: Vec<&Forward> = moves
            .iter()
            .filter(|(o, _)| o == owner)
            .map(|(_, forward)| forward)
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
    moves
        .iter()
        .map(|(owner, _)| {
            let at = owners.iter().position(|o| o == owner).unwrap_or_default();
            heard[at].clone()
        })
        .collect()
}
