//! Insights for instructors and admins: the scopes they may read, a scope's
//! dashboard, drill-downs into a learner and a node, cohorts' health; and the
//! browser's page-view beacon. Every function checks who asks before reading.

use crate::error::AppError;
use eduscale_core::insights::report::{CohortHealth, Dashboard, LearnerReport, NodeReport, Scope};
use leptos::prelude::*;

/// The scopes the caller may read: their cohorts (admins: every cohort, then the
/// platform). Learners get 403.
#[server(endpoint = "insight_scopes")]
pub async fn insight_scopes() -> Result<Vec<Scope>, AppError> {
    crate::error::respond(ssr::scopes().await)
}

/// A scope's dashboard: overview, velocity, engagement, roadblocks, at-risk
/// learners, wheel-spinning.
#[server(endpoint = "insight_dashboard")]
pub async fn insight_dashboard(scope: String) -> Result<Dashboard, AppError> {
    crate::error::respond(
        async move {
            let (state, scope) = ssr::scope(&scope).await?;
            state.insights.dashboard(scope).await.map_err(ssr::internal)
        }
        .await,
    )
}

/// One learner of a scope: timeline, battles, skills, predictions.
#[server(endpoint = "insight_learner")]
pub async fn insight_learner(scope: String, learner: String) -> Result<LearnerReport, AppError> {
    crate::error::respond(
        async move {
            let (state, scope) = ssr::scope(&scope).await?;
            let learner = ssr::learner_in(&state, scope, &learner).await?;
            state
                .insights
                .learner(scope, learner)
                .await
                .map_err(ssr::internal)
        }
        .await,
    )
}

/// One node for a scope: attempt distribution, common wrong verdicts.
#[server(endpoint = "insight_node")]
pub async fn insight_node(scope: String, node: i64) -> Result<NodeReport, AppError> {
    crate::error::respond(
        async move {
            let (state, scope) = ssr::scope(&scope).await?;
            state.insights.node(scope, node).await.map_err(|e| match e {
                eduscale_server::insights::dashboard::DashboardError::UnknownNode => {
                    AppError::NotFound("Nobody in this cohort has reached that node.".into())
                }
                e => ssr::internal(e),
            })
        }
        .await,
    )
}

/// Every cohort's health. Admins only.
#[server(endpoint = "insight_health")]
pub async fn insight_health() -> Result<Vec<CohortHealth>, AppError> {
    crate::error::respond(
        async move {
            let (state, user) = super::context::who().await?;
            eduscale_server::auth::require_role(&user, &[eduscale_core::account::Role::Admin])?;
            state.insights.health().await.map_err(ssr::internal)
        }
        .await,
    )
}

/// The browser reports a page view (client-side navigation never reaches the
/// server otherwise). Answers once the event is stored. Signed-in only.
#[server(endpoint = "page_view")]
pub async fn page_view(page: String) -> Result<(), AppError> {
    crate::error::respond(
        async move {
            let (state, user) = super::context::who().await?;
            let page = page.trim();
            if !page.starts_with('/') || page.chars().count() > 300 {
                return Err(AppError::BadRequest(
                    "A page is a path starting with / of at most 300 characters.".into(),
                ));
            }
            state
                .insights
                .allow_page_view(user.id)
                .map_err(AppError::RateLimited)?;
            use eduscale_server::insights::event::Event;
            state
                .insights
                .events
                .record(Event::page_view(user.id, page))
                .await
                .map_err(|_| AppError::Unreachable)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::api::context;
    use crate::error::AppError;
    use eduscale_core::account::Role;
    use eduscale_core::insights::report::{PLATFORM, Scope};
    use eduscale_server::AppState;
    use eduscale_server::insights::access::Denied;
    use uuid::Uuid;

    /// A failure of ours: logged here, a plain 500 for the caller.
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "insights failed");
        AppError::Internal
    }

    /// The caller may read `raw`: the state and the scope's id.
    pub async fn scope(raw: &str) -> Result<(AppState, Uuid), AppError> {
        let (state, user) = context::who().await?;
        match state
            .insights
            .may_read(&user, raw)
            .await
            .map_err(internal)?
        {
            Ok(scope) => Ok((state, scope)),
            Err(Denied::Forbidden) => Err(AppError::Forbidden),
            Err(Denied::Unknown) => Err(AppError::NotFound("No such cohort.".into())),
        }
    }

    /// `raw` names a learner of `scope`.
    pub async fn learner_in(state: &AppState, scope: Uuid, raw: &str) -> Result<Uuid, AppError> {
        let learner = Uuid::parse_str(raw.trim())
            .map_err(|_| AppError::BadRequest("That learner id is malformed.".into()))?;
        if state
            .insights
            .in_scope(scope, learner)
            .await
            .map_err(internal)?
        {
            Ok(learner)
        } else {
            Err(AppError::NotFound("No such learner in this cohort.".into()))
        }
    }

    /// The caller's scopes.
    pub async fn scopes() -> Result<Vec<Scope>, AppError> {
        let (state, user) = context::who().await?;
        eduscale_server::auth::require_role(&user, &[Role::Instructor, Role::Admin])?;
        let mut scopes: Vec<Scope> = eduscale_server::auth::cohorts::mine(&state, &user)
            .await?
            .into_iter()
            .map(|c| Scope {
                id: c.id.to_string(),
                name: c.name,
                learners: c.members,
            })
            .collect();
        if user.role == Role::Admin {
            let platform = state.insights.health().await.map_err(internal)?;
            scopes = platform.into_iter().map(|h| h.scope).collect();
            scopes.push(Scope {
                id: PLATFORM.to_owned(),
                name: "Whole platform".into(),
                learners: scopes.iter().map(|s| s.learners).sum(),
            });
        }
        Ok(scopes)
    }
}
