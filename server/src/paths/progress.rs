//! Recording what a learner does on a node: opening it, and each attempt.
//!
//! An attempt is one transaction: the nodes open to the learner before (core's
//! rules on the stored rows and the path's graph, held in memory by [`graphs`]),
//! the new rows (from core's [`record_attempt`]: best score, failures, pass,
//! test-out of a checkpoint's guards), the nodes open after (the recursive CTE),
//! and so exactly which nodes this attempt unlocked. Attempts by one learner on
//! one path are serialised by an advisory lock, so two tabs submitting at once
//! cannot both read "before" and lose an update.

use super::{graphs, queries};
use eduscale_core::paths::{self as rules, NodeStatus, Progress, record_attempt};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Gaps between two actions longer than this count as this long: a tab left
/// open overnight is not study time.
const MAX_GAP_S: i32 = 300;

/// Why an action on a node was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// The node is not open to this learner yet.
    #[error("this node is locked")]
    Locked,
    /// No such node on this path.
    #[error("no such node")]
    UnknownNode,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What an attempt changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Whether this attempt passed the node.
    pub passed: bool,
    /// The attempt's score, 0..=100.
    pub score: u8,
    /// The nodes open to the learner after it, by position.
    pub open: Vec<usize>,
    /// Positions that were not open before and are open now.
    pub unlocked: Vec<usize>,
    /// Positions tested out of by passing a checkpoint.
    pub skipped: Vec<usize>,
}

/// The score of passing `passed` of `total` cases, as a percentage rounded down.
pub fn score(passed: usize, total: usize) -> u8 {
    if total == 0 {
        return 0;
    }
    u8::try_from(passed.min(total) * 100 / total).unwrap_or(100)
}

async fn node_position(tx: &mut PgConnection, path: Uuid, node: i64) -> Result<i32, ProgressError> {
    sqlx::query_scalar!(
        "SELECT position FROM path_nodes WHERE id = $1 AND path_id = $2",
        node,
        path,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ProgressError::UnknownNode)
}

fn position(p: i32) -> usize {
    usize::try_from(p).unwrap_or_default()
}

/// The learner opened `node`: starts its progress (first opened, time counting)
/// if it is open to them. Returns the node's status.
pub async fn open(
    db: &PgPool,
    user: Uuid,
    path: Uuid,
    node: i64,
) -> Result<NodeStatus, ProgressError> {
    let mut tx = db.begin().await?;
    lock_learner_on_path(&mut tx, user, path).await?;
    let at = node_position(&mut tx, path, node).await?;
    let statuses = queries::statuses(&mut *tx, user, path).await?;
    let status = statuses
        .get(position(at))
        .copied()
        .unwrap_or(NodeStatus::Locked);
    if status == NodeStatus::Locked {
        return Err(ProgressError::Locked);
    }
    sqlx::query!(
        r#"INSERT INTO progress (user_id, node_id, path_id, stage)
           VALUES ($1, $2, $3, 'in_progress')
           ON CONFLICT (user_id, node_id) DO UPDATE SET
               time_spent_s = progress.time_spent_s
                   + LEAST($4, GREATEST(0, EXTRACT(EPOCH FROM now() - progress.last_seen_at)::int)),
               last_seen_at = now()"#,
        user,
        node,
        path,
        MAX_GAP_S,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(if status == NodeStatus::Open {
        NodeStatus::InProgress
    } else {
        status
    })
}

/// Records an attempt at `node` scoring `score` (0..=100): a judged submission,
/// or 100 for a lesson marked as read. Refused on a locked node.
pub async fn attempt(
    db: &PgPool,
    user: Uuid,
    path: Uuid,
    node: i64,
    score: u8,
) -> Result<Attempt, ProgressError> {
    let mut tx = db.begin().await?;
    let stamp = lock_learner_on_path(&mut tx, user, path).await?;
    let held = graphs::graph(&mut tx, path, stamp).await?;
    let graph = &held.graph;
    let at = *held
        .positions
        .get(&node)
        .ok_or(ProgressError::UnknownNode)?;
    // What was open before: core's rules on the rows as they are now (the very
    // rules the CTE mirrors, checked equal by the property tests), from one
    // indexed read of the rows instead of a second run of the CTE.
    let current = rows(&mut tx, user, path, &held.positions, graph.nodes.len()).await?;
    let before = rules::open_nodes(graph, &current);
    if before.binary_search(&at).is_err() {
        return Err(ProgressError::Locked);
    }
    let writes = record_attempt(graph, &current, at, score);
    let mut skipped = Vec::new();
    for (i, row) in &writes {
        if *i != at {
            skipped.push(*i);
        }
        write_row(&mut tx, user, path, held.ids[*i], row, *i == at).await?;
    }
    // What is open now: the recursive CTE, on the rows just written.
    let after = queries::open_nodes(&mut *tx, user, path).await?;
    tx.commit().await?;
    let unlocked = after
        .iter()
        .filter(|n| before.binary_search(n).is_err())
        .copied()
        .collect();
    Ok(Attempt {
        passed: score.min(100) >= graph.nodes[at].pass_score,
        score,
        unlocked,
        open: after,
        skipped,
    })
}

/// Serialises this learner's attempts on this path (see the module docs) and
/// reads the path's [`graphs::Stamp`]; an unknown path is an unknown node.
async fn lock_learner_on_path(
    tx: &mut PgConnection,
    user: Uuid,
    path: Uuid,
) -> Result<graphs::Stamp, ProgressError> {
    let row = sqlx::query!(
        r#"SELECT pg_advisory_xact_lock(hashtextextended($1::text || $2::text, 0)) AS "locked!: ()",
                  content_hash, updated_at
           FROM paths WHERE id = $3"#,
        user.to_string(),
        path.to_string(),
        path,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ProgressError::UnknownNode)?;
    Ok(graphs::Stamp {
        hash: row.content_hash,
        updated_at: row.updated_at,
    })
}

/// `user`'s stored rows on `path`, by node position: [`queries::progress`]
/// without its join to the nodes (the held graph knows their positions).
async fn rows(
    tx: &mut PgConnection,
    user: Uuid,
    path: Uuid,
    positions: &std::collections::HashMap<i64, usize>,
    nodes: usize,
) -> Result<Vec<Option<Progress>>, sqlx::Error> {
    let stored = sqlx::query!(
        "SELECT node_id, stage, best_score, attempts, failures
         FROM progress WHERE user_id = $1 AND path_id = $2",
        user,
        path,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut all = vec![None; nodes];
    for r in stored {
        if let Some(slot) = positions.get(&r.node_id).and_then(|&i| all.get_mut(i)) {
            *slot = Some(queries::stored_progress(
                &r.stage,
                r.best_score,
                r.attempts,
                r.failures,
            ));
        }
    }
    Ok(all)
}

async fn write_row(
    tx: &mut PgConnection,
    user: Uuid,
    path: Uuid,
    node: i64,
    row: &Progress,
    attempted: bool,
) -> Result<(), sqlx::Error> {
    let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let stage = row.stage.as_str();
    sqlx::query!(
        r#"INSERT INTO progress
               (user_id, node_id, path_id, stage, best_score, attempts, failures, passed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $4 = 'passed' THEN now() END)
           ON CONFLICT (user_id, node_id) DO UPDATE SET
               stage = EXCLUDED.stage,
               best_score = EXCLUDED.best_score,
               attempts = EXCLUDED.attempts,
               failures = EXCLUDED.failures,
               passed_at = coalesce(progress.passed_at, EXCLUDED.passed_at),
               time_spent_s = progress.time_spent_s + CASE WHEN $8 THEN
                   LEAST($9, GREATEST(0, EXTRACT(EPOCH FROM now() - progress.last_seen_at)::int))
                   ELSE 0 END,
               last_seen_at = CASE WHEN $8 THEN now() ELSE progress.last_seen_at END"#,
        user,
        node,
        path,
        stage,
        i16::from(row.best_score),
        count(row.attempts),
        count(row.failures),
        attempted,
        MAX_GAP_S,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn score_is_the_percentage_of_cases_passed_rounded_down() {
        assert_eq!(score(0, 3), 0);
        assert_eq!(score(2, 3), 66);
        assert_eq!(score(3, 3), 100);
        assert_eq!(score(0, 0), 0);
    }
}
