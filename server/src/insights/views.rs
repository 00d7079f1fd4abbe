//! The materialized views dashboards read, and refreshing them.
//!
//! Views are refreshed `CONCURRENTLY`, so dashboards keep reading the previous
//! contents while a refresh runs, in dependency order (a view built on another
//! comes after it). Which instance refreshes, and when, is `refresher`'s job.

use sqlx::{PgConnection, PgPool};
use std::time::{Duration, Instant};

/// The views in two chains that share nothing: each in the order its refresh
/// must follow (a view built on another comes after it). The chains are
/// refreshed side by side, on two connections.
pub const CHAINS: [&[&str]; 2] = [
    &[
        "insights_node_learners",
        "insights_node_difficulty",
        "insights_node_verdicts",
        "insights_skill_attempts",
    ],
    &[
        "insights_daily_activity",
        "insights_weekly_velocity",
        "insights_engagement",
        "insights_learners",
    ],
];

/// Every materialized view, in an order a refresh one by one may follow.
pub const VIEWS: &[&str] = &[
    "insights_node_learners",
    "insights_node_difficulty",
    "insights_node_verdicts",
    "insights_skill_attempts",
    "insights_daily_activity",
    "insights_weekly_velocity",
    "insights_engagement",
    "insights_learners",
];

/// How long each view took to refresh.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// `(view, time taken)`, chain by chain.
    pub views: Vec<(&'static str, Duration)>,
}

/// Refreshes every view concurrently (readers are never blocked).
pub async fn refresh_all(db: &PgPool) -> Result<Refreshed, sqlx::Error> {
    let mut conn = db.acquire().await?;
    refresh_on(&mut conn, db).await
}

/// [`refresh_all`], the first chain on `conn` (the one holding the refresher's
/// lock) and the second on another connection from `db`, side by side: on 5
/// million events this takes the longest chain's time, not the sum.
pub async fn refresh_on(conn: &mut PgConnection, db: &PgPool) -> Result<Refreshed, sqlx::Error> {
    let mut other = db.acquire().await?;
    let (mut first, second) =
        tokio::try_join!(chain(conn, CHAINS[0]), chain(&mut other, CHAINS[1]))?;
    first.extend(second);
    Ok(Refreshed { views: first })
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
