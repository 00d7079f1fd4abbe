//! Recording what a learner does on a node: opening it, and each attempt.
//!
//! An attempt is one transaction: the nodes open to the learner before,
//! the new rows (from core's [`record_attempt`], the same rule the reference
//! uses: best score, failures, pass, test-out of a checkpoint's guards), the
//! nodes open after, and so exactly which nodes this attempt unlocked. Attempts
//! by one learner on one path are serialised by an advisory lock, so two tabs
//! submitting at once cannot both read "before" and lose an update.

use super::queries;
use eduscale_core::paths::{Node, NodeKind, NodeStatus, PathGraph, Progress, record_attempt};
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

async fn lock_learner(tx: &mut PgConnection, user: Uuid, path: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text || $2::text, 0))",
        user.to_string(),
        path.to_string(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
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
    lock_learner(&mut tx, user, path).await?;
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
    lock_learner(&mut tx, user, path).await?;
    // The node, the nodes it guards, and the learner's rows on all of them: one read.
    let targets = targets(&mut tx, user, path, node).await?;
    let Some(info) = targets.first().filter(|t| t.id == node) else {
        return Err(ProgressError::UnknownNode);
    };
    let at = position(info.position);
    // Open nodes before and after are all an attempt needs to know what it
    // unlocked; the full statuses (for the learner's other tabs) come after.
    let before = queries::open_nodes(&mut *tx, user, path).await?;
    if before.binary_search(&at).is_err() {
        return Err(ProgressError::Locked);
    }

    // The rule needs only the node and the nodes it guards: give core a graph of just those.
    let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
    let positions: Vec<usize> = targets.iter().map(|t| position(t.position)).collect();
    let current: Vec<Option<Progress>> = targets.iter().map(Target::progress).collect();
    let mini = PathGraph {
        nodes: std::iter::once(Node {
            key: String::new(),
            kind: info.kind.parse().unwrap_or(NodeKind::Challenge),
            title: String::new(),
            remedial_for: None,
            guards: (1..ids.len()).collect(),
            pass_score: u8::try_from(info.pass_score).unwrap_or(100),
            remediate_after_failures: u32::try_from(info.remediate_after_failures).unwrap_or(1),
            remediate_below_score: u8::try_from(info.remediate_below_score).unwrap_or_default(),
        })
        .chain(targets[1..].iter().map(|_| Node {
            key: String::new(),
            kind: NodeKind::Challenge,
            title: String::new(),
            remedial_for: None,
            guards: Vec::new(),
            pass_score: 100,
            remediate_after_failures: 3,
            remediate_below_score: 50,
        }))
        .collect(),
        edges: Vec::new(),
    };
    let writes = record_attempt(&mini, &current, 0, score);

    let mut skipped = Vec::new();
    let mut passed = false;
    for (i, row) in &writes {
        if *i == 0 {
            passed = score >= mini.nodes[0].pass_score;
        } else {
            skipped.push(positions[*i]);
        }
        write_row(&mut tx, user, path, ids[*i], row, *i == 0).await?;
    }
    let after = queries::open_nodes(&mut *tx, user, path).await?;
    tx.commit().await?;
    let unlocked = after
        .iter()
        .filter(|n| before.binary_search(n).is_err())
        .copied()
        .collect();
    Ok(Attempt {
        passed,
        score,
        unlocked,
        open: after,
        skipped,
    })
}

/// A node an attempt writes to (the one attempted, or one it guards), with the
/// learner's stored row on it.
struct Target {
    id: i64,
    position: i32,
    kind: String,
    pass_score: i16,
    remediate_after_failures: i32,
    remediate_below_score: i16,
    stage: Option<String>,
    best_score: Option<i16>,
    attempts: Option<i32>,
    failures: Option<i32>,
}

impl Target {
    fn progress(&self) -> Option<Progress> {
        let stage = self.stage.as_deref()?;
        Some(Progress {
            stage: stage
                .parse()
                .unwrap_or(eduscale_core::paths::Stage::InProgress),
            best_score: u8::try_from(self.best_score.unwrap_or_default()).unwrap_or_default(),
            attempts: u32::try_from(self.attempts.unwrap_or_default()).unwrap_or_default(),
            failures: u32::try_from(self.failures.unwrap_or_default()).unwrap_or_default(),
        })
    }
}

/// `node` (first; nothing when it is not on `path`), then the nodes it guards by
/// position, each with `user`'s stored progress.
async fn targets(
    tx: &mut PgConnection,
    user: Uuid,
    path: Uuid,
    node: i64,
) -> Result<Vec<Target>, sqlx::Error> {
    sqlx::query_as!(
        Target,
        r#"SELECT n.id, n.position, n.kind, n.pass_score, n.remediate_after_failures,
                  n.remediate_below_score, p.stage AS "stage?", p.best_score AS "best_score?",
                  p.attempts AS "attempts?", p.failures AS "failures?"
           FROM path_nodes n
           LEFT JOIN progress p ON p.user_id = $1 AND p.node_id = n.id
           WHERE n.path_id = $2
             AND (n.id = $3 OR n.id IN (SELECT g.node FROM path_guards g WHERE g.checkpoint = $3))
           ORDER BY n.id <> $3, n.position"#,
        user,
        path,
        node,
    )
    .fetch_all(&mut *tx)
    .await
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
