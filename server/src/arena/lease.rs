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

use super::actor::{Mail, Mailbox};
use super::{Shared, log, store};
use crate::redis::redlock::Lease;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;

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

/// The leases this instance holds, each with its actor's mailbox: renewed in
/// batches by [`keep_renewing`], so that an instance owning thousands of
/// battles renews them with a few scripts every period, away from the actors'
/// loops. (Each actor renewing its own lease cost two round trips per battle
/// every period, and a slow renewal stalled its battle.)
#[derive(Default)]
pub(crate) struct Held {
    /// std Mutex: only looked up or changed, never held across an await.
    map: Mutex<HashMap<u64, Holding>>,
}

struct Holding {
    owned: Owned,
    actor: Mailbox,
}

impl Held {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Holding>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands `owned` to the keeper: renewed from now on, until [`release`].
    pub(crate) fn hold(&self, battle: u64, owned: Owned, actor: Mailbox) {
        self.lock().insert(battle, Holding { owned, actor });
    }

    /// Takes `battle`'s lease out of the keeper's hands, if it is still `epoch`'s.
    fn take(&self, battle: u64, epoch: i64) -> Option<Owned> {
        let mut map = self.lock();
        if map.get(&battle).is_some_and(|h| h.owned.epoch == epoch) {
            map.remove(&battle).map(|h| h.owned)
        } else {
            None
        }
    }
}

/// Into how many slices the held leases are cut for renewal (by battle id);
/// the slices take turns, each renewed once per period.
///
/// Renewing all of them at once made a burst every period: with 2,500 battles
/// per instance, a dozen scripts of a thousand keys each on the Redis that also
/// carries the deltas, and every battle's deltas waited behind them (the arena
/// bench's p99 rose to 35-45 ms every 1.7 s, and moved with the period when
/// the TTL did). Sliced, each round is a script of a hundred-odd keys.
const RENEWAL_SLICES: usize = 16;

/// Renews every lease this instance holds, three times per TTL, a slice at a
/// time, until the arena is dropped.
///
/// Each slice's round runs as a task of its own, so the rounds keep their
/// times when one is slow: a lock node that does not answer makes each round
/// wait for it (up to a quarter of the TTL), and sixteen such waits in a row
/// would outlast the leases. A slice whose last round is still running is
/// skipped once.
pub(crate) async fn keep_renewing(weak: Weak<Shared>) {
    let mut rounds: [Option<JoinHandle<()>>; RENEWAL_SLICES] = Default::default();
    for slice in (0..RENEWAL_SLICES).cycle() {
        let every = match weak.upgrade() {
            Some(shared) => renew_every(&shared),
            None => return,
        };
        tokio::time::sleep(every / RENEWAL_SLICES as u32).await;
        let Some(shared) = weak.upgrade() else { return };
        if rounds[slice].as_ref().is_some_and(|r| !r.is_finished()) {
            tracing::debug!(slice, "the last renewal of this slice is still running");
            continue;
        }
        rounds[slice] = Some(tokio::spawn(async move {
            renew_slice(&shared, slice as u64).await;
        }));
    }
}

/// One round of renewals, of the battles in `slice`: the locks (one script per
/// lock node per thousand) and the owner keys (likewise, fenced by the epoch). An owner key that names
/// a later epoch means a successor took over: that actor is told to stop. A
/// lock that could not be extended (a slow lock node, or it lapsed while this
/// process was paused) is decided by the epoch: a fenced write of nothing, for
/// all such battles in one statement, tells whether a successor took over; if
/// none did, the lock is taken again when it can be. The owner goes on either
/// way: every write it makes names its epoch, so should another instance win
/// the lock meanwhile, it bumps the epoch and those writes are refused.
async fn renew_slice(shared: &Shared, slice: u64) {
    let (battles, mut leases): (Vec<(u64, i64)>, Vec<Lease>) = {
        let mut map = shared.held.lock();
        // An actor whose task is gone without releasing (a panic) must not
        // keep its battle: its lease lapses and another owner takes over.
        map.retain(|battle, h| {
            let alive = !h.actor.is_closed();
            if !alive {
                tracing::warn!(
                    battle,
                    "a battle's actor is gone; its lease is left to lapse"
                );
            }
            alive
        });
        map.iter()
            .filter(|(battle, _)| *battle % RENEWAL_SLICES as u64 == slice)
            .map(|(battle, h)| ((*battle, h.owned.epoch), h.owned.lease.clone()))
            .unzip()
    };
    if battles.is_empty() {
        return;
    }
    let ttl = shared.config.lease_ttl;
    // Waiting costs no battle anything now, so a busy node is given time to
    // answer: a quarter of the TTL, well inside the period.
    let (extended, refreshed) = tokio::join!(
        shared.locks.extend_all(&mut leases, ttl, ttl / 4),
        log::refresh_owners(
            &shared.redis,
            &battles,
            shared.instance,
            ttl.as_millis() as u64
        )
    );
    let refreshed = refreshed.unwrap_or_else(|e| {
        // Unknown, not lost: the actors' own writes are fenced in Redis too.
        tracing::warn!(error = %e, "could not refresh the owner keys");
        vec![true; battles.len()]
    });
    let mut fenced = Vec::new();
    let mut lapsed = Vec::new();
    {
        let mut map = shared.held.lock();
        for ((&(battle, epoch), lease), (extended, refreshed)) in battles
            .iter()
            .zip(leases)
            .zip(extended.into_iter().zip(refreshed))
        {
            let Some(holding) = map.get_mut(&battle).filter(|h| h.owned.epoch == epoch) else {
                continue; // released meanwhile
            };
            if !refreshed {
                fenced.push(holding.actor.clone());
            } else if extended {
                holding.owned.lease.valid_until = lease.valid_until;
            } else {
                lapsed.push((battle, epoch));
            }
        }
    }
    if !lapsed.is_empty() {
        metrics::counter!("arena_lease_renewals_missed_total").increment(lapsed.len() as u64);
        match store::still_owners(&shared.db, &lapsed).await {
            Ok(kept) => {
                let kept: HashSet<u64> = kept.into_iter().collect();
                for &(battle, epoch) in &lapsed {
                    if kept.contains(&battle) {
                        retake(shared, battle, epoch).await;
                    } else if let Some(h) = shared.held.lock().get(&battle) {
                        fenced.push(h.actor.clone());
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not check the epochs of lapsed leases"),
        }
    }
    for actor in fenced {
        // A full mailbox misses this; the next round finds the same again,
        // and the actor's next write is refused meanwhile anyway.
        let _ = actor.try_send(Mail::Fenced);
    }
}

/// Takes the lock of a battle this instance still owns by epoch but whose
/// lock lapsed; left to the next round if another holds it now.
async fn retake(shared: &Shared, battle: u64, epoch: i64) {
    let Some(lease) = shared
        .locks
        .acquire(&lock_key(shared, battle), shared.config.lease_ttl)
        .await
    else {
        tracing::debug!(
            battle,
            "could not retake the battle lock; the epoch still guards writes"
        );
        return;
    };
    let kept = {
        let mut map = shared.held.lock();
        match map.get_mut(&battle).filter(|h| h.owned.epoch == epoch) {
            Some(holding) => {
                holding.owned.lease = lease.clone();
                true
            }
            None => false,
        }
    };
    if !kept {
        // Released while we retook it: give the lock back.
        shared.locks.release(&lease).await;
    }
}

/// Lets go of `battle` held under `epoch`: the keeper stops renewing it, and
/// the lock and owner key go (see [`let_go`]).
pub(crate) async fn release(shared: &Shared, battle: u64, epoch: i64) {
    if let Some(owned) = shared.held.take(battle, epoch) {
        let_go(shared, battle, &owned).await;
    }
}

/// Lets go of a battle: the lock, and the owner key while it still names us,
/// so that moves find the next owner at once rather than after the TTL.
pub(crate) async fn let_go(shared: &Shared, battle: u64, owned: &Owned) {
    shared.locks.release(&owned.lease).await;
    if let Err(e) = log::forget_owner(&shared.redis, battle, owned.epoch, shared.instance).await {
        tracing::debug!(battle, error = %e, "owner key left to expire");
    }
}

/// How often an owner renews: three times per TTL.
pub(crate) fn renew_every(shared: &Shared) -> Duration {
    shared.config.lease_ttl / 3
}
