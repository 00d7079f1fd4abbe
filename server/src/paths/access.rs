//! Who may see whose progress: learners their own; instructors the learners of
//! their own cohorts; admins everyone. Submitting is only ever for oneself, so
//! there is no rule for it: server functions take the learner from the session.

use crate::auth::User;
use eduscale_core::account::Role;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Whether `viewer` may read `learner`'s progress.
pub async fn can_view(
    db: impl PgExecutor<'_>,
    viewer: &User,
    learner: Uuid,
) -> Result<bool, sqlx::Error> {
    if viewer.id == learner || viewer.role == Role::Admin {
        return Ok(true);
    }
    if viewer.role != Role::Instructor {
        return Ok(false);
    }
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM cohorts c JOIN cohort_members m ON m.cohort_id = c.id
               WHERE c.instructor_id = $1 AND m.user_id = $2
           ) AS "allowed!""#,
        viewer.id,
        learner,
    )
    .fetch_one(db)
    .await
}

/// The learners `viewer` may look at, with their cohort: an instructor's cohort
/// members, or (for an admin) every cohort's. At most 500, by cohort then name.
pub async fn learners_of(
    db: impl PgExecutor<'_>,
    viewer: &User,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    if !matches!(viewer.role, Role::Instructor | Role::Admin) {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"SELECT u.id, u.display_name, c.name AS cohort
           FROM cohorts c
           JOIN cohort_members m ON m.cohort_id = c.id
           JOIN users u ON u.id = m.user_id
           WHERE c.instructor_id = $1 OR $2
           ORDER BY c.name, u.display_name
           LIMIT 500"#,
        viewer.id,
        viewer.role == Role::Admin,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.display_name, r.cohort))
        .collect())
}
