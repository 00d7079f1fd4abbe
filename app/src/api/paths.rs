//! Learning paths for the pages: the list with progress, one path's graph with
//! the learner's statuses, one node (lesson or challenge), and attempts.
//!
//! Every function needs a signed-in person. Progress is read for the caller, or
//! for another learner when the caller may see theirs (an instructor of one of
//! their cohorts, an admin); attempts are only ever the caller's own. After an
//! attempt the learner's sockets hear the new statuses, so every open tab's
//! graph lights up the unlocked nodes.

use crate::error::AppError;
use eduscale_core::code::{Judgement, Language};
use eduscale_core::paths::{NodeKind, NodeStatus, PathGraph, Recommendation};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A path in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathSummary {
    /// Its name in URLs.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// One or two sentences.
    pub summary: String,
    /// Nodes in it (remedial ones aside).
    pub nodes: i64,
    /// Of those, done by the learner.
    pub done: i64,
}

/// One path's graph as one learner stands on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathView {
    /// Its name in URLs.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// One or two sentences.
    pub summary: String,
    /// The nodes and prerequisites.
    pub graph: PathGraph,
    /// The learner's status on each node, by position.
    pub statuses: Vec<NodeStatus>,
    /// What to do next.
    pub recommended: Option<Recommendation>,
    /// Whose progress this is, when it is not the caller's own.
    pub learner: Option<String>,
}

/// One prerequisite of a node, as the node page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// Its key.
    pub key: String,
    /// Its title.
    pub title: String,
    /// The score it must be passed with.
    pub min_score: u8,
    /// The learner's status on it.
    pub status: NodeStatus,
}

/// A challenge as a learner may see it: statement, starters, visible examples.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeView {
    /// Its slug.
    pub slug: String,
    /// The statement, as HTML rendered at import.
    pub statement_html: String,
    /// The languages it can be solved in.
    pub languages: Vec<Language>,
    /// Starter code by language id.
    pub starters: BTreeMap<String, String>,
    /// Visible examples: input and expected output.
    pub examples: Vec<(String, String)>,
    /// 1 (easy) to 5.
    pub difficulty: i16,
}

/// One node of a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// The path's slug.
    pub path: String,
    /// The path's title.
    pub path_title: String,
    /// The node's key.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Lesson, challenge or checkpoint.
    pub kind: NodeKind,
    /// The learner's status on it.
    pub status: NodeStatus,
    /// Its best score so far.
    pub best_score: u8,
    /// A lesson's text, as HTML.
    pub lesson_html: Option<String>,
    /// A challenge's statement and examples (absent while the node is locked).
    pub challenge: Option<ChallengeView>,
    /// Its prerequisites.
    pub needs: Vec<Need>,
    /// The nodes a checkpoint tests out of.
    pub guards: Vec<String>,
}

/// What an attempt did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptResult {
    /// The judgement, for a challenge.
    pub judgement: Option<Judgement>,
    /// Whether the node is passed now.
    pub passed: bool,
    /// This attempt's score, 0..=100.
    pub score: u8,
    /// Nodes it unlocked: key and title.
    pub unlocked: Vec<(String, String)>,
    /// Nodes a checkpoint tested out of: key and title.
    pub skipped: Vec<(String, String)>,
    /// What to do next: key and title.
    pub next: Option<(String, String)>,
}

/// Every path with the progress of the caller (or of `learner`, when allowed).
#[server(endpoint = "paths")]
pub async fn list_paths(learner: Option<String>) -> Result<Vec<PathSummary>, AppError> {
    crate::error::respond(
        async move {
            let (state, _, learner) = ssr::whose(learner).await?;
            let rows = eduscale_server::paths::queries::list(&state.db, learner)
                .await
                .map_err(ssr::internal)?;
            Ok(rows
                .into_iter()
                .map(|r| PathSummary {
                    slug: r.path.slug,
                    title: r.path.title,
                    summary: r.path.summary,
                    nodes: r.nodes,
                    done: r.done,
                })
                .collect())
        }
        .await,
    )
}

/// One path's graph with the caller's (or `learner`'s) statuses.
#[server(endpoint = "path")]
pub async fn get_path(slug: String, learner: Option<String>) -> Result<PathView, AppError> {
    crate::error::respond(
        async move {
            let (state, viewer, learner) = ssr::whose(learner).await?;
            let path = ssr::path(&state, &slug).await?;
            let mut conn = state.db.acquire().await.map_err(ssr::internal)?;
            let (graph, _) = eduscale_server::paths::queries::graph(&mut conn, path.id)
                .await
                .map_err(ssr::internal)?;
            let statuses = eduscale_server::paths::queries::statuses(&mut *conn, learner, path.id)
                .await
                .map_err(ssr::internal)?;
            let progress = eduscale_server::paths::queries::progress(
                &mut *conn,
                learner,
                path.id,
                graph.nodes.len(),
            )
            .await
            .map_err(ssr::internal)?;
            let learner_name = if learner == viewer.id {
                None
            } else {
                eduscale_server::auth::accounts::find(&mut *conn, learner)
                    .await?
                    .map(|u| u.display_name)
            };
            Ok(PathView {
                slug: path.slug,
                title: path.title,
                summary: path.summary,
                recommended: eduscale_core::paths::recommend(&graph, &progress),
                graph,
                statuses,
                learner: learner_name,
            })
        }
        .await,
    )
}

/// One node for the caller; opening it starts its progress when it is open.
#[server(endpoint = "node")]
pub async fn get_node(path: String, node: String) -> Result<NodeView, AppError> {
    crate::error::respond(async move { ssr::node_view(path, node).await }.await)
}

/// Marks a lesson as read (an attempt scoring 100).
#[server(endpoint = "complete_lesson")]
pub async fn complete_lesson(path: String, node: String) -> Result<AttemptResult, AppError> {
    crate::error::respond(async move { ssr::complete_lesson(path, node).await }.await)
}

/// Judges `source` against a challenge node and records the attempt.
#[server(endpoint = "submit_node")]
pub async fn submit_node(
    path: String,
    node: String,
    language: String,
    source: String,
) -> Result<AttemptResult, AppError> {
    crate::error::respond(async move { ssr::submit_node(path, node, language, source).await }.await)
}

/// A learner an instructor may look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyLearners {
    /// Their id.
    pub id: String,
    /// Their display name.
    pub name: String,
    /// The cohort they are in.
    pub cohort: String,
}

/// The learners of the caller's cohorts (every learner, for an admin; at most 500).
#[server(endpoint = "my_learners")]
pub async fn list_my_learners() -> Result<Vec<MyLearners>, AppError> {
    crate::error::respond(
        async move {
            let (state, user) = crate::api::context::who().await?;
            let rows = eduscale_server::paths::access::learners_of(&state.db, &user)
                .await
                .map_err(ssr::internal)?;
            Ok(rows
                .into_iter()
                .map(|(id, name, cohort)| MyLearners {
                    id: id.to_string(),
                    name,
                    cohort,
                })
                .collect())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod ssr;
