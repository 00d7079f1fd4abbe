//! Cohorts: instructors create them and renew invite codes; learners join.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A cohort as a page shows it. `invite_code` is only filled for those who teach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortView {
    /// Stable id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Who teaches it.
    pub instructor: String,
    /// The code to join, for its instructor.
    pub invite_code: Option<String>,
    /// When the code expires, `YYYY-MM-DD HH:MM UTC`, for its instructor.
    pub invite_expires: Option<String>,
    /// Whether the code has expired.
    pub invite_expired: bool,
    /// How many learners joined.
    pub members: i64,
}

#[cfg(feature = "ssr")]
fn view_of(c: eduscale_server::auth::cohorts::Cohort, teaches: bool) -> CohortView {
    let expired = c.invite_expires_at <= time::OffsetDateTime::now_utc();
    let when = format!(
        "{} {:02}:{:02} UTC",
        c.invite_expires_at.date(),
        c.invite_expires_at.hour(),
        c.invite_expires_at.minute()
    );
    CohortView {
        id: c.id.to_string(),
        name: c.name,
        instructor: c.instructor,
        invite_code: teaches.then_some(c.invite_code),
        invite_expires: teaches.then_some(when),
        invite_expired: expired,
        members: c.members,
    }
}

/// Creates a cohort with a fresh invite code. Instructors and admins only.
#[server(endpoint = "create_cohort")]
pub async fn create_cohort(name: String) -> Result<CohortView, AppError> {
    use super::context;
    use eduscale_core::cohort::CohortName;
    use eduscale_server::auth::cohorts;
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            eduscale_server::auth::require_role(
                &user,
                &[
                    eduscale_core::account::Role::Instructor,
                    eduscale_core::account::Role::Admin,
                ],
            )?;
            let name = CohortName::parse(&name)?;
            Ok(view_of(cohorts::create(&state, &user, &name).await?, true))
        }
        .await,
    )
}

/// Replaces a cohort's invite code with a new one. Its instructor or an admin only.
#[server(endpoint = "renew_invite")]
pub async fn renew_invite(cohort_id: String) -> Result<CohortView, AppError> {
    use super::context;
    use eduscale_server::auth::cohorts;
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            let id = uuid::Uuid::parse_str(cohort_id.trim())
                .map_err(|_| AppError::NotFound("No such cohort.".into()))?;
            Ok(view_of(
                cohorts::renew_invite(&state, &user, id).await?,
                true,
            ))
        }
        .await,
    )
}

/// Joins the cohort whose invite code this is. Learners only.
#[server(endpoint = "join_cohort")]
pub async fn join_cohort(code: String) -> Result<CohortView, AppError> {
    use super::context;
    use eduscale_core::cohort::InviteCode;
    use eduscale_server::auth::cohorts;
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            eduscale_server::auth::require_role(&user, &[eduscale_core::account::Role::Learner])?;
            let code = InviteCode::parse(&code)?;
            let joined = cohorts::join(&state, &user, &code).await?;
            // The live pulse counts them in their new cohort from their next event.
            state.insights.pulse.forget(user.id);
            Ok(view_of(joined, false))
        }
        .await,
    )
}

/// The cohorts the caller teaches or belongs to.
#[server(endpoint = "my_cohorts")]
pub async fn my_cohorts() -> Result<Vec<CohortView>, AppError> {
    use super::context;
    use eduscale_server::auth::cohorts;
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            let teaches = user.role.teaches();
            Ok(cohorts::mine(&state, &user)
                .await?
                .into_iter()
                .map(|c| view_of(c, teaches))
                .collect())
        }
        .await,
    )
}
