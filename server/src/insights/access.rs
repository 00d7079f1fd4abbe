//! Who may read which dashboard: instructors their own cohorts, admins every
//! cohort and the whole platform, learners none. Checked by every server
//! function, the CSV export and the pulse socket before anything is read.

use crate::auth::User;
use eduscale_core::account::Role;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Why a scope cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Learners have no dashboards; instructors only their own cohorts.
    #[error("only the cohort's instructor or an admin may see this")]
    Forbidden,
    /// Not a cohort (or malformed).
    #[error("no such cohort")]
    Unknown,
}

/// Parses `raw` as a scope and checks that `viewer` may read it.
pub async fn scope(
    db: impl PgExecutor<'_>,
    viewer: &User,
    raw: &str,
) -> Result<Result<Uuid, Denied>, sqlx::Error> {
    if !matches!(viewer.role, Role::Instructor | Role::Admin) {
        return Ok(Err(Denied::Forbidden));
    }
    let Ok(scope) = Uuid::parse_str(raw.trim()) else {
        return Ok(Err(Denied::Unknown));
    };
    if scope.is_nil() {
        return Ok(if viewer.role == Role::Admin {
            Ok(scope)
        } else {
            Err(Denied::Forbidden)
        });
    }
    let teacher = sqlx::query_scalar!("SELECT instructor_id FROM cohorts WHERE id = $1", scope)
        .fetch_optional(db)
        .await?;
    Ok(match teacher {
        None => Err(Denied::Unknown),
        Some(t) if t == viewer.id || viewer.role == Role::Admin => Ok(scope),
        Some(_) => Err(Denied::Forbidden),
    })
}

/// Whether `learner` is in `scope` (a drill-down must not reach outside it).
pub async fn in_scope(
    db: impl PgExecutor<'_>,
    scope: Uuid,
    learner: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM insights_scopes WHERE scope = $1 AND user_id = $2) AS "in!""#,
        scope,
        learner
    )
    .fetch_one(db)
    .await
}
