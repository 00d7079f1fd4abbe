//! Writes checked [`Content`] into the database: all of it, or none of it.
//!
//! Challenges are upserted by slug and paths by slug, nodes by (path, key), so
//! ids stay stable across imports and learners keep their progress. A hash of
//! each imported file skips what did not change, so importing the same folder
//! twice writes nothing the second time. After a path's edges are written, the
//! database itself is asked whether they make a cycle (`sql/cycle.sql`): the
//! same rule core checked, enforced where an edit from any other tool lands too.

use super::content::{ChallengeContent, Content, NodeBody, PathContent};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Challenges created.
    pub challenges_created: usize,
    /// Challenges whose files changed, rewritten.
    pub challenges_updated: usize,
    /// Challenges unchanged.
    pub challenges_unchanged: usize,
    /// Paths created.
    pub paths_created: usize,
    /// Paths rewritten.
    pub paths_updated: usize,
    /// Paths unchanged.
    pub paths_unchanged: usize,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The database found a cycle in a path's prerequisites.
    #[error("path {path}: node {node:?} requires itself through its prerequisites")]
    Cycle {
        /// The path's slug.
        path: String,
        /// A node on the cycle.
        node: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Imports `content` in one transaction.
pub async fn import(db: &PgPool, content: &Content) -> Result<ImportReport, ImportError> {
    let mut tx = db.begin().await?;
    // One import at a time: two servers starting together must not interleave.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('eduscale:content-import'))")
        .execute(&mut *tx)
        .await?;
    let mut report = ImportReport::default();
    for challenge in &content.challenges {
        match upsert_challenge(&mut tx, challenge).await? {
            Change::Created => report.challenges_created += 1,
            Change::Updated => report.challenges_updated += 1,
            Change::Unchanged => report.challenges_unchanged += 1,
        }
    }
    for path in &content.paths {
        match upsert_path(&mut tx, path).await? {
            Change::Created => report.paths_created += 1,
            Change::Updated => report.paths_updated += 1,
            Change::Unchanged => report.paths_unchanged += 1,
        }
    }
    tx.commit().await?;
    Ok(report)
}

enum Change {
    Created,
    Updated,
    Unchanged,
}

async fn upsert_challenge(
    tx: &mut PgConnection,
    c: &ChallengeContent,
) -> Result<Change, sqlx::Error> {
    let existing = sqlx::query!(
        "SELECT id, content_hash FROM challenges WHERE slug = $1",
        c.slug
    )
    .fetch_optional(&mut *tx)
    .await?;
    if existing
        .as_ref()
        .is_some_and(|e| e.content_hash.as_deref() == Some(c.hash.as_str()))
    {
        return Ok(Change::Unchanged);
    }
    let saturate = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let languages: Vec<&str> = c.languages.iter().map(|l| l.id()).collect();
    let id = sqlx::query_scalar!(
        r#"INSERT INTO challenges
               (slug, title, statement, statement_html, checker, time_limit_ms, fuel_limit,
                memory_limit_bytes, output_limit_bytes, difficulty, battle, skills, languages,
                starters, content_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (slug) DO UPDATE SET
               title = EXCLUDED.title, statement = EXCLUDED.statement,
               statement_html = EXCLUDED.statement_html, checker = EXCLUDED.checker,
               time_limit_ms = EXCLUDED.time_limit_ms, fuel_limit = EXCLUDED.fuel_limit,
               memory_limit_bytes = EXCLUDED.memory_limit_bytes,
               output_limit_bytes = EXCLUDED.output_limit_bytes,
               difficulty = EXCLUDED.difficulty, battle = EXCLUDED.battle,
               skills = EXCLUDED.skills, languages = EXCLUDED.languages,
               starters = EXCLUDED.starters, content_hash = EXCLUDED.content_hash
           RETURNING id"#,
        c.slug,
        c.title,
        c.statement,
        c.statement_html,
        Json(&c.checker) as _,
        i32::try_from(c.limits.wall.as_millis()).unwrap_or(i32::MAX),
        saturate(c.limits.fuel),
        saturate(c.limits.memory_bytes),
        i32::try_from(c.limits.output_bytes).unwrap_or(i32::MAX),
        i16::from(c.difficulty),
        c.battle,
        &c.skills,
        &languages as &[&str],
        Json(&c.starters) as _,
        c.hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    crate::challenges::replace_tests(tx, id, &c.tests).await?;
    Ok(if existing.is_some() {
        Change::Updated
    } else {
        Change::Created
    })
}

async fn upsert_path(tx: &mut PgConnection, p: &PathContent) -> Result<Change, ImportError> {
    let existing = sqlx::query!("SELECT id, content_hash FROM paths WHERE slug = $1", p.slug)
        .fetch_optional(&mut *tx)
        .await?;
    if existing
        .as_ref()
        .is_some_and(|e| e.content_hash.as_deref() == Some(p.hash.as_str()))
    {
        return Ok(Change::Unchanged);
    }
    let path_id = sqlx::query_scalar!(
        r#"INSERT INTO paths (slug, title, summary, language, position, content_hash)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (slug) DO UPDATE SET
               title = EXCLUDED.title, summary = EXCLUDED.summary, language = EXCLUDED.language,
               position = EXCLUDED.position, content_hash = EXCLUDED.content_hash,
               updated_at = now()
           RETURNING id"#,
        p.slug,
        p.title,
        p.summary,
        p.language.id(),
        p.order,
        p.hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    write_graph(tx, path_id, p).await?;
    if let Some(node) = sqlx::query_file_scalar!("src/paths/sql/cycle.sql", path_id)
        .fetch_optional(&mut *tx)
        .await?
    {
        return Err(ImportError::Cycle {
            path: p.slug.clone(),
            node,
        });
    }
    Ok(if existing.is_some() {
        Change::Updated
    } else {
        Change::Created
    })
}

/// Replaces a path's nodes (keeping the ids of keys that stay), edges and guards.
pub(crate) async fn write_graph(
    tx: &mut PgConnection,
    path_id: Uuid,
    p: &PathContent,
) -> Result<(), sqlx::Error> {
    let nodes = &p.graph.nodes;
    let keys: Vec<&str> = nodes.iter().map(|n| n.key.as_str()).collect();
    let positions: Vec<i32> = (0..).take(nodes.len()).collect();
    let kinds: Vec<&str> = nodes.iter().map(|n| n.kind.as_str()).collect();
    let titles: Vec<&str> = nodes.iter().map(|n| n.title.as_str()).collect();
    let (mut bodies, mut slugs) = (Vec::new(), Vec::new());
    for body in &p.bodies {
        match body {
            NodeBody::Lesson { html } => {
                bodies.push(html.as_str());
                slugs.push(None);
            }
            NodeBody::Challenge { slug } => {
                bodies.push("");
                slugs.push(Some(slug.as_str()));
            }
        }
    }
    let pass: Vec<i16> = nodes.iter().map(|n| i16::from(n.pass_score)).collect();
    let after: Vec<i32> = nodes
        .iter()
        .map(|n| i32::try_from(n.remediate_after_failures).unwrap_or(i32::MAX))
        .collect();
    let below: Vec<i16> = nodes
        .iter()
        .map(|n| i16::from(n.remediate_below_score))
        .collect();
    sqlx::query!(
        "DELETE FROM path_nodes WHERE path_id = $1 AND NOT (key = ANY($2::text[]))",
        path_id,
        &keys as &[&str],
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query!(
        r#"INSERT INTO path_nodes
               (path_id, key, position, kind, title, body_html, challenge_id,
                pass_score, remediate_after_failures, remediate_below_score)
           SELECT $1, t.key, t.position, t.kind, t.title, t.body, c.id, t.pass, t.after, t.below
           FROM UNNEST($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::smallint[], $9::int[], $10::smallint[])
                AS t(key, position, kind, title, body, slug, pass, after, below)
           LEFT JOIN challenges c ON c.slug = t.slug
           ON CONFLICT (path_id, key) DO UPDATE SET
               position = EXCLUDED.position, kind = EXCLUDED.kind, title = EXCLUDED.title,
               body_html = EXCLUDED.body_html, challenge_id = EXCLUDED.challenge_id,
               pass_score = EXCLUDED.pass_score,
               remediate_after_failures = EXCLUDED.remediate_after_failures,
               remediate_below_score = EXCLUDED.remediate_below_score,
               remedial_for = NULL
           RETURNING id, key"#,
        path_id,
        &keys as &[&str],
        &positions,
        &kinds as &[&str],
        &titles as &[&str],
        &bodies as &[&str],
        &slugs as &[Option<&str>],
        &pass,
        &after,
        &below,
    )
    .fetch_all(&mut *tx)
    .await?;
    let by_key: HashMap<&str, i64> = rows.iter().map(|r| (r.key.as_str(), r.id)).collect();
    let ids: Vec<i64> = keys.iter().map(|k| by_key[k]).collect();

    let (mut remedial, mut targets) = (Vec::new(), Vec::new());
    for (i, n) in nodes.iter().enumerate() {
        if let Some(t) = n.remedial_for {
            remedial.push(ids[i]);
            targets.push(ids[t]);
        }
    }
    sqlx::query!(
        r#"UPDATE path_nodes n SET remedial_for = t.target
           FROM UNNEST($1::bigint[], $2::bigint[]) AS t(node, target)
           WHERE n.id = t.node"#,
        &remedial,
        &targets,
    )
    .execute(&mut *tx)
    .await?;

    sqlx::query!("DELETE FROM path_edges WHERE path_id = $1", path_id)
        .execute(&mut *tx)
        .await?;
    let edges = &p.graph.edges;
    let from: Vec<i64> = edges.iter().map(|e| ids[e.from]).collect();
    let to: Vec<i64> = edges.iter().map(|e| ids[e.to]).collect();
    let min: Vec<i16> = edges.iter().map(|e| i16::from(e.min_score)).collect();
    let group: Vec<i32> = edges
        .iter()
        .map(|e| i32::try_from(e.group).unwrap_or(i32::MAX))
        .collect();
    let ordinal: Vec<i32> = (0..).take(edges.len()).collect();
    sqlx::query!(
        r#"INSERT INTO path_edges (path_id, from_node, to_node, min_score, grp, ordinal)
           SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::smallint[], $5::int[], $6::int[])"#,
        path_id,
        &from,
        &to,
        &min,
        &group,
        &ordinal,
    )
    .execute(&mut *tx)
    .await?;

    sqlx::query!(
        "DELETE FROM path_guards g USING path_nodes n WHERE g.checkpoint = n.id AND n.path_id = $1",
        path_id
    )
    .execute(&mut *tx)
    .await?;
    let (mut checkpoints, mut guarded) = (Vec::new(), Vec::new());
    for (i, n) in nodes.iter().enumerate() {
        for &g in &n.guards {
            checkpoints.push(ids[i]);
            guarded.push(ids[g]);
        }
    }
    sqlx::query!(
        "INSERT INTO path_guards (checkpoint, node) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])",
        &checkpoints,
        &guarded,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
