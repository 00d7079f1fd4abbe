//! The aggregates dashboards read, and bringing them up to date.
//!
//! Two kinds (see migration `20261202090000_insights_rollups.sql`):
//! - **Roll-ups** ([`ROLLUPS`]), tables over the event log: each round adds the
//!   events committed since the round before, in one transaction, so their cost
//!   follows the events of a round, not the size of the log. Which events are new
//!   is told by their transaction's id against the round's snapshot, so an event
//!   is counted exactly once even when batches commit out of id order.
//! - **Materialized views** ([`VIEWS`]) over the roll-ups, for what depends on
//!   cohort membership or content and so cannot be added up event by event;
//!   refreshed `CONCURRENTLY`, so dashboards keep reading the previous contents
//!   while a refresh runs, in dependency order.
//!
//! Which instance does this, and when, is `refresher`'s job.

use sqlx::{PgConnection, PgPool};
use std::time::{Duration, Instant};

/// The roll-up tables, all brought up to date by [`roll_up`] in one statement.
pub const ROLLUPS: &[&str] = &[
    "insights_daily_activity",
    "insights_node_learners",
    "insights_learner_verdicts",
];

/// The materialized views in two chains that share nothing: each in the order
/// its refresh must follow (a view built on another comes after it). The chains
/// are refreshed side by side, on two connections.
pub const CHAINS: [&[&str]; 2] = [
    &[
        "insights_node_difficulty",
        "insights_node_verdicts",
        "insights_skill_attempts",
    ],
    &[
        "insights_weekly_velocity",
        "insights_engagement",
        "insights_learners",
    ],
];

/// Every materialized view, in an order a refresh one by one may follow.
pub const VIEWS: &[&str] = &[
    "insights_node_difficulty",
    "insights_node_verdicts",
    "insights_skill_attempts",
    "insights_weekly_velocity",
    "insights_engagement",
    "insights_learners",
];

/// What one round did, and how long each part took.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// Events added to the roll-ups this round.
    pub events: i64,
    /// The whole round.
    pub took: Duration,
    /// `(roll-ups or view, time taken)`: the roll-ups first, then chain by chain.
    pub views: Vec<(&'static str, Duration)>,
}

/// Rolls up the new events, then refreshes every view concurrently (readers are
/// never blocked).
pub async fn refresh_all(db: &PgPool) -> Result<Refreshed, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let started = Instant::now();
    let events = roll_up(&mut conn).await?;
    let mut took = vec![("rollups", started.elapsed())];
    took.extend(refresh_views(&mut conn, db).await?);
    Ok(Refreshed {
        events,
        took: started.elapsed(),
        views: took,
    })
}

/// The views alone, over the roll-ups as they stand: the first chain on
/// `conn`, the second on another connection from `db`, side by side (the
/// round takes the longest chain's time, not the sum). Each view and its time.
pub async fn refresh_views(
    conn: &mut PgConnection,
    db: &PgPool,
) -> Result<Vec<(&'static str, Duration)>, sqlx::Error> {
    let mut other = db.acquire().await?;
    let (mut first, second) =
        tokio::try_join!(chain(conn, CHAINS[0]), chain(&mut other, CHAINS[1]))?;
    first.extend(second);
    Ok(first)
}

/// Adds the events of every transaction that ended since the last roll-up to
/// the roll-up tables, and moves the mark past them, in one transaction.
/// Returns how many events it added.
pub async fn roll_up(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // What had ended by this statement's snapshot: every transaction below its
    // xmax but the running ones. The next statement (a later snapshot) sees all
    // of their events that committed; the running ones wait for a later round.
    let mark = sqlx::query!(
        r#"SELECT m.upto AS "from!", m.pending AS "pending!",
                  pg_snapshot_xmax(s)::text::bigint AS "to!",
                  ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x) AS "running!"
           FROM insights_rollup_mark m, pg_current_snapshot() AS s
           FOR UPDATE OF m"#
    )
    .fetch_one(&mut *tx)
    .await?;
    // The window's floor, for the index: the oldest transaction not taken yet.
    let floor = mark.pending.iter().copied().fold(mark.from, i64::min);
    let added = sqlx::query_scalar!(
        r#"WITH fresh AS MATERIALIZED (
               SELECT at, user_id, kind, node_id, passed, verdict
               FROM events
               WHERE xact >= $1 AND xact < $3
                 AND xact <> ALL ($5)
                 AND (xact >= $2 OR xact = ANY ($4))
           ), daily AS (
               INSERT INTO insights_daily_activity AS d
                   (user_id, day, events, runs, attempts, successes, passes)
               SELECT user_id,
                      (at AT TIME ZONE 'UTC')::date,
                      count(*),
                      count(*) FILTER (WHERE kind = 'run'),
                      count(*) FILTER (WHERE kind = 'verdict'),
                      count(*) FILTER (WHERE kind = 'verdict' AND passed),
                      count(*) FILTER (WHERE kind = 'node_passed')
               FROM fresh
               GROUP BY 1, 2
               ON CONFLICT (user_id, day) DO UPDATE SET
                   events = d.events + EXCLUDED.events,
                   runs = d.runs + EXCLUDED.runs,
                   attempts = d.attempts + EXCLUDED.attempts,
                   successes = d.successes + EXCLUDED.successes,
                   passes = d.passes + EXCLUDED.passes
           ), nodes AS (
               INSERT INTO insights_node_learners AS l
                   (node_id, user_id, attempts, failures, first_at, passed_at, last_at, last_attempt_at)
               SELECT node_id,
                      user_id,
                      count(*) FILTER (WHERE kind = 'verdict'),
                      count(*) FILTER (WHERE kind = 'verdict' AND NOT passed),
                      min(at),
                      min(at) FILTER (WHERE kind = 'node_passed'),
                      max(at),
                      max(at) FILTER (WHERE kind = 'verdict')
               FROM fresh
               WHERE node_id IS NOT NULL
               GROUP BY 1, 2
               ON CONFLICT (node_id, user_id) DO UPDATE SET
                   attempts = l.attempts + EXCLUDED.attempts,
                   failures = l.failures + EXCLUDED.failures,
                   -- LEAST and GREATEST skip NULLs: a first pass or attempt is kept.
                   first_at = LEAST(l.first_at, EXCLUDED.first_at),
                   passed_at = LEAST(l.passed_at, EXCLUDED.passed_at),
                   last_at = GREATEST(l.last_at, EXCLUDED.last_at),
                   last_attempt_at = GREATEST(l.last_attempt_at, EXCLUDED.last_attempt_at)
           ), verdicts AS (
               INSERT INTO insights_learner_verdicts AS v (node_id, user_id, verdict, n)
               SELECT node_id, user_id, verdict, count(*)
               FROM fresh
               WHERE kind = 'verdict' AND node_id IS NOT NULL AND verdict IS NOT NULL
               GROUP BY 1, 2, 3
               ON CONFLICT (node_id, user_id, verdict) DO UPDATE SET n = v.n + EXCLUDED.n
           ), moved AS (
               UPDATE insights_rollup_mark
               SET upto = $3, pending = $5,
                   changes = changes + (SELECT (count(*) > 0)::int FROM fresh)
           )
           SELECT count(*) AS "added!" FROM fresh"#,
        floor,
        mark.from,
        mark.to,
        &mark.pending,
        &mark.running,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// Empties the roll-ups so that the next [`roll_up`] adds up the whole log
/// again: for when events were deleted (a re-seed, or the benchmark removing
/// the ones it added), which a roll-up cannot subtract. Call it in the
/// transaction that deletes them. Takes the tables' exclusive lock until then.
pub async fn rebuild(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query!(
        "TRUNCATE insights_daily_activity, insights_node_learners, insights_learner_verdicts"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE insights_rollup_mark SET upto = 0, pending = '{}', changes = changes + 1")
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A summary of everything the views read, taken in one snapshot: equal
/// summaries mean a refresh would compute the same contents, but for what
/// moves with the clock inside a day (the "dropped" learners of
/// `insights_node_difficulty`, idle for more than seven days), which the
/// refresher bounds by refreshing anyway after a while.
///
/// The roll-ups by their change counter (bumped with every change to them);
/// the scopes and the node skills by a count and a sum of row hashes (a set's
/// fingerprint that no order changes): a few milliseconds on 10,000 learners,
/// against the hundreds a refresh takes.
pub async fn fingerprint(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT concat_ws('/',
               (now() AT TIME ZONE 'UTC')::date,
               (SELECT changes FROM insights_rollup_mark),
               (SELECT count(*) || ':' || coalesce(sum(hashtextextended(scope::text || user_id::text, 0)::numeric), 0)
                FROM insights_scopes),
               (SELECT count(*) || ':' || coalesce(sum(hashtextextended(node_id::text || '/' || skill, 0)::numeric), 0)
                FROM insights_node_skills)
           ) AS "fingerprint!""#
    )
    .fetch_one(conn)
    .await
}

async fn chain(
    conn: &mut PgConnection,
    views: &[&'static str],
) -> Result<Vec<(&'static str, Duration)>, sqlx::Error> {
    let mut took = Vec::with_capacity(views.len());
    for view in views {
        let started = Instant::now();
        // The name is one of the constants above, never input: REFRESH takes no
        // bound parameter for a relation name.
        sqlx::query(&format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"))
            .execute(&mut *conn)
            .await?;
        took.push((*view, started.elapsed()));
    }
    Ok(took)
}
