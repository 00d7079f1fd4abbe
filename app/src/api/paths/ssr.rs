//! The server side of the path functions: named steps over `eduscale_server::paths`.

use super::{AttemptResult, ChallengeView, Need, NodeView};
use crate::api::context;
use crate::error::AppError;
use eduscale_core::code::{Language, SourceCode};
use eduscale_core::paths::{NodeKind, NodeStatus, recommend};
use eduscale_core::protocol::{PathUpdate, ServerMsg};
use eduscale_server::auth::User;
use eduscale_server::insights::event::{Event, Kind};
use eduscale_server::paths::access;
use eduscale_server::paths::progress::{self, Attempt, ProgressError};
use eduscale_server::paths::queries::{self, NodeDetail, PathRow};
use eduscale_server::{AppState, challenges};
use uuid::Uuid;

/// A database failure: logged here, a plain 500 for the caller.
pub fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "database error in a path server function");
    AppError::Internal
}

/// The caller, and whose progress they asked for (their own unless `learner`
/// names someone they may see).
pub async fn whose(learner: Option<String>) -> Result<(AppState, User, Uuid), AppError> {
    let (state, viewer) = context::who().await?;
    let learner = match learner.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => viewer.id,
        Some(raw) => Uuid::parse_str(raw)
            .map_err(|_| AppError::BadRequest("That learner id is malformed.".into()))?,
    };
    if !access::can_view(&state.db, &viewer, learner)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Forbidden);
    }
    Ok((state, viewer, learner))
}

/// The path with this slug, or 404.
pub async fn path(state: &AppState, slug: &str) -> Result<PathRow, AppError> {
    queries::find(&state.db, slug.trim())
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::NotFound("No such path.".into()))
}

async fn node(state: &AppState, path: &PathRow, key: &str) -> Result<NodeDetail, AppError> {
    queries::node(&state.db, path.id, key.trim())
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::NotFound("No such node on this path.".into()))
}

fn locked(e: ProgressError) -> AppError {
    match e {
        ProgressError::Locked => {
            AppError::Conflict("This node is still locked: finish what it needs first.".into())
        }
        ProgressError::UnknownNode => AppError::NotFound("No such node on this path.".into()),
        ProgressError::Db(e) => internal(e),
    }
}

pub async fn node_view(path_slug: String, key: String) -> Result<NodeView, AppError> {
    let (state, user) = context::who().await?;
    let path = path(&state, &path_slug).await?;
    let detail = node(&state, &path, &key).await?;
    let status = match progress::open(&state.db, user.id, path.id, detail.id).await {
        Ok(status) => status,
        Err(ProgressError::Locked) => NodeStatus::Locked,
        Err(e) => return Err(locked(e)),
    };
    if status != NodeStatus::Locked {
        state
            .insights
            .note(Event::new(user.id, Kind::NodeViewed).on_node(detail.id))
            .await;
    }
    let mut conn = state.db.acquire().await.map_err(internal)?;
    let statuses = queries::statuses(&mut *conn, user.id, path.id)
        .await
        .map_err(internal)?;
    let status_of = |position: usize| {
        statuses
            .get(position)
            .copied()
            .unwrap_or(NodeStatus::Locked)
    };
    let needs = queries::prerequisites(&mut *conn, detail.id)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(key, title, min_score, position)| Need {
            key,
            title,
            min_score,
            status: status_of(position),
        })
        .collect();
    let best_score = queries::best_score(&mut *conn, user.id, detail.id)
        .await
        .map_err(internal)?;
    let kind: NodeKind = detail.kind.parse().unwrap_or(NodeKind::Challenge);
    let challenge = match (detail.challenge_id, status) {
        (_, NodeStatus::Locked) | (None, _) => None,
        (Some(id), _) => queries::challenge_parts(&mut conn, id)
            .await
            .map_err(internal)?
            .map(|c| ChallengeView {
                slug: c.slug,
                statement_html: c.statement_html,
                languages: c
                    .languages
                    .iter()
                    .filter_map(|l| Language::from_id(l))
                    .collect(),
                starters: c.starters,
                examples: c.examples,
                difficulty: c.difficulty,
            }),
    };
    let guards = if kind == NodeKind::Checkpoint {
        queries::guards(&mut *conn, detail.id)
            .await
            .map_err(internal)?
    } else {
        Vec::new()
    };
    Ok(NodeView {
        path: path.slug,
        path_title: path.title,
        key: detail.key,
        title: detail.title,
        kind,
        status,
        best_score,
        lesson_html: (kind == NodeKind::Lesson && status != NodeStatus::Locked)
            .then_some(detail.body_html),
        challenge,
        needs,
        guards,
    })
}

pub async fn complete_lesson(path_slug: String, key: String) -> Result<AttemptResult, AppError> {
    let (state, user) = context::who().await?;
    let path = path(&state, &path_slug).await?;
    let detail = node(&state, &path, &key).await?;
    if detail.kind != NodeKind::Lesson.as_str() {
        return Err(AppError::BadRequest(
            "Only a lesson is completed by reading it; submit a program instead.".into(),
        ));
    }
    let attempt = progress::attempt(&state.db, user.id, path.id, detail.id, 100)
        .await
        .map_err(locked)?;
    finish(&state, &user, &path, detail.id, None, attempt).await
}

pub async fn submit_node(
    path_slug: String,
    key: String,
    language: String,
    source: String,
) -> Result<AttemptResult, AppError> {
    let (state, user) = context::who().await?;
    let language = Language::from_id(&language).ok_or_else(|| {
        AppError::BadRequest(format!("Unknown language \"{}\".", language.trim()))
    })?;
    let source = SourceCode::parse(source).map_err(|e| AppError::BadRequest(e.message))?;
    let path = path(&state, &path_slug).await?;
    let detail = node(&state, &path, &key).await?;
    let Some(challenge_id) = detail.challenge_id else {
        return Err(AppError::BadRequest(
            "A lesson takes no program; mark it as read.".into(),
        ));
    };
    // Judging costs a sandbox run per case: refuse a locked node before, not after.
    let statuses = queries::statuses(&state.db, user.id, path.id)
        .await
        .map_err(internal)?;
    let at = usize::try_from(detail.position).unwrap_or_default();
    if statuses.get(at).is_none_or(|s| *s == NodeStatus::Locked) {
        return Err(locked(ProgressError::Locked));
    }
    let challenge = challenges::find(&state.db, &challenge_id.to_string())
        .await
        .map_err(internal)?
        .ok_or(AppError::Internal)?;
    state
        .insights
        .note(Event::new(user.id, Kind::Submitted).on_node(detail.id))
        .await;
    let judgement =
        crate::api::runs::ssr::judge_and_record(&state, &user, &challenge, language, &source)
            .await?;
    let score = progress::score(judgement.passed, judgement.total);
    let attempt = progress::attempt(&state.db, user.id, path.id, detail.id, score)
        .await
        .map_err(locked)?;
    let accepted = judgement.verdict == eduscale_core::code::Verdict::Accepted;
    state
        .insights
        .note(Event::verdict(
            user.id,
            detail.id,
            accepted,
            judgement.verdict.id(),
        ))
        .await;
    finish(&state, &user, &path, detail.id, Some(judgement), attempt).await
}

/// Records a pass and the remedial nodes an attempt opened.
async fn record_outcome(
    state: &AppState,
    user: &User,
    path: &PathRow,
    graph: &eduscale_core::paths::PathGraph,
    node: i64,
    attempt: &Attempt,
) {
    let mut events = Vec::new();
    if attempt.passed {
        events.push(Event::new(user.id, Kind::NodePassed).on_node(node));
    }
    let remedial: Vec<usize> = attempt
        .unlocked
        .iter()
        .copied()
        .filter(|p| {
            graph
                .nodes
                .get(*p)
                .is_some_and(|n| n.remedial_for.is_some())
        })
        .collect();
    if !remedial.is_empty() {
        match eduscale_server::insights::queries::nodes_at(&state.db, path.id, &remedial).await {
            Ok(nodes) => events.extend(
                nodes
                    .into_iter()
                    .map(|(id, _, _)| Event::new(user.id, Kind::RemediationOpened).on_node(id)),
            ),
            Err(e) => tracing::warn!(error = %e, "could not name the remedial nodes opened"),
        }
    }
    if !events.is_empty() && state.insights.events.record_all(events).await.is_err() {
        tracing::warn!("events were not recorded: the writer has stopped");
    }
}

/// Tells the learner's sockets, and shapes the answer.
async fn finish(
    state: &AppState,
    user: &User,
    path: &PathRow,
    node: i64,
    judgement: Option<eduscale_core::code::Judgement>,
    attempt: Attempt,
) -> Result<AttemptResult, AppError> {
    let mut conn = state.db.acquire().await.map_err(internal)?;
    let (graph, _) = queries::graph(&mut conn, path.id).await.map_err(internal)?;
    let progress = queries::progress(&mut *conn, user.id, path.id, graph.nodes.len())
        .await
        .map_err(internal)?;
    let next = recommend(&graph, &progress);
    record_outcome(state, user, path, &graph, node, &attempt).await;
    let statuses = queries::statuses(&mut *conn, user.id, path.id)
        .await
        .map_err(internal)?;
    state
        .realtime
        .send_to(
            user.id,
            ServerMsg::PathProgress(PathUpdate {
                path: path.slug.clone(),
                statuses,
                unlocked: attempt.unlocked.clone(),
                recommended: next.as_ref().map(|r| r.node),
            }),
        )
        .await;
    let named = |i: &usize| {
        graph
            .nodes
            .get(*i)
            .map(|n| (n.key.clone(), n.title.clone()))
    };
    Ok(AttemptResult {
        judgement,
        passed: attempt.passed,
        score: attempt.score,
        unlocked: attempt.unlocked.iter().filter_map(named).collect(),
        skipped: attempt.skipped.iter().filter_map(named).collect(),
        next: next.as_ref().and_then(|r| named(&r.node)),
    })
}
