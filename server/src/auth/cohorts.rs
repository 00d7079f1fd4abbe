//! Cohorts: instructors create them and hand out invite codes; learners join with a code.

use super::{AuthError, User, require_role};
use crate::AppState;
use eduscale_core::account::Role;
use eduscale_core::cohort::{CohortName, INVITE_LEN, InviteCode};
use rand::RngCore;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// A cohort as its instructor sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cohort {
    /// Stable id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The instructor's display name.
    pub instructor: String,
    /// The code learners join with (shown to its instructor only).
    pub invite_code: String,
    /// When the code stops working.
    pub invite_expires_at: OffsetDateTime,
    /// How many learners joined.
    pub members: i64,
}

fn fresh_code() -> InviteCode {
    let mut bytes = [0u8; INVITE_LEN];
    rand::thread_rng().fill_bytes(&mut bytes);
    InviteCode::from_random(bytes)
}

fn invite_expiry(state: &AppState) -> OffsetDateTime {
    let ttl = time::Duration::try_from(state.auth.invite_ttl).unwrap_or(time::Duration::days(14));
    OffsetDateTime::now_utc() + ttl
}

/// Runs `store` with fresh codes until one is free. Two random 40-bit codes rarely
/// clash, and five tries make it vanishingly unlikely; a clash shows up as the unique
/// constraint `cohorts_invite_code_key`, so concurrent writers cannot both win a code.
async fn with_fresh_code<F, Fut>(mut store: F) -> Result<Option<Uuid>, AuthError>
where
    F: FnMut(InviteCode) -> Fut,
    Fut: Future<Output = Result<Option<Uuid>, sqlx::Error>>,
{
    for _ in 0..5 {
        match store(fresh_code()).await {
            Ok(id) => return Ok(id),
            Err(sqlx::Error::Database(d)) if d.constraint() == Some("cohorts_invite_code_key") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow::anyhow!("no free invite code after 5 tries").into())
}

/// Creates a cohort owned by `instructor` with a fresh invite code. Instructors and admins only.
pub async fn create(
    state: &AppState,
    instructor: &User,
    name: &CohortName,
) -> Result<Cohort, AuthError> {
    require_role(instructor, &[Role::Instructor, Role::Admin])?;
    let expires = invite_expiry(state);
    let id = with_fresh_code(|code| async move {
        sqlx::query_scalar!(
            r#"INSERT INTO cohorts (name, instructor_id, invite_code, invite_expires_at)
               VALUES ($1, $2, $3, $4)
               RETURNING id"#,
            name.as_str(),
            instructor.id,
            code.as_str(),
            expires,
        )
        .fetch_optional(&state.db)
        .await
    })
    .await?;
    let id = id.ok_or(AuthError::UnknownCohort)?;
    get(&state.db, id).await?.ok_or(AuthError::UnknownCohort)
}

/// Gives a cohort a new invite code valid for the configured time. Its instructor (or an admin) only.
pub async fn renew_invite(
    state: &AppState,
    user: &User,
    cohort: Uuid,
) -> Result<Cohort, AuthError> {
    require_role(user, &[Role::Instructor, Role::Admin])?;
    let owner = sqlx::query_scalar!("SELECT instructor_id FROM cohorts WHERE id = $1", cohort)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AuthError::UnknownCohort)?;
    if owner != user.id && user.role != Role::Admin {
        return Err(AuthError::Forbidden);
    }
    let expires = invite_expiry(state);
    let renewed = with_fresh_code(|code| async move {
        sqlx::query_scalar!(
            "UPDATE cohorts SET invite_code = $2, invite_expires_at = $3 WHERE id = $1 RETURNING id",
            cohort,
            code.as_str(),
            expires
        )
        .fetch_optional(&state.db)
        .await
    })
    .await?;
    let id = renewed.ok_or(AuthError::UnknownCohort)?;
    get(&state.db, id).await?.ok_or(AuthError::UnknownCohort)
}

/// Adds `learner` to the cohort whose code this is. Joining twice is not an error.
pub async fn join(
    state: &AppState,
    learner: &User,
    code: &InviteCode,
) -> Result<Cohort, AuthError> {
    require_role(learner, &[Role::Learner])?;
    let found = sqlx::query!(
        "SELECT id, invite_expires_at FROM cohorts WHERE invite_code = $1",
        code.as_str()
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AuthError::UnknownInvite)?;
    if found.invite_expires_at <= OffsetDateTime::now_utc() {
        return Err(AuthError::ExpiredInvite);
    }
    sqlx::query!(
        "INSERT INTO cohort_members (cohort_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        found.id,
        learner.id
    )
    .execute(&state.db)
    .await?;
    get(&state.db, found.id)
        .await?
        .ok_or(AuthError::UnknownCohort)
}

/// One cohort by id.
pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Cohort>, AuthError> {
    Ok(sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, u.display_name AS instructor, c.invite_code, c.invite_expires_at,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!"
           FROM cohorts c JOIN users u ON u.id = c.instructor_id
           WHERE c.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// The cohorts `user` teaches (instructors; admins see all) or belongs to (learners).
pub async fn mine(state: &AppState, user: &User) -> Result<Vec<Cohort>, AuthError> {
    let rows = sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, u.display_name AS instructor, c.invite_code, c.invite_expires_at,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!"
           FROM cohorts c JOIN users u ON u.id = c.instructor_id
           WHERE ($2 AND c.instructor_id = $1)
              OR $3
              OR EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = c.id AND m.user_id = $1)
           ORDER BY c.created_at DESC"#,
        user.id,
        user.role == Role::Instructor,
        user.role == Role::Admin,
    )
    .fetch_all(&state.db)
    .await?;
    Ok(rows)
}
