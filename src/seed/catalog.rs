//! The imported content as the seeder walks it: paths, their nodes in order, the
//! prerequisite groups, remedial nodes, checkpoint guards, and each challenge's
//! skills and difficulty.
//!
//! Read once from the database (the seeder never imports content itself: seeding a
//! database whose paths differ from what the server shows would make histories
//! nobody can open), then used by index: nodes and skills are numbered here and
//! the simulation never touches a string or an id until rows are written.

use super::story::{FIXED_PAGES, NONE};
use anyhow::Context;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// What kind of node it is, as the seeder treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Read, then complete: no attempts.
    Lesson,
    /// Solved by submissions that the judge accepts or not.
    Challenge,
    /// A challenge whose pass tests the learner out of its guarded nodes.
    Checkpoint,
}

/// One path.
#[derive(Debug, Clone)]
pub struct Path {
    /// `paths.id`.
    pub id: Uuid,
    /// `paths.slug`, for page addresses.
    pub slug: String,
    /// Its nodes (indices into [`Catalog::nodes`]) in the file's order.
    pub nodes: Vec<usize>,
}

/// One node.
#[derive(Debug, Clone)]
pub struct Node {
    /// `path_nodes.id`.
    pub id: i64,
    /// Index into [`Catalog::paths`].
    pub path: usize,
    /// The node's key, for page addresses.
    pub key: String,
    /// Lesson, challenge or checkpoint.
    pub kind: NodeKind,
    /// The challenge's difficulty, 1 to 5 (1 for lessons).
    pub difficulty: u8,
    /// The challenge's skills (indices into [`Catalog::skills`]).
    pub skills: Vec<u16>,
    /// Prerequisite groups: every group needs one of its nodes done.
    pub groups: Vec<Vec<usize>>,
    /// The node this one is remedial for, if it is remedial.
    pub remedial_for: Option<usize>,
    /// The remedial nodes that open when a learner struggles here.
    pub remedials: Vec<usize>,
    /// Failures after which a learner counts as struggling here.
    pub remediate_after_failures: u32,
    /// A checkpoint's guarded nodes (tested out of when it is passed).
    pub guards: Vec<usize>,
}

/// Every path, node and skill of the imported content.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// In the order the platform lists them.
    pub paths: Vec<Path>,
    /// All nodes of all paths.
    pub nodes: Vec<Node>,
    /// The distinct skills of the imported challenges, sorted.
    pub skills: Vec<String>,
}

type NodeRow = (
    i64,
    Uuid,
    String,
    String,
    Option<i64>,
    i32,
    Option<i16>,
    Option<Vec<String>>,
);

impl Catalog {
    /// Reads the imported content; an error names `eduscale import content` when there is none.
    pub async fn load(db: &PgPool) -> anyhow::Result<Catalog> {
        let paths: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, slug FROM paths ORDER BY position, slug")
                .fetch_all(db)
                .await
                .context("reading the paths")?;
        let rows: Vec<NodeRow> = sqlx::query_as(
            "SELECT n.id, n.path_id, n.key, n.kind, n.remedial_for, n.remediate_after_failures,
                    c.difficulty, c.skills
             FROM path_nodes n
             LEFT JOIN challenges c ON c.id = n.challenge_id
             ORDER BY n.path_id, n.position",
        )
        .fetch_all(db)
        .await
        .context("reading the path nodes")?;
        if paths.is_empty() || rows.is_empty() {
            anyhow::bail!(
                "no learning paths in this database: import the shipped ones first with `eduscale import content`"
            );
        }
        let edges: Vec<(i64, i64, i32)> = sqlx::query_as(
            "SELECT from_node, to_node, grp FROM path_edges ORDER BY to_node, grp, ordinal",
        )
        .fetch_all(db)
        .await
        .context("reading the prerequisites")?;
        let guards: Vec<(i64, i64)> =
            sqlx::query_as("SELECT checkpoint, node FROM path_guards ORDER BY checkpoint, node")
                .fetch_all(db)
                .await
                .context("reading the checkpoint guards")?;
        let skills: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT s FROM challenges, unnest(skills) AS s ORDER BY s")
                .fetch_all(db)
                .await
                .context("reading the skills")?;
        let catalog = build(paths, rows, &edges, &guards, skills);
        // Events name nodes, pages and skills by 16-bit numbers (millions of them stay small).
        let pages = FIXED_PAGES.len() + catalog.paths.len() + catalog.nodes.len();
        anyhow::ensure!(
            pages < usize::from(NONE) && catalog.skills.len() < usize::from(NONE),
            "too much content to seed: {} nodes and {} skills (the seeder handles up to 65,000)",
            catalog.nodes.len(),
            catalog.skills.len()
        );
        Ok(catalog)
    }

    /// The address of a path's page.
    pub fn path_page(&self, path: usize) -> String {
        format!("/paths/{}", self.paths[path].slug)
    }

    /// The address of a node's page.
    pub fn node_page(&self, node: usize) -> String {
        let n = &self.nodes[node];
        format!("/paths/{}/{}", self.paths[n.path].slug, n.key)
    }
}

fn build(
    path_rows: Vec<(Uuid, String)>,
    rows: Vec<NodeRow>,
    edges: &[(i64, i64, i32)],
    guards: &[(i64, i64)],
    skills: Vec<String>,
) -> Catalog {
    let path_index: HashMap<Uuid, usize> = path_rows
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let skill_index: HashMap<&str, u16> = skills
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), u16::try_from(i).unwrap_or(u16::MAX)))
        .collect();
    let mut paths: Vec<Path> = path_rows
        .iter()
        .map(|(id, slug)| Path {
            id: *id,
            slug: slug.clone(),
            nodes: Vec::new(),
        })
        .collect();
    // Nodes in the platform's path order, each path's nodes in file order.
    let mut rows: Vec<(usize, NodeRow)> = rows
        .into_iter()
        .filter_map(|r| path_index.get(&r.1).map(|&p| (p, r)))
        .collect();
    rows.sort_by_key(|(p, _)| *p);
    let node_index: HashMap<i64, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, r))| (r.0, i))
        .collect();
    let mut remedial_ids = Vec::with_capacity(rows.len());
    let mut nodes: Vec<Node> = Vec::with_capacity(rows.len());
    for (i, (path, (id, _, key, kind, remedial_for, after, difficulty, node_skills))) in
        rows.into_iter().enumerate()
    {
        paths[path].nodes.push(i);
        remedial_ids.push(remedial_for);
        let kind = match kind.as_str() {
            "lesson" => NodeKind::Lesson,
            "checkpoint" => NodeKind::Checkpoint,
            _ => NodeKind::Challenge,
        };
        nodes.push(Node {
            id,
            path,
            key,
            kind,
            difficulty: difficulty
                .and_then(|d| u8::try_from(d.clamp(1, 5)).ok())
                .unwrap_or(1),
            skills: node_skills
                .unwrap_or_default()
                .iter()
                .filter_map(|s| skill_index.get(s.as_str()).copied())
                .collect(),
            groups: Vec::new(),
            remedial_for: None,
            remedials: Vec::new(),
            remediate_after_failures: u32::try_from(after.max(1)).unwrap_or(3),
            guards: Vec::new(),
        });
    }
    for (i, target) in remedial_ids.into_iter().enumerate() {
        if let Some(&t) = target.and_then(|id| node_index.get(&id)) {
            nodes[i].remedial_for = Some(t);
            nodes[t].remedials.push(i);
        }
    }
    let mut last: Option<(usize, i32)> = None;
    for &(from, to, grp) in edges {
        let (Some(&from), Some(&to)) = (node_index.get(&from), node_index.get(&to)) else {
            continue;
        };
        if last != Some((to, grp)) {
            nodes[to].groups.push(Vec::new());
            last = Some((to, grp));
        }
        if let Some(group) = nodes[to].groups.last_mut() {
            group.push(from);
        }
    }
    for &(checkpoint, node) in guards {
        if let (Some(&c), Some(&n)) = (node_index.get(&checkpoint), node_index.get(&node)) {
            nodes[c].guards.push(n);
        }
    }
    Catalog {
        paths,
        nodes,
        skills,
    }
}
