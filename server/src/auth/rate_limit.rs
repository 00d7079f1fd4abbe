//! Log-in failure counters in Redis, per account and per client address.
//!
//! Written by hand rather than with a tower rate-limit crate because the limit
//! must hold across every server instance (so it lives in Redis, not memory),
//! must count failures only (a person who types their password right is never
//! slowed), and must key on the account as well as the address, which
//! per-request limiters cannot see. A fixed window per key: INCR, and EXPIRE on
//! the first failure.

use super::AuthError;
use crate::AppState;
use fred::prelude::*;

/// The two counters of one log-in attempt.
pub struct LoginLimiter<'a> {
    state: &'a AppState,
    account_key: String,
    address_key: String,
}

impl<'a> LoginLimiter<'a> {
    /// Counters for `email` (already normalised) trying from `address`.
    pub fn new(state: &'a AppState, email: &str, address: &str) -> Self {
        let prefix = &state.redis.prefix;
        Self {
            state,
            account_key: prefix.key(&format!("login-failures:account:{email}")),
            address_key: prefix.key(&format!("login-failures:address:{address}")),
        }
    }

    /// [`AuthError::RateLimited`] when either counter is at its limit, with the seconds left.
    pub async fn check(&self) -> Result<(), AuthError> {
        let settings = &self.state.auth;
        let pool = &self.state.redis.pool;
        for (key, limit) in [
            (&self.account_key, settings.login_failures_per_account),
            (&self.address_key, settings.login_failures_per_address),
        ] {
            let count: Option<u32> = pool.get(key).await?;
            if count.unwrap_or(0) >= limit {
                let ttl: i64 = pool.ttl(key).await?;
                return Err(AuthError::RateLimited {
                    retry_after_s: ttl.max(1).unsigned_abs(),
                });
            }
        }
        Ok(())
    }

    /// Counts a failure against both the account and the address.
    pub async fn failed(&self) -> Result<(), AuthError> {
        let window = i64::try_from(self.state.auth.login_window.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        let pool = &self.state.redis.pool;
        for key in [&self.account_key, &self.address_key] {
            let count: i64 = pool.incr(key).await?;
            if count == 1 {
                let _: () = pool.expire(key, window, None).await?;
            }
        }
        Ok(())
    }

    /// A right password clears the account's failures (the address keeps its count).
    pub async fn succeeded(&self) -> Result<(), AuthError> {
        let _: () = self.state.redis.pool.del(&self.account_key).await?;
        Ok(())
    }
}
