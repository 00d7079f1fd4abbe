//! Insights: what learners do, as events, turned into what instructors read.
//!
//! Events come in from every capability through [`ingest`] (a bounded buffer,
//! batched into PostgreSQL; a full buffer makes producers wait, nothing is
//! dropped) and bump the live counters in Redis ([`pulse`]). One elected
//! instance refreshes the materialized views ([`views`], [`refresher`]) and refits
//! the knowledge-tracing model ([`model`]); dashboards read the views through a
//! Redis cache that lives until the next refresh ([`dashboard`]). Who may read
//! what is [`access`]'s rule.

pub mod access;
pub mod dashboard;
pub mod event;
pub mod export;
pub mod ingest;
pub mod model;
pub mod pulse;
pub mod queries;
pub mod refresher;
pub mod views;

use crate::redis::Redis;
use eduscale_core::insights::pfa::PfaModel;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};

/// A refresh generation and the model fitted as of it (if any).
type ModelOf = (u64, Option<Arc<PfaModel>>);

/// How insights run on this instance.
#[derive(Debug, Clone, Copy, Default)]
pub struct InsightsConfig {
    /// The event buffer and batches.
    pub ingest: ingest::IngestConfig,
    /// The refresh schedule; `None` leaves refreshing to other instances (and tests).
    pub refresh: Option<refresher::RefreshConfig>,
}

/// Insights on this instance: the event writer, the pulse, the dashboards.
#[derive(Clone)]
pub struct Insights {
    /// Where every capability records its events.
    pub events: ingest::Events,
    /// The live counters.
    pub pulse: pulse::Pulse,
    db: PgPool,
    redis: Redis,
    /// The model of the current refresh generation (a std Mutex: never held across an await).
    model: Arc<Mutex<Option<ModelOf>>>,
    /// What this instance's last refresh round did (a std Mutex: never held across an await).
    last_round: Arc<Mutex<Option<views::Refreshed>>>,
    /// Page views each user may report (the beacon is the one event a client sends).
    page_views: Arc<governor::DefaultKeyedRateLimiter<uuid::Uuid>>,
}

/// Page views a user may report per minute, all of which may come at once.
pub const PAGE_VIEWS_PER_MINUTE: u32 = 600;

impl std::fmt::Debug for Insights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Insights").finish_non_exhaustive()
    }
}

impl Insights {
    /// Starts the event writer and, when configured, the refresher.
    pub fn start(db: PgPool, redis: Redis, config: InsightsConfig) -> Insights {
        let pulse = pulse::Pulse::new(db.clone(), redis.clone());
        let events = ingest::Events::start(db.clone(), pulse.clone(), config.ingest);
        let insights = Insights {
            events,
            pulse,
            db,
            redis,
            model: Arc::new(Mutex::new(None)),
            last_round: Arc::new(Mutex::new(None)),
            page_views: Arc::new(governor::DefaultKeyedRateLimiter::keyed(
                governor::Quota::per_minute(
                    std::num::NonZeroU32::new(PAGE_VIEWS_PER_MINUTE)
                        .unwrap_or(std::num::NonZeroU32::MIN),
                ),
            )),
        };
        if let Some(refresh) = config.refresh {
            tokio::spawn(refresher::run(insights.clone(), refresh));
        }
        insights
    }

    /// What this instance's last refresh round did and how long each part took;
    /// `None` until it has refreshed (another instance may be doing it).
    pub fn last_round(&self) -> Option<views::Refreshed> {
        self.last_round
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Records `event` and waits until it is in PostgreSQL; for actions whose own
    /// answer does not depend on it (a run, a log-in), a failure is only logged.
    pub async fn note(&self, event: event::Event) {
        if self.events.record(event).await.is_err() {
            tracing::warn!("an event was not recorded: the writer has stopped");
        }
    }

    /// Takes one page view from `user`'s allowance, or says how many seconds to wait.
    pub fn allow_page_view(&self, user: uuid::Uuid) -> Result<(), u64> {
        use governor::clock::{Clock, DefaultClock};
        // Forget users whose allowance is full again: memory follows active users.
        if self.page_views.len() > 10_000 {
            self.page_views.retain_recent();
        }
        self.page_views.check_key(&user).map_err(|later| {
            later
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }

    /// Parses `raw` as a scope `viewer` may read (see [`access`]).
    pub async fn may_read(
        &self,
        viewer: &crate::auth::User,
        raw: &str,
    ) -> Result<Result<uuid::Uuid, access::Denied>, sqlx::Error> {
        access::scope(&self.db, viewer, raw).await
    }

    /// Whether `learner` is in `scope`.
    pub async fn in_scope(
        &self,
        scope: uuid::Uuid,
        learner: uuid::Uuid,
    ) -> Result<bool, sqlx::Error> {
        access::in_scope(&self.db, scope, learner).await
    }
}
