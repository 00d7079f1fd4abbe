//! The arena: coding battles with one writer each, kept in step across every
//! instance.
//!
//! In: players' moves and watchers from sockets on any instance ([`Arena::play`],
//! [`Arena::watch`]), quick-match requests, lobby calls from server functions.
//! Out: each battle's [`Delta`](eduscale_core::battle::Delta)s, in seq order, to
//! every socket following it, wherever it is; durable results and ratings.
//!
//! How (DESIGN.md, "A battle event" and "A submission"):
//! - **One writer per battle**: an [`actor`] on the instance that holds the
//!   battle's lease, a Redlock lock over independent Redis nodes plus an epoch
//!   from PostgreSQL (the fencing token, [`lease`]). A move that lands on
//!   another instance is forwarded to the owner over Redis ([`route`]).
//! - The owner appends each delta to the battle's Redis stream and publishes it
//!   in one fenced script ([`log`]), and stores it in PostgreSQL in batches
//!   ([`store`]). Every instance follows the battles its sockets watch
//!   ([`rooms`]) and relays each delta to them.
//! - An owner that dies or pauses loses its lease after the TTL; an instance
//!   with watchers of the battle takes it, rebuilds from PostgreSQL and the log,
//!   and the battle goes on. Writes by the old owner are refused by the epoch.

pub mod actor;
mod appender;
mod batch;
mod forwarder;
pub mod lease;
pub mod lobby;
pub mod log;
mod outbox;
mod problems;
pub mod ranking;
pub mod rooms;
pub mod route;
pub mod store;

use crate::realtime::Hub;
use crate::redis::Redis;
use crate::redis::redlock::Redlock;
use eduscale_runner::queue::Executor;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use outbox::Outbox;
pub use rooms::Outgoing;
pub use route::PlayError;

/// How the arena behaves; the defaults suit production, tests shorten them.
#[derive(Debug, Clone)]
pub struct ArenaConfig {
    /// How long a lease lasts without renewal: how long a dead owner's battles wait.
    pub lease_ttl: Duration,
    /// The longest an owner goes without checking the clock. It also wakes at
    /// each deadline its battle has (countdown over, time up, an away player's
    /// grace run out), so this is only a backstop.
    pub tick: Duration,
    /// How long deltas wait to be stored in PostgreSQL, at most.
    pub store_every: Duration,
    /// Messages a socket may fall behind by before it is told to resync.
    pub outbox: usize,
    /// From everyone ready to the problem revealed, in new battles.
    pub countdown: Duration,
    /// How long new battles run.
    pub duration: Duration,
}

impl Default for ArenaConfig {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(5),
            tick: Duration::from_secs(5),
            store_every: Duration::from_millis(100),
            outbox: 256,
            countdown: Duration::from_secs(5),
            duration: Duration::from_secs(15 * 60),
        }
    }
}

/// This instance's part of the arena. Cheap to clone.
#[derive(Clone)]
pub struct Arena {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("instance", &self.shared.instance)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    pub(crate) db: PgPool,
    pub(crate) redis: Redis,
    pub(crate) locks: Redlock,
    pub(crate) hub: Hub,
    pub(crate) runner: Arc<dyn Executor>,
    pub(crate) instance: Uuid,
    pub(crate) config: ArenaConfig,
    /// Battles this instance owns: their actors' mailboxes. std Mutex: only
    /// looked up or changed, never held across an await.
    pub(crate) actors: Mutex<HashMap<u64, actor::Mailbox>>,
    /// The leases of the battles owned here, renewed together.
    pub(crate) held: lease::Held,
    pub(crate) rooms: rooms::Rooms,
    /// Who owns the battles this instance forwards moves to, as last reached.
    pub(crate) owners: route::Owners,
    /// The problems the battles owned here play, each held once.
    pub(crate) problems: problems::Problems,
    pub(crate) store_tx: mpsc::Sender<store::PendingDelta>,
    /// Where the actors here append their deltas, many to a call.
    pub(crate) appender: appender::Appender,
    /// Where the sockets here forward moves to other instances, many to a publish.
    pub(crate) forwarder: forwarder::Forwarder,
    /// Where battle starts and finishes are recorded for insights (set once, at wiring).
    pub(crate) events: std::sync::OnceLock<crate::insights::ingest::Events>,
}

impl Shared {
    pub(crate) fn actors(&self) -> std::sync::MutexGuard<'_, HashMap<u64, actor::Mailbox>> {
        // A panic while holding the lock leaves the map itself usable.
        self.actors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Arena {
    /// Starts this instance's arena: the delta relay, the forwarded-command
    /// listener, the delta writer and the watchdog; rebuilds the leaderboard.
    pub async fn start(
        db: PgPool,
        redis: Redis,
        locks: Redlock,
        hub: Hub,
        runner: Arc<dyn Executor>,
        config: ArenaConfig,
    ) -> Result<Arena, fred::error::Error> {
        let (store_tx, store_rx) = mpsc::channel(16_384);
        let appender = appender::Appender::start(redis.clone());
        let forwarder = forwarder::Forwarder::start(redis.clone());
        let shared = Arc::new(Shared {
            db,
            redis,
            locks,
            hub,
            runner,
            instance: Uuid::new_v4(),
            config,
            actors: Mutex::new(HashMap::new()),
            held: lease::Held::default(),
            rooms: rooms::Rooms::default(),
            owners: route::Owners::default(),
            problems: problems::Problems::default(),
            store_tx,
            appender,
            forwarder,
            events: std::sync::OnceLock::new(),
        });
        tokio::spawn(store::writer(
            shared.db.clone(),
            store_rx,
            shared.config.store_every,
        ));
        route::listen(&shared).await?;
        rooms::relay(&shared).await?;
        tokio::spawn(route::watchdog(Arc::downgrade(&shared)));
        tokio::spawn(lease::keep_renewing(Arc::downgrade(&shared)));
        if let Err(e) = ranking::rebuild_leaderboard(&shared).await {
            tracing::warn!(error = %e, "could not rebuild the leaderboard from PostgreSQL");
        }
        Ok(Arena { shared })
    }

    /// This instance's id (what owner keys name).
    pub fn instance(&self) -> Uuid {
        self.shared.instance
    }

    /// Records battle starts and finishes into `events` from now on.
    pub fn record_events(&self, events: crate::insights::ingest::Events) {
        let _ = self.shared.events.set(events);
    }

    /// How many battles this instance owns now.
    pub fn owned(&self) -> usize {
        self.shared.actors().len()
    }
}
