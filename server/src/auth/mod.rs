//! Accounts, sessions, roles and cohorts.
//!
//! In: parsed domain types from `eduscale_core` (nothing here re-checks an
//! e-mail's shape). Out: users and cohorts, or an [`AuthError`] whose every
//! variant is something the person asking may be told. Who is asking is always
//! read from the session ([`session::current_user`]), never from the request body.

pub mod accounts;
pub mod cohorts;
pub mod password;
pub mod rate_limit;
pub mod session;

use eduscale_core::Invalid;
use eduscale_core::account::Role;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// Tunable rules for accounts; defaults are what production runs with.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// Failed log-ins allowed per account within `login_window`.
    pub login_failures_per_account: u32,
    /// Failed log-ins allowed per client address within `login_window`.
    pub login_failures_per_address: u32,
    /// The window the failure counters cover.
    pub login_window: Duration,
    /// How long a fresh invite code stays valid.
    pub invite_ttl: Duration,
    /// Whether the session cookie needs HTTPS (`Secure`); off for http://127.0.0.1.
    pub secure_cookies: bool,
    /// Whether a reverse proxy in front sets `X-Forwarded-For`; then the client's address
    /// for rate limits is the last address it appended, not the proxy's own.
    pub behind_proxy: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(7 * 24 * 3600),
            login_failures_per_account: 5,
            login_failures_per_address: 30,
            login_window: Duration::from_secs(15 * 60),
            invite_ttl: Duration::from_secs(14 * 24 * 3600),
            secure_cookies: false,
            behind_proxy: false,
        }
    }
}

/// A signed-up person, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Log-in name, lower-cased.
    pub email: String,
    /// Shown to others.
    pub display_name: String,
    /// What they may do.
    pub role: Role,
    /// When they signed up.
    pub created_at: OffsetDateTime,
}

/// What can go wrong with an account request; each variant's doc says what the user sees.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 422: the fields and what is wrong with each.
    #[error("some fields need another look")]
    Invalid(Vec<Invalid>),
    /// 409: "An account with that e-mail already exists."
    #[error("an account with that e-mail already exists")]
    EmailTaken,
    /// 401: one generic "E-mail or password is wrong." (never says which).
    #[error("e-mail or password is wrong")]
    BadCredentials,
    /// 429: "Too many attempts; try again in N s."
    #[error("too many attempts; try again in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// 401: "Please log in."
    #[error("please log in")]
    NotSignedIn,
    /// 403: "Your role cannot do this."
    #[error("your role cannot do this")]
    Forbidden,
    /// 404: "No cohort has that invite code."
    #[error("no cohort has that invite code")]
    UnknownInvite,
    /// 410: "That invite code has expired; ask your instructor for a new one."
    #[error("that invite code has expired; ask your instructor for a new one")]
    ExpiredInvite,
    /// 404: "No such cohort."
    #[error("no such cohort")]
    UnknownCohort,
    /// 500: "Something went wrong on our side." The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Internal(e.into())
    }
}

impl From<fred::error::Error> for AuthError {
    fn from(e: fred::error::Error) -> Self {
        AuthError::Internal(e.into())
    }
}

impl From<Invalid> for AuthError {
    fn from(e: Invalid) -> Self {
        AuthError::Invalid(vec![e])
    }
}

/// Ok when `user` holds one of `roles`, else [`AuthError::Forbidden`].
pub fn require_role(user: &User, roles: &[Role]) -> Result<(), AuthError> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(AuthError::Forbidden)
    }
}
