//! Runs per user per minute: a token bucket per user (governor's keyed limiter),
//! so a burst is allowed and a steady flood is not.

use crate::RunError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;

/// The per-user limit on runs and submissions.
#[derive(Debug)]
pub struct RunRateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl RunRateLimit {
    /// `per_minute` runs per user per minute, all of which may come at once.
    pub fn per_minute(per_minute: NonZeroU32) -> RunRateLimit {
        RunRateLimit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one run from `user`'s bucket, or says when the next one is allowed.
    pub fn check(&self, user: &str) -> Result<(), RunError> {
        // Forget users whose buckets are full again, so memory follows the
        // number of *active* users, not every user ever seen.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&user.to_owned())
            .map_err(|not_until| RunError::RateLimited {
                retry_after: not_until.wait_time_from(self.clock.now()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_their_own_bucket() {
        let limit = RunRateLimit::per_minute(NonZeroU32::new(2).expect("non-zero"));
        assert!(limit.check("a").is_ok());
        assert!(limit.check("a").is_ok());
        match limit.check("a") {
            Err(RunError::RateLimited { retry_after }) => {
                assert!(retry_after.as_secs() > 0 && retry_after.as_secs() <= 30);
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(limit.check("b").is_ok());
    }
}
