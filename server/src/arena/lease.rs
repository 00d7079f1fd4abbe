//! Owning a battle: the Redlock lock that says who may, and the epoch that
//! makes it stick.
//!
//! Taking a battle is three steps, in this order: win the lock on a quorum of
//! the lock nodes; bump the battle's epoch in PostgreSQL (the fencing token);
//! make that epoch current in the Redis log's keys. From then on every write of
//! an older owner is refused, by PostgreSQL (its statements name the epoch) and
//! by the log's append script (it compares the epoch), however long that owner
//! was paused. The lock alone could not promise that: a paused holder wakes up
//! believing it still holds it.

use super::{Shared, log, store};
use crate::redis::redlock::Lease;
use std::time::Duration;

/// A battle this instance owns.
#[derive(Debug)]
pub struct Owned {
    /// The fencing token.
    pub epoch: i64,
    /// The lock on the lock nodes.
    pub lease: Lease,
}

/// Why taking or keeping a battle failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// PostgreSQL failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] fred::error::Error),
}

fn lock_key(shared: &Shared, battle: u64) -> String {
    shared
        .redis
        .prefix
        .key(&format!("arena:battle:{battle}:lease"))
}

/// Tries once to take `battle`; `None` if another instance holds it.
pub(crate) async fn acquire(shared: &Shared, battle: u64) -> Result<Option<Owned>, LeaseError> {
    let ttl = shared.config.lease_ttl;
    let Some(lease) = shared.locks.acquire(&lock_key(shared, battle), ttl).await else {
        return Ok(None);
    };
    let epoch = match store::bump_epoch(&shared.db, battle).await {
        Ok(epoch) => epoch,
        Err(e) => {
            shared.locks.release(&lease).await;
            return Err(e.into());
        }
    };
    let claimed = log::claim(
        &shared.redis,
        battle,
        epoch,
        shared.instance,
        ttl.as_millis() as u64,
    )
    .await;
    match claimed {
        Ok(true) => {
            metrics::counter!("arena_leases_taken_total").increment(1);
            Ok(Some(Owned { epoch, lease }))
        }
        Ok(false) => {
            // A later epoch is already in Redis: someone else took it after us.
            shared.locks.release(&lease).await;
            Ok(None)
        }
        Err(e) => {
            shared.locks.release(&lease).await;
            Err(e.into())
        }
    }
}

/// What renewing a lease found.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    /// Still ours.
    Yes,
    /// Another owner's epoch is current: stop.
    Fenced,
}

/// Renews the lease and the owner key. If the lock could not be extended (a
/// slow lock node, or it lapsed while this process was paused), the epoch
/// decides: a fenced write of nothing tells whether a successor took over. If
/// none did, the lock is taken again when it can be, and the owner goes on
/// either way: every write it makes still names its epoch, so should another
/// instance win the lock meanwhile, it bumps the epoch and those writes are
/// refused.
pub(crate) async fn renew(
    shared: &Shared,
    battle: u64,
    owned: &mut Owned,
) -> Result<Kept, LeaseError> {
    let ttl = shared.config.lease_ttl;
    if !shared.locks.extend(&mut owned.lease, ttl).await {
        if let Err(store::StoreError::Fenced) =
            store::still_owner(&shared.db, battle, owned.epoch).await
        {
            return Ok(Kept::Fenced);
        }
        if let Some(lease) = shared.locks.acquire(&lock_key(shared, battle), ttl).await {
            owned.lease = lease;
        } else {
            tracing::debug!(
                battle,
                "could not renew the battle lock; the epoch still guards writes"
            );
        }
    }
    let refreshed = log::refresh_owner(
        &shared.redis,
        battle,
        owned.epoch,
        shared.instance,
        ttl.as_millis() as u64,
    )
    .await?;
    Ok(if refreshed { Kept::Yes } else { Kept::Fenced })
}

/// Lets go of a battle: the lock, and the owner key while it still names us,
/// so that moves find the next owner at once rather than after the TTL.
pub(crate) async fn release(shared: &Shared, battle: u64, owned: &Owned) {
    shared.locks.release(&owned.lease).await;
    if let Err(e) = log::forget_owner(&shared.redis, battle, owned.epoch, shared.instance).await {
        tracing::debug!(battle, error = %e, "owner key left to expire");
    }
}

/// How often an owner renews: three times per TTL.
pub(crate) fn renew_every(shared: &Shared) -> Duration {
    shared.config.lease_ttl / 3
}
