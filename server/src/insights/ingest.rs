//! Getting events into PostgreSQL: a bounded in-process buffer, one writer, batches.
//!
//! Producers put events into a bounded channel; when it is full they wait
//! (backpressure), so a burst slows the producers down and nothing is dropped.
//! One writer task takes whatever has arrived (up to [`IngestConfig::max_batch`])
//! and writes it with one multi-row `INSERT ... SELECT FROM UNNEST` — one round
//! trip and one commit per batch. It never sits on events: it writes as soon as
//! it has any, so under light load an event is durable within a round trip, and
//! under heavy load batches grow by themselves while the previous one commits
//! (well within the promised "at least every 250 ms").
//!
//! [`Events::record`] returns only after the event's batch has committed: that is
//! the acknowledgement, and what is acknowledged is never lost (DESIGN promise
//! 4). A failed write is retried with backoff, never skipped; while it fails the
//! buffer fills and producers wait. After each commit the live counters in
//! Redis ([`super::pulse`]) are bumped; losing those loses nothing that
//! cannot be rebuilt.

use super::event::Event;
use super::pulse::Pulse;
use sqlx::PgPool;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// How the buffer and the writer are sized.
#[derive(Debug, Clone, Copy)]
pub struct IngestConfig {
    /// Events the buffer holds before producers wait.
    pub capacity: usize,
    /// The most events one INSERT writes.
    pub max_batch: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            capacity: 16_384,
            max_batch: 4_096,
        }
    }
}

/// The writer is gone (the server is shutting down).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the event writer has stopped")]
pub struct Stopped;

/// Events waiting for the writer, and who waits for their commit.
struct Pending {
    events: Vec<Event>,
    ack: Option<oneshot::Sender<()>>,
}

/// The producers' handle: cheap to clone.
#[derive(Clone)]
pub struct Events {
    tx: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Starts the writer over `db`, bumping `pulse` after each commit.
    pub fn start(db: PgPool, pulse: Pulse, config: IngestConfig) -> Events {
        // The channel counts messages; a message is usually one event, and
        // `record_all` messages are bounded by what one request may send.
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        tokio::spawn(write(db, pulse, rx, config.max_batch.max(1)));
        Events { tx }
    }

    /// Records `event`; returns once it is in PostgreSQL.
    pub async fn record(&self, event: Event) -> Result<(), Stopped> {
        self.record_all(vec![event]).await
    }

    /// Records `events`; returns once all of them are in PostgreSQL.
    pub async fn record_all(&self, events: Vec<Event>) -> Result<(), Stopped> {
        if events.is_empty() {
            return Ok(());
        }
        let (ack, committed) = oneshot::channel();
        self.tx
            .send(Pending {
                events,
                ack: Some(ack),
            })
            .await
            .map_err(|_| Stopped)?;
        committed.await.map_err(|_| Stopped)
    }

    /// Hands `event` to the writer (waiting while the buffer is full) without
    /// waiting for its commit: for loops that must not wait on PostgreSQL, such as
    /// a battle's actor. It is written all the same, unless the process dies first.
    pub async fn send(&self, event: Event) -> Result<(), Stopped> {
        self.tx
            .send(Pending {
                events: vec![event],
                ack: None,
            })
            .await
            .map_err(|_| Stopped)
    }
}

/// The writer: take what has arrived, write it, acknowledge, bump the counters.
async fn write(db: PgPool, pulse: Pulse, mut rx: mpsc::Receiver<Pending>, max_batch: usize) {
    let mut pending = Vec::with_capacity(64);
    loop {
        pending.clear();
        // Waits for the first message, then takes what else is already there.
        if rx.recv_many(&mut pending, max_batch).await == 0 {
            return; // every producer is gone
        }
        let events: Vec<&Event> = pending.iter().flat_map(|p| p.events.iter()).collect();
        let mut backoff = Duration::from_millis(50);
        while let Err(e) = insert(&db, &events).await {
            tracing::error!(error = %e, events = events.len(), "writing events failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        metrics::counter!("eduscale_events_written_total").increment(events.len() as u64);
        pulse.count(&events).await;
        for p in pending.drain(..) {
            if let Some(ack) = p.ack {
                let _ = ack.send(());
            }
        }
    }
}

/// One multi-row insert: each column as one array parameter.
async fn insert(db: &PgPool, events: &[&Event]) -> Result<(), sqlx::Error> {
    let n = events.len();
    let mut at: Vec<OffsetDateTime> = Vec::with_capacity(n);
    let mut user: Vec<Uuid> = Vec::with_capacity(n);
    let mut kind: Vec<&str> = Vec::with_capacity(n);
    let mut node: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut battle: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut passed: Vec<Option<bool>> = Vec::with_capacity(n);
    let mut verdict: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut page: Vec<Option<&str>> = Vec::with_capacity(n);
    for e in events {
        at.push(e.at);
        user.push(e.user);
        kind.push(e.kind.as_str());
        node.push(e.node);
        battle.push(e.battle);
        passed.push(e.passed);
        verdict.push(e.verdict.as_deref());
        page.push(e.page.as_deref());
    }
    sqlx::query!(
        r#"INSERT INTO events (at, user_id, kind, node_id, battle_id, passed, verdict, page)
           SELECT * FROM UNNEST($1::timestamptz[], $2::uuid[], $3::text[], $4::int8[],
                                $5::int8[], $6::bool[], $7::text[], $8::text[])"#,
        &at,
        &user,
        &kind as &[&str],
        &node as &[Option<i64>],
        &battle as &[Option<i64>],
        &passed as &[Option<bool>],
        &verdict as &[Option<&str>],
        &page as &[Option<&str>],
    )
    .execute(db)
    .await?;
    Ok(())
}
