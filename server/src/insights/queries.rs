//! The dashboards' SQL: each function one statement over the materialized views
//! (or, for a learner's timeline, over the events by their index). Shaping and
//! predicting happen in [`super::dashboard`]; caching there too.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A scope's name and size.
pub async fn scope_info(
    db: impl PgExecutor<'_>,
    scope: Uuid,
) -> Result<(String, i64), sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT coalesce((SELECT name FROM cohorts WHERE id = $1), 'Whole platform') AS "name!",
                  (SELECT count(*) FROM insights_scopes WHERE scope = $1) AS "learners!""#,
        scope
    )
    .fetch_one(db)
    .await?;
    Ok((r.name, r.learners))
}

/// Active learners and passes in the last 7 days.
pub async fn last_week(db: impl PgExecutor<'_>, scope: Uuid) -> Result<(i64, i64), sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE l.last_day > (now() AT TIME ZONE 'UTC')::date - 7) AS "active!",
                  coalesce(sum(l.passes_7d), 0)::bigint AS "passes!"
           FROM insights_scopes s JOIN insights_learners l USING (user_id)
           WHERE s.scope = $1"#,
        scope
    )
    .fetch_one(db)
    .await?;
    Ok((r.active, r.passes))
}

/// Weekly velocity since `since`, oldest first.
pub async fn velocity(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    since: Date,
) -> Result<Vec<(Date, i64, i64, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT week AS "week!", nodes_passed AS "nodes_passed!", learners_passing AS "passing!",
                  active_learners AS "active!"
           FROM insights_weekly_velocity WHERE scope = $1 AND week >= $2 ORDER BY week"#,
        scope,
        since
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.week, r.nodes_passed, r.passing, r.active))
        .collect())
}

/// Daily and weekly active learners since `since`, oldest first.
pub async fn engagement(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    since: Date,
) -> Result<Vec<(Date, i64, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT day AS "day!", dau AS "dau!", wau AS "wau!"
           FROM insights_engagement WHERE scope = $1 AND day >= $2 ORDER BY day"#,
        scope,
        since
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.dau, r.wau)).collect())
}

/// A node's difficulty for a scope, with where it sits.
#[derive(Debug, Clone)]
pub struct NodeStats {
    /// The node.
    pub node_id: i64,
    /// Its path's slug, its key and title.
    pub path_slug: String,
    /// See `path_slug`.
    pub node_key: String,
    /// See `path_slug`.
    pub title: String,
    /// Learners who touched it.
    pub learners: i64,
    /// Learners who attempted it.
    pub attempted: i64,
    /// Attempts in all.
    pub attempts: i64,
    /// Learners who passed it.
    pub passed: i64,
    /// Median seconds from first touch to pass.
    pub median_pass_s: Option<f64>,
    /// Attempted, not passed, gone for 7 days.
    pub dropped: i64,
}

/// Every node the scope's learners touched (or one node, when `node` is given).
pub async fn node_stats(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    node: Option<i64>,
) -> Result<Vec<NodeStats>, sqlx::Error> {
    sqlx::query_as!(
        NodeStats,
        r#"SELECT d.node_id AS "node_id!", p.slug AS path_slug, n.key AS node_key, n.title,
                  d.learners AS "learners!", d.attempted AS "attempted!", d.attempts AS "attempts!",
                  d.passed AS "passed!", d.median_pass_s, d.dropped AS "dropped!"
           FROM insights_node_difficulty d
           JOIN path_nodes n ON n.id = d.node_id
           JOIN paths p ON p.id = n.path_id
           WHERE d.scope = $1 AND ($2::int8 IS NULL OR d.node_id = $2)"#,
        scope,
        node
    )
    .fetch_all(db)
    .await
}

/// `(node, learner, attempts, failures)` for every scope learner who attempted
/// a node and has not passed it.
pub async fn stuck(
    db: impl PgExecutor<'_>,
    scope: Uuid,
) -> Result<Vec<(i64, Uuid, i64, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT l.node_id AS "node_id!", l.user_id AS "user_id!", l.attempts AS "attempts!",
                  l.failures AS "failures!"
           FROM insights_scopes s JOIN insights_node_learners l USING (user_id)
           WHERE s.scope = $1 AND l.passed_at IS NULL AND l.attempts > 0"#,
        scope
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.node_id, r.user_id, r.attempts, r.failures))
        .collect())
}

/// A learner's attempts and failures on each node they touched.
pub async fn node_counts(
    db: impl PgExecutor<'_>,
    learner: Uuid,
) -> Result<std::collections::HashMap<i64, (i64, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT node_id AS "node_id!", attempts AS "attempts!", failures AS "failures!"
           FROM insights_node_learners WHERE user_id = $1"#,
        learner
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.node_id, (r.attempts, r.failures)))
        .collect())
}

/// The skills of every challenge node: `(node, skill)`.
pub async fn node_skills(db: impl PgExecutor<'_>) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT node_id AS "node_id!", skill AS "skill!" FROM insights_node_skills"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.node_id, r.skill)).collect())
}

/// A learner's record on one skill, with their totals over every attempt.
#[derive(Debug, Clone)]
pub struct SkillCounts {
    /// The learner.
    pub user_id: Uuid,
    /// The skill.
    pub skill: String,
    /// Passed and failed attempts on it.
    pub successes: i64,
    /// See `successes`.
    pub failures: i64,
    /// The learner's passed and failed attempts on anything.
    pub all_successes: i64,
    /// See `all_successes`.
    pub all_failures: i64,
}

/// Skill records of the scope's learners: everyone's (`min_attempts` 0), or only
/// records with at least `min_attempts`; limited to `learners` when given.
pub async fn skill_counts(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    min_attempts: i64,
    learners: Option<&[Uuid]>,
) -> Result<Vec<SkillCounts>, sqlx::Error> {
    sqlx::query_as!(
        SkillCounts,
        r#"SELECT a.user_id AS "user_id!", a.skill AS "skill!", a.successes AS "successes!",
                  a.failures AS "failures!",
                  coalesce(l.successes, 0)::bigint AS "all_successes!",
                  coalesce(l.attempts - l.successes, 0)::bigint AS "all_failures!"
           FROM insights_scopes s
           JOIN insights_skill_attempts a USING (user_id)
           LEFT JOIN insights_learners l USING (user_id)
           WHERE s.scope = $1 AND a.successes + a.failures >= $2
             AND ($3::uuid[] IS NULL OR s.user_id = ANY($3))"#,
        scope,
        min_attempts,
        learners as Option<&[Uuid]>
    )
    .fetch_all(db)
    .await
}

/// A scope learner at a glance.
#[derive(Debug, Clone)]
pub struct LearnerRow {
    /// The learner.
    pub user_id: Uuid,
    /// Their name.
    pub name: String,
    /// When they joined the platform.
    pub joined: OffsetDateTime,
    /// Their last active day; `None` if never.
    pub last_day: Option<Date>,
    /// Passes in the last 7 days and in the 21 before.
    pub passes_7d: i64,
    /// See `passes_7d`.
    pub passes_prev_21d: i64,
    /// Consecutive active days up to yesterday or today.
    pub current_streak: i64,
}

/// The scope's learners (or one), for the at-risk rules.
pub async fn learners(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    one: Option<Uuid>,
) -> Result<Vec<LearnerRow>, sqlx::Error> {
    sqlx::query_as!(
        LearnerRow,
        r#"SELECT u.id AS user_id, u.display_name AS name, u.created_at AS joined,
                  l.last_day AS "last_day?",
                  coalesce(l.passes_7d, 0)::bigint AS "passes_7d!",
                  coalesce(l.passes_prev_21d, 0)::bigint AS "passes_prev_21d!",
                  coalesce(l.current_streak, 0)::bigint AS "current_streak!"
           FROM insights_scopes s
           JOIN users u ON u.id = s.user_id
           LEFT JOIN insights_learners l ON l.user_id = s.user_id
           WHERE s.scope = $1 AND ($2::uuid IS NULL OR s.user_id = $2)"#,
        scope,
        one
    )
    .fetch_all(db)
    .await
}

/// One event of a learner's timeline.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    /// When.
    pub at: OffsetDateTime,
    /// The kind.
    pub kind: String,
    /// The node's title, the verdict, the battle, the page.
    pub node_title: Option<String>,
    /// See `node_title`.
    pub verdict: Option<String>,
    /// See `node_title`.
    pub battle_id: Option<i64>,
    /// See `node_title`.
    pub page: Option<String>,
}

/// A learner's latest `limit` events, newest first (their index, not a view: live).
pub async fn timeline(
    db: impl PgExecutor<'_>,
    learner: Uuid,
    limit: i64,
) -> Result<Vec<TimelineRow>, sqlx::Error> {
    sqlx::query_as!(
        TimelineRow,
        r#"SELECT e.at, e.kind, n.title AS "node_title?", e.verdict, e.battle_id, e.page
           FROM events e LEFT JOIN path_nodes n ON n.id = e.node_id
           WHERE e.user_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT $2"#,
        learner,
        limit
    )
    .fetch_all(db)
    .await
}

/// A learner's finished battles, newest first:
/// `(battle, finished, rank, players, rating after, change)`.
pub async fn battles(
    db: impl PgExecutor<'_>,
    learner: Uuid,
) -> Result<Vec<(i64, Option<OffsetDateTime>, i32, i64, i32, i32)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT r.battle_id, b.finished_at, r.rank, r.rating_before, r.rating_after,
                  (SELECT count(*) FROM battle_results o WHERE o.battle_id = r.battle_id) AS "players!"
           FROM battle_results r JOIN battles b ON b.id = r.battle_id
           WHERE r.user_id = $1 ORDER BY b.finished_at DESC NULLS LAST LIMIT 50"#,
        learner
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.battle_id,
                r.finished_at,
                r.rank,
                r.players,
                r.rating_after,
                r.rating_after - r.rating_before,
            )
        })
        .collect())
}

/// The paths a learner has progress on: `(id, slug, title)`.
pub async fn learner_paths(
    db: impl PgExecutor<'_>,
    learner: Uuid,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.id, p.slug, p.title FROM paths p
           WHERE EXISTS (SELECT 1 FROM progress g WHERE g.user_id = $1 AND g.path_id = p.id)
           ORDER BY p.position"#,
        learner
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.slug, r.title)).collect())
}

/// How many attempts each scope learner who reached `node` made: `(attempts, learners)`.
pub async fn attempt_counts(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    node: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT l.attempts AS "attempts!", count(*) AS "learners!"
           FROM insights_scopes s JOIN insights_node_learners l USING (user_id)
           WHERE s.scope = $1 AND l.node_id = $2
           GROUP BY 1 ORDER BY 1"#,
        scope,
        node
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.attempts, r.learners)).collect())
}

/// Verdicts other than accepted on `node` in the scope, most common first.
pub async fn wrong_verdicts(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    node: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT verdict AS "verdict!", n AS "n!" FROM insights_node_verdicts
           WHERE scope = $1 AND node_id = $2 AND verdict <> 'accepted'
           ORDER BY n DESC, verdict"#,
        scope,
        node
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.verdict, r.n)).collect())
}

/// Every cohort's health figures, for admins.
#[derive(Debug, Clone)]
pub struct HealthRow {
    /// The cohort.
    pub id: Uuid,
    /// Its name and instructor.
    pub name: String,
    /// See `name`.
    pub instructor: String,
    /// Members.
    pub learners: i64,
    /// Active in the last 7 days.
    pub active_7d: i64,
    /// Passes in the last 7 days.
    pub passes_7d: i64,
    /// Passed and all verdicts.
    pub successes: i64,
    /// See `successes`.
    pub attempts: i64,
    /// Inactive for 7 days or more (or never active).
    pub inactive: i64,
}

/// Every cohort, by name.
pub async fn health(db: impl PgExecutor<'_>) -> Result<Vec<HealthRow>, sqlx::Error> {
    sqlx::query_as!(
        HealthRow,
        r#"SELECT c.id, c.name, u.display_name AS instructor,
                  count(m.user_id) AS "learners!",
                  count(*) FILTER (WHERE l.last_day > (now() AT TIME ZONE 'UTC')::date - 7) AS "active_7d!",
                  coalesce(sum(l.passes_7d), 0)::bigint AS "passes_7d!",
                  coalesce(sum(l.successes), 0)::bigint AS "successes!",
                  coalesce(sum(l.attempts), 0)::bigint AS "attempts!",
                  count(m.user_id) FILTER (WHERE l.last_day IS NULL
                      OR l.last_day <= (now() AT TIME ZONE 'UTC')::date - 7) AS "inactive!"
           FROM cohorts c
           JOIN users u ON u.id = c.instructor_id
           LEFT JOIN cohort_members m ON m.cohort_id = c.id
           LEFT JOIN insights_learners l ON l.user_id = m.user_id
           GROUP BY c.id, c.name, u.display_name
           ORDER BY c.name"#
    )
    .fetch_all(db)
    .await
}

/// Display names of `users`.
pub async fn names(
    db: impl PgExecutor<'_>,
    users: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, display_name FROM users WHERE id = ANY($1)",
        users
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// The nodes of `path` at `positions`: `(id, key, title)`, remedial ones included.
pub async fn nodes_at(
    db: impl PgExecutor<'_>,
    path: Uuid,
    positions: &[usize],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let positions: Vec<i32> = positions
        .iter()
        .filter_map(|p| i32::try_from(*p).ok())
        .collect();
    let rows = sqlx::query!(
        "SELECT id, key, title FROM path_nodes WHERE path_id = $1 AND position = ANY($2) ORDER BY position",
        path,
        &positions
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.key, r.title)).collect())
}

/// A node as a prediction names it, with the skills its challenge trains.
#[derive(Debug, Clone)]
pub struct NodeSkills {
    /// Database id.
    pub id: i64,
    /// Its key in its path.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Its challenge's skills (none for a lesson).
    pub skills: Vec<String>,
}

/// [`NodeSkills`] of the nodes `ids`, in no particular order.
pub async fn nodes_with_skills(
    db: impl PgExecutor<'_>,
    ids: &[i64],
) -> Result<Vec<NodeSkills>, sqlx::Error> {
    sqlx::query_as!(
        NodeSkills,
        r#"SELECT n.id, n.key, n.title, coalesce(c.skills, '{}') AS "skills!"
           FROM path_nodes n LEFT JOIN challenges c ON c.id = n.challenge_id
           WHERE n.id = ANY($1)"#,
        ids
    )
    .fetch_all(db)
    .await
}

/// Every cohort's id.
pub async fn cohort_ids(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM cohorts ORDER BY id")
        .fetch_all(db)
        .await
}
