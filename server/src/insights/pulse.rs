//! The live pulse: counters in Redis, bumped as events are written, read every
//! second by the dashboards that watch a scope.
//!
//! Per scope (each of a learner's cohorts, and the platform):
//! - `pulse:{scope}:active`, a sorted set of learners by the time of their last
//!   event (ms): active in the last 5 minutes is one `ZCOUNT`;
//! - `pulse:{scope}:runs:{bucket}` and `pulse:{scope}:events:{bucket}`, counters
//!   per 10-second bucket that expire after two minutes: the last minute is the
//!   sum of six;
//! - `pulse:{scope}:battles`, a sorted set of battles by when they will be over
//!   at the latest: joined adds, finished removes, and a battle whose finish was
//!   never seen ages out.
//!
//! Which cohorts a learner is in comes from PostgreSQL, remembered for a minute
//! (a std `Mutex`: it is never held across an await). Everything here can be
//! lost and rebuilt from the events, so failures are logged, not returned.

use super::event::{Event, Kind};
use crate::redis::Redis;
use eduscale_core::insights::report::{PLATFORM, Pulse as Counters};
use fred::prelude::*;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long "active" lasts after a learner's last event.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(300);
/// The width of a counter bucket.
const BUCKET_MS: i64 = 10_000;
/// The buckets in a minute.
const BUCKETS_PER_MINUTE: i64 = 6;
/// How long a battle counts as live when its finish is never seen.
const BATTLE_MAX_MS: i64 = 2 * 3600 * 1000;
/// How long a learner's cohorts are remembered.
const MEMBERSHIP_TTL: Duration = Duration::from_secs(60);
/// Remembered learners before the memory is cleared (bounds it).
const MEMBERSHIP_MAX: usize = 200_000;

/// Each learner's scopes, and when they were read.
type Memberships = HashMap<Uuid, (Instant, Vec<Uuid>)>;

/// The counters' reader and writer.
#[derive(Clone)]
pub struct Pulse {
    db: PgPool,
    redis: Redis,
    members: Arc<Mutex<Memberships>>,
}

impl Pulse {
    /// Counters over `redis`, memberships from `db`.
    pub fn new(db: PgPool, redis: Redis) -> Self {
        Pulse {
            db,
            redis,
            members: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn key(&self, scope: Uuid, what: &str) -> String {
        self.redis.prefix.key(&format!("pulse:{scope}:{what}"))
    }

    /// Bumps the counters for events just written. Failures are logged.
    pub async fn count(&self, events: &[&Event]) {
        if let Err(e) = self.try_count(events).await {
            tracing::warn!(error = %e, "could not update the live pulse");
        }
    }

    async fn try_count(&self, events: &[&Event]) -> anyhow::Result<()> {
        let users: HashSet<Uuid> = events.iter().map(|e| e.user).collect();
        let scopes = self.scopes_of(&users).await?;
        let now_ms = now_ms();
        let bucket = now_ms / BUCKET_MS;
        // Aggregate first: one command per key, not one per event.
        let mut active: HashMap<Uuid, HashMap<Uuid, i64>> = HashMap::new();
        let mut runs: HashMap<Uuid, i64> = HashMap::new();
        let mut counts: HashMap<Uuid, i64> = HashMap::new();
        let mut joined: HashMap<Uuid, HashSet<i64>> = HashMap::new();
        let mut finished: HashMap<Uuid, HashSet<i64>> = HashMap::new();
        for e in events {
            let Some(user_scopes) = scopes.get(&e.user) else {
                continue;
            };
            let at = e.at.unix_timestamp_nanos() as i64 / 1_000_000;
            for scope in user_scopes {
                active.entry(*scope).or_default().insert(e.user, at);
                *counts.entry(*scope).or_default() += 1;
                match (e.kind, e.battle) {
                    (Kind::Run, _) => *runs.entry(*scope).or_default() += 1,
                    (Kind::BattleJoined, Some(b)) => {
                        joined.entry(*scope).or_default().insert(b);
                    }
                    (Kind::BattleFinished, Some(b)) => {
                        finished.entry(*scope).or_default().insert(b);
                    }
                    _ => {}
                }
            }
        }
        let pipe = self.redis.pool.next().pipeline();
        for (scope, users) in active {
            let key = self.key(scope, "active");
            let members: Vec<(f64, String)> = users
                .into_iter()
                .map(|(u, at)| (at as f64, u.to_string()))
                .collect();
            let () = pipe.zadd(&key, None, None, false, false, members).await?;
            let cutoff = (now_ms - ACTIVE_WINDOW.as_millis() as i64) as f64;
            let () = pipe
                .zremrangebyscore(&key, f64::NEG_INFINITY, cutoff)
                .await?;
        }
        for (what, per_scope) in [("events", counts), ("runs", runs)] {
            for (scope, n) in per_scope {
                let key = self.key(scope, &format!("{what}:{bucket}"));
                let () = pipe.incr_by(&key, n).await?;
                let () = pipe.expire(&key, 120, None).await?;
            }
        }
        for (scope, battles) in joined {
            let members: Vec<(f64, String)> = battles
                .into_iter()
                .map(|b| ((now_ms + BATTLE_MAX_MS) as f64, b.to_string()))
                .collect();
            let () = pipe
                .zadd(
                    self.key(scope, "battles"),
                    None,
                    None,
                    false,
                    false,
                    members,
                )
                .await?;
        }
        for (scope, battles) in finished {
            let members: Vec<String> = battles.into_iter().map(|b| b.to_string()).collect();
            let () = pipe.zrem(self.key(scope, "battles"), members).await?;
        }
        let _: Vec<Value> = pipe.all().await?;
        Ok(())
    }

    /// The counters of `scope` now.
    pub async fn read(&self, scope: Uuid) -> anyhow::Result<Counters> {
        let now_ms = now_ms();
        let bucket = now_ms / BUCKET_MS;
        let pipe = self.redis.pool.next().pipeline();
        let since = (now_ms - ACTIVE_WINDOW.as_millis() as i64) as f64;
        let () = pipe
            .zcount(self.key(scope, "active"), since, f64::INFINITY)
            .await?;
        let () = pipe
            .zcount(self.key(scope, "battles"), now_ms as f64, f64::INFINITY)
            .await?;
        let window: Vec<i64> = (0..BUCKETS_PER_MINUTE).map(|i| bucket - i).collect();
        for what in ["runs", "events"] {
            let keys: Vec<String> = window
                .iter()
                .map(|b| self.key(scope, &format!("{what}:{b}")))
                .collect();
            let () = pipe.mget(keys).await?;
        }
        let (active, battles, runs, events): (u64, u64, Vec<Option<u64>>, Vec<Option<u64>>) =
            pipe.all().await?;
        let sum = |v: Vec<Option<u64>>| v.into_iter().flatten().sum();
        Ok(Counters {
            active_5m: active,
            runs_1m: sum(runs),
            events_1m: sum(events),
            battles_live: battles,
        })
    }

    /// Each user's scopes: their cohorts and the platform.
    async fn scopes_of(
        &self,
        users: &HashSet<Uuid>,
    ) -> Result<HashMap<Uuid, Vec<Uuid>>, sqlx::Error> {
        let mut known = HashMap::with_capacity(users.len());
        let mut unknown = Vec::new();
        {
            let members = self.members.lock().unwrap_or_else(|p| p.into_inner());
            for u in users {
                match members.get(u) {
                    Some((when, scopes)) if when.elapsed() < MEMBERSHIP_TTL => {
                        known.insert(*u, scopes.clone());
                    }
                    _ => unknown.push(*u),
                }
            }
        }
        if unknown.is_empty() {
            return Ok(known);
        }
        let rows = sqlx::query!(
            "SELECT user_id, cohort_id FROM cohort_members WHERE user_id = ANY($1)",
            &unknown
        )
        .fetch_all(&self.db)
        .await?;
        let platform = platform();
        let mut fresh: HashMap<Uuid, Vec<Uuid>> =
            unknown.iter().map(|u| (*u, vec![platform])).collect();
        for r in rows {
            fresh.entry(r.user_id).or_default().push(r.cohort_id);
        }
        let mut members = self.members.lock().unwrap_or_else(|p| p.into_inner());
        if members.len() > MEMBERSHIP_MAX {
            members.clear();
        }
        let now = Instant::now();
        for (u, scopes) in fresh {
            members.insert(u, (now, scopes.clone()));
            known.insert(u, scopes);
        }
        Ok(known)
    }

    /// Forgets a learner's remembered cohorts (they just joined one).
    pub fn forget(&self, user: Uuid) {
        self.members
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&user);
    }
}

/// The platform scope.
pub fn platform() -> Uuid {
    // PLATFORM is the nil uuid's text form, a constant that parses.
    Uuid::parse_str(PLATFORM).unwrap_or(Uuid::nil())
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
