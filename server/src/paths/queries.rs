//! Reading paths and a learner's place on them.
//!
//! The questions "what is open", "what does this node need", "what does it lead
//! to" and "what is left before that node" are each one recursive CTE in
//! `sql/`, mirroring the rules in [`eduscale_core::paths`] (a property test
//! checks they agree on random graphs). Functions take `impl PgExecutor`, so a
//! caller decides whether they run inside its transaction.

use eduscale_core::paths::{Edge, Node, NodeKind, NodeStatus, PathGraph, Progress, Stage};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A path as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRow {
    /// Stable id.
    pub id: Uuid,
    /// Its name in URLs.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// One or two sentences.
    pub summary: String,
    /// The language its challenges start in (an id).
    pub language: String,
}

/// A path with one learner's progress on it, for the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProgress {
    /// The path.
    pub path: PathRow,
    /// Nodes in it (remedial ones excluded: not everyone takes them).
    pub nodes: i64,
    /// Of those, passed or skipped by this learner.
    pub done: i64,
}

/// One node's stored data, beside its place in the [`PathGraph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    /// Database id.
    pub id: i64,
    /// Its key in the path.
    pub key: String,
    /// The challenge it judges against, for challenges and checkpoints.
    pub challenge_id: Option<Uuid>,
    /// The challenge's slug.
    pub challenge_slug: Option<String>,
}

/// Every path, in list order, with `user`'s progress on each.
pub async fn list(db: impl PgExecutor<'_>, user: Uuid) -> Result<Vec<PathProgress>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.id, p.slug, p.title, p.summary, p.language,
                  (SELECT count(*) FROM path_nodes n
                   WHERE n.path_id = p.id AND n.remedial_for IS NULL) AS "nodes!",
                  (SELECT count(*) FROM progress g
                   JOIN path_nodes n ON n.id = g.node_id
                   WHERE g.user_id = $1 AND g.path_id = p.id AND n.remedial_for IS NULL
                     AND g.stage IN ('passed', 'skipped')) AS "done!"
           FROM paths p
           ORDER BY p.position, p.slug"#,
        user,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PathProgress {
            path: PathRow {
                id: r.id,
                slug: r.slug,
                title: r.title,
                summary: r.summary,
                language: r.language,
            },
            nodes: r.nodes,
            done: r.done,
        })
        .collect())
}

/// The path with this slug.
pub async fn find(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<PathRow>, sqlx::Error> {
    sqlx::query_as!(
        PathRow,
        "SELECT id, slug, title, summary, language FROM paths WHERE slug = $1",
        slug
    )
    .fetch_optional(db)
    .await
}

/// A path's graph as core models it, and each node's stored data (same order).
pub async fn graph(
    db: &mut sqlx::PgConnection,
    path: Uuid,
) -> Result<(PathGraph, Vec<NodeRow>), sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT n.id, n.key, n.kind, n.title, n.position, n.challenge_id,
                  c.slug AS "challenge_slug?", t.position AS "remedial_for?",
                  n.pass_score, n.remediate_after_failures, n.remediate_below_score,
                  coalesce((SELECT array_agg(gn.position ORDER BY gn.position)
                            FROM path_guards g JOIN path_nodes gn ON gn.id = g.node
                            WHERE g.checkpoint = n.id), '{}') AS "guards!"
           FROM path_nodes n
           LEFT JOIN challenges c ON c.id = n.challenge_id
           LEFT JOIN path_nodes t ON t.id = n.remedial_for
           WHERE n.path_id = $1
           ORDER BY n.position"#,
        path,
    )
    .fetch_all(&mut *db)
    .await?;
    let edges = sqlx::query!(
        r#"SELECT f.position AS "from!", t.position AS "to!", e.min_score, e.grp
           FROM path_edges e
           JOIN path_nodes f ON f.id = e.from_node
           JOIN path_nodes t ON t.id = e.to_node
           WHERE e.path_id = $1
           ORDER BY e.ordinal"#,
        path,
    )
    .fetch_all(&mut *db)
    .await?;
    // Positions are 0..n (the import writes them so) and scores are CHECKed to 0..=100.
    let index = |p: i32| usize::try_from(p).unwrap_or_default();
    let score = |s: i16| u8::try_from(s).unwrap_or_default();
    let mut nodes = Vec::with_capacity(rows.len());
    let mut stored = Vec::with_capacity(rows.len());
    for r in rows {
        nodes.push(Node {
            key: r.key.clone(),
            kind: r.kind.parse().unwrap_or(NodeKind::Challenge),
            title: r.title,
            remedial_for: r.remedial_for.map(index),
            guards: r.guards.into_iter().map(index).collect(),
            pass_score: score(r.pass_score),
            remediate_after_failures: u32::try_from(r.remediate_after_failures).unwrap_or(1),
            remediate_below_score: score(r.remediate_below_score),
        });
        stored.push(NodeRow {
            id: r.id,
            key: r.key,
            challenge_id: r.challenge_id,
            challenge_slug: r.challenge_slug,
        });
    }
    let edges = edges
        .into_iter()
        .map(|e| Edge {
            from: index(e.from),
            to: index(e.to),
            min_score: score(e.min_score),
            group: u32::try_from(e.grp).unwrap_or_default(),
        })
        .collect();
    Ok((PathGraph { nodes, edges }, stored))
}

/// `user`'s stored progress on every node of `path`, by node position.
pub async fn progress(
    db: impl PgExecutor<'_>,
    user: Uuid,
    path: Uuid,
    nodes: usize,
) -> Result<Vec<Option<Progress>>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT n.position, p.stage, p.best_score, p.attempts, p.failures
           FROM progress p JOIN path_nodes n ON n.id = p.node_id
           WHERE p.user_id = $1 AND p.path_id = $2"#,
        user,
        path,
    )
    .fetch_all(db)
    .await?;
    let mut all = vec![None; nodes];
    for r in rows {
        if let Some(slot) = usize::try_from(r.position)
            .ok()
            .and_then(|i| all.get_mut(i))
        {
            *slot = Some(stored_progress(
                &r.stage,
                r.best_score,
                r.attempts,
                r.failures,
            ));
        }
    }
    Ok(all)
}

/// A stored `progress` row as core models it (the table's CHECKs keep the
/// numbers in range).
pub(crate) fn stored_progress(
    stage: &str,
    best_score: i16,
    attempts: i32,
    failures: i32,
) -> Progress {
    Progress {
        stage: stage.parse().unwrap_or(Stage::InProgress),
        best_score: u8::try_from(best_score).unwrap_or_default(),
        attempts: u32::try_from(attempts).unwrap_or_default(),
        failures: u32::try_from(failures).unwrap_or_default(),
    }
}

/// What `user` sees on every node of `path`, by position (one recursive CTE).
pub async fn statuses(
    db: impl PgExecutor<'_>,
    user: Uuid,
    path: Uuid,
) -> Result<Vec<NodeStatus>, sqlx::Error> {
    let rows = sqlx::query_file!("src/paths/sql/statuses.sql", user, path)
        .fetch_all(db)
        .await?;
    // The CASE in the query yields only status names, so parsing cannot fail.
    Ok(rows
        .into_iter()
        .map(|r| r.status.parse().unwrap_or(NodeStatus::Locked))
        .collect())
}

/// The nodes `user` can work on now (open or in progress), by position (one
/// recursive CTE that stops at the learner's frontier).
pub async fn open_nodes(
    db: impl PgExecutor<'_>,
    user: Uuid,
    path: Uuid,
) -> Result<Vec<usize>, sqlx::Error> {
    Ok(open_nodes_with_ids(db, user, path)
        .await?
        .into_iter()
        .map(|n| n.position)
        .collect())
}

/// A node a learner can work on now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenNode {
    /// Database id.
    pub id: i64,
    /// Its position in the path.
    pub position: usize,
}

/// [`open_nodes`] with each node's database id.
pub async fn open_nodes_with_ids(
    db: impl PgExecutor<'_>,
    user: Uuid,
    path: Uuid,
) -> Result<Vec<OpenNode>, sqlx::Error> {
    let rows = sqlx::query_file!("src/paths/sql/open_nodes.sql", user, path)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| OpenNode {
            id: r.id,
            position: usize::try_from(r.position).unwrap_or_default(),
        })
        .collect())
}

/// A node related to another, with how far it is and the learner's stage on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Its position in the path.
    pub position: usize,
    /// Its key.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Edges away (the nearest route).
    pub distance: usize,
    /// What the learner stored on it, if anything.
    pub stage: Option<Stage>,
}

/// What `node` needs: its ancestors, nearest first.
pub async fn ancestors(
    db: impl PgExecutor<'_>,
    user: Uuid,
    node: i64,
) -> Result<Vec<Related>, sqlx::Error> {
    let rows = sqlx::query_file!("src/paths/sql/ancestors.sql", user, node)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| related(r.position, r.key, r.title, r.depth, r.stage))
        .collect())
}

/// What `node` leads to: its descendants, nearest first.
pub async fn descendants(
    db: impl PgExecutor<'_>,
    user: Uuid,
    node: i64,
) -> Result<Vec<Related>, sqlx::Error> {
    let rows = sqlx::query_file!("src/paths/sql/descendants.sql", user, node)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| related(r.position, r.key, r.title, r.depth, r.stage))
        .collect())
}

/// What is left before `target`, in the order to do it (the critical path).
pub async fn remaining(
    db: impl PgExecutor<'_>,
    user: Uuid,
    target: i64,
) -> Result<Vec<Related>, sqlx::Error> {
    let rows = sqlx::query_file!("src/paths/sql/remaining.sql", user, target)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| related(r.position, r.key, r.title, r.distance, None))
        .collect())
}

fn related(
    position: i32,
    key: String,
    title: String,
    distance: i32,
    stage: Option<String>,
) -> Related {
    Related {
        position: usize::try_from(position).unwrap_or_default(),
        key,
        title,
        distance: usize::try_from(distance).unwrap_or_default(),
        stage: stage.and_then(|s| s.parse().ok()),
    }
}

/// A node as its page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDetail {
    /// Database id.
    pub id: i64,
    /// Its position in the path.
    pub position: i32,
    /// Its key.
    pub key: String,
    /// lesson, challenge or checkpoint.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// A lesson's HTML.
    pub body_html: String,
    /// The challenge it judges against.
    pub challenge_id: Option<Uuid>,
}

/// The node `key` of `path`.
pub async fn node(
    db: impl PgExecutor<'_>,
    path: Uuid,
    key: &str,
) -> Result<Option<NodeDetail>, sqlx::Error> {
    sqlx::query_as!(
        NodeDetail,
        r#"SELECT id, position, key, kind, title, body_html, challenge_id
           FROM path_nodes WHERE path_id = $1 AND key = $2"#,
        path,
        key,
    )
    .fetch_optional(db)
    .await
}

/// A node's direct prerequisites, in the order they were written: key, title,
/// required score and position.
pub async fn prerequisites(
    db: impl PgExecutor<'_>,
    node: i64,
) -> Result<Vec<(String, String, u8, usize)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT f.key, f.title, e.min_score, f.position
           FROM path_edges e JOIN path_nodes f ON f.id = e.from_node
           WHERE e.to_node = $1 ORDER BY e.ordinal"#,
        node
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.key,
                r.title,
                u8::try_from(r.min_score).unwrap_or_default(),
                usize::try_from(r.position).unwrap_or_default(),
            )
        })
        .collect())
}

/// The keys a checkpoint tests out of.
pub async fn guards(db: impl PgExecutor<'_>, checkpoint: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT n.key FROM path_guards g JOIN path_nodes n ON n.id = g.node
           WHERE g.checkpoint = $1 ORDER BY n.position"#,
        checkpoint
    )
    .fetch_all(db)
    .await
}

/// What a learner may see of a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeParts {
    /// Its slug.
    pub slug: String,
    /// Statement HTML.
    pub statement_html: String,
    /// Language ids.
    pub languages: Vec<String>,
    /// Starter code by language id.
    pub starters: std::collections::BTreeMap<String, String>,
    /// 1 to 5.
    pub difficulty: i16,
    /// Visible cases only: input and expected output.
    pub examples: Vec<(String, String)>,
}

type Starters = sqlx::types::Json<std::collections::BTreeMap<String, String>>;

/// The public parts of challenge `id`: never a hidden case.
pub async fn challenge_parts(
    db: &mut sqlx::PgConnection,
    id: Uuid,
) -> Result<Option<ChallengeParts>, sqlx::Error> {
    let Some(c) = sqlx::query!(
        r#"SELECT slug, statement_html, languages, starters AS "starters: Starters", difficulty
           FROM challenges WHERE id = $1"#,
        id
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(None);
    };
    let examples = sqlx::query!(
        "SELECT stdin, expected FROM challenge_tests WHERE challenge_id = $1 AND visible ORDER BY position",
        id
    )
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .map(|t| (t.stdin, t.expected))
    .collect();
    Ok(Some(ChallengeParts {
        slug: c.slug,
        statement_html: c.statement_html,
        languages: c.languages,
        starters: c.starters.0,
        difficulty: c.difficulty,
        examples,
    }))
}

/// `user`'s best score on `node` (0 when never attempted).
pub async fn best_score(db: impl PgExecutor<'_>, user: Uuid, node: i64) -> Result<u8, sqlx::Error> {
    let best = sqlx::query_scalar!(
        "SELECT best_score FROM progress WHERE user_id = $1 AND node_id = $2",
        user,
        node
    )
    .fetch_optional(db)
    .await?;
    Ok(best.map_or(0, |s| u8::try_from(s).unwrap_or_default()))
}
