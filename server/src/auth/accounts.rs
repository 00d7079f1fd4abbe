//! Signing up, logging in and looking people up.
//!
//! Log-in is rate-limited before the password is checked (see [`super::rate_limit`]),
//! and every failure answers the same [`AuthError::BadCredentials`], so the
//! endpoint tells an attacker nothing about which e-mails exist.

use super::{AuthError, User, password, rate_limit};
use crate::AppState;
use eduscale_core::account::{DisplayName, Email, NewPassword, Role, SignUp};
use sqlx::PgExecutor;
use uuid::Uuid;

struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    role: String,
    created_at: time::OffsetDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = AuthError;
    fn try_from(r: UserRow) -> Result<Self, AuthError> {
        let role = Role::parse(&r.role)
            .map_err(|e| anyhow::anyhow!("user {} has role {:?}: {e}", r.id, r.role))?;
        Ok(User {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            role,
            created_at: r.created_at,
        })
    }
}

/// Stores a new account; [`AuthError::EmailTaken`] when the address has one already.
pub async fn create(
    db: impl PgExecutor<'_>,
    email: &Email,
    name: &DisplayName,
    password: &NewPassword,
    role: Role,
) -> Result<User, AuthError> {
    let hash = password::hash(password.expose().to_owned()).await?;
    let row = sqlx::query_as!(
        UserRow,
        r#"INSERT INTO users (email, display_name, password_hash, role)
           VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, role, created_at"#,
        email.as_str(),
        name.as_str(),
        hash,
        role.as_str(),
    )
    .fetch_one(db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("users_email_key") => {
            AuthError::EmailTaken
        }
        _ => e.into(),
    })?;
    row.try_into()
}

/// Signs a learner up from a parsed form.
pub async fn sign_up(state: &AppState, form: &SignUp) -> Result<User, AuthError> {
    create(
        &state.db,
        &form.email,
        &form.display_name,
        &form.password,
        Role::Learner,
    )
    .await
}

/// The account with this id, if it still exists.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>, AuthError> {
    let row = sqlx::query_as!(
        UserRow,
        "SELECT id, email, display_name, role, created_at FROM users WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await?;
    row.map(User::try_from).transpose()
}

/// Checks an e-mail and password from `address`, counting failures for the rate limit.
pub async fn log_in(
    state: &AppState,
    email: &str,
    password: &str,
    address: &str,
) -> Result<User, AuthError> {
    // A malformed e-mail cannot have an account: same answer as a wrong password.
    let email = Email::parse(email).map_err(|_| AuthError::BadCredentials)?;
    if password.is_empty() || password.chars().count() > eduscale_core::account::PASSWORD_MAX {
        return Err(AuthError::BadCredentials);
    }
    let limiter = rate_limit::LoginLimiter::new(state, email.as_str(), address);
    limiter.check().await?;
    let row = sqlx::query!(
        "SELECT id, password_hash FROM users WHERE email = $1",
        email.as_str()
    )
    .fetch_optional(&state.db)
    .await?;
    let (id, stored) = match row {
        Some(r) => (Some(r.id), Some(r.password_hash)),
        None => (None, None),
    };
    let ok = password::verify(password.to_owned(), stored).await?;
    match (ok, id) {
        (true, Some(id)) => {
            limiter.succeeded().await?;
            find(&state.db, id).await?.ok_or(AuthError::BadCredentials)
        }
        _ => {
            limiter.failed().await?;
            Err(AuthError::BadCredentials)
        }
    }
}

/// Every account, newest first, for admins.
pub async fn list(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<User>, AuthError> {
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT id, email, display_name, role, created_at FROM users ORDER BY created_at DESC LIMIT $1",
        limit
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}
