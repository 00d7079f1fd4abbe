//! The error every server function returns: only what is safe to show.
//!
//! It crosses the wire as JSON and is rendered by the page that called. On the
//! server, [`AppError::status`] becomes the HTTP status of the response (set by
//! [`respond`] for our own errors, and in `from_server_fn_error` for requests the
//! framework could not even decode), so plain HTTP clients see a 4xx, not a 500.

use eduscale_core::Invalid;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What went wrong, for the person who asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 422: one message per field that failed its rule.
    #[error("{}", first_message(.0))]
    Invalid(Vec<Invalid>),
    /// 400: the request could not be read (malformed, wrong encoding, too large).
    #[error("{0}")]
    BadRequest(String),
    /// 401: not signed in, or the credentials were wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but the role does not allow it.
    #[error("Your role cannot do this.")]
    Forbidden,
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 409: it clashes with what exists.
    #[error("{0}")]
    Conflict(String),
    /// 410: it existed but has expired.
    #[error("{0}")]
    Gone(String),
    /// 429: slow down.
    #[error("Too many attempts; try again in {0} s.")]
    RateLimited(u64),
    /// 503: the code runner has no room right now; retry after this many seconds.
    #[error("The runner is busy; try again in {0} s.")]
    Busy(u64),
    /// 503 in the browser: the server could not be reached.
    #[error("Could not reach EduScale; check your connection and try again.")]
    Unreachable,
    /// 500: our fault; the details are in the server's log.
    #[error("Something went wrong on our side; please try again.")]
    Internal,
}

fn first_message(list: &[Invalid]) -> String {
    list.first().map_or_else(
        || "Some fields need another look.".to_owned(),
        |i| i.message.clone(),
    )
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Gone(_) => 410,
            AppError::RateLimited(_) => 429,
            AppError::Busy(_) | AppError::Unreachable => 503,
            AppError::Internal => 500,
        }
    }

    /// The message for `field`, if this error names it.
    pub fn field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid(list) => list
                .iter()
                .find(|i| i.field == field)
                .map(|i| i.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => AppError::BadRequest(
                "The request could not be read; check the form and try again.".into(),
            ),
            ServerFnErrorErr::Request(_) => {
                if cfg!(feature = "ssr") {
                    AppError::BadRequest(
                        "The request could not be read (too large or cut short).".into(),
                    )
                } else {
                    AppError::Unreachable
                }
            }
            ServerFnErrorErr::UnsupportedRequestMethod(_) => {
                AppError::BadRequest("That method is not allowed here.".into())
            }
            _ => AppError::Internal,
        };
        #[cfg(feature = "ssr")]
        set_status(&error);
        error
    }
}

/// Sets the response's status from `error` (server only).
#[cfg(feature = "ssr")]
pub fn set_status(error: &AppError) {
    use leptos::prelude::use_context;
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
    {
        options.set_status(status);
    }
}

/// Passes a server function's result through, setting the HTTP status when it failed.
#[cfg(feature = "ssr")]
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        set_status(error);
    }
    result
}

#[cfg(feature = "ssr")]
impl From<eduscale_server::auth::AuthError> for AppError {
    fn from(e: eduscale_server::auth::AuthError) -> Self {
        use eduscale_server::auth::AuthError as A;
        match e {
            A::Invalid(list) => AppError::Invalid(list),
            A::EmailTaken => AppError::Conflict(
                "An account with that e-mail already exists; log in instead.".into(),
            ),
            A::BadCredentials => AppError::Unauthorized("E-mail or password is wrong.".into()),
            A::RateLimited { retry_after_s } => AppError::RateLimited(retry_after_s),
            A::NotSignedIn => AppError::Unauthorized("Please log in.".into()),
            A::Forbidden => AppError::Forbidden,
            A::UnknownInvite => AppError::NotFound(
                "No cohort has that invite code; check it with your instructor.".into(),
            ),
            A::ExpiredInvite => AppError::Gone(
                "That invite code has expired; ask your instructor for a new one.".into(),
            ),
            A::UnknownCohort => AppError::NotFound("No such cohort.".into()),
            A::Internal(cause) => {
                tracing::error!(error = %cause, "internal error in a server function");
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<eduscale_runner::RunError> for AppError {
    fn from(e: eduscale_runner::RunError) -> Self {
        use eduscale_runner::RunError as R;
        // Whole seconds, rounded up: "try again in 0 s" would be a lie.
        let seconds =
            |d: std::time::Duration| (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1);
        match e {
            R::Unavailable { language, reason } => AppError::BadRequest(format!(
                "{} is not available here: {reason}",
                language.name()
            )),
            R::Busy { retry_after } => AppError::Busy(seconds(retry_after)),
            R::RateLimited { retry_after } => AppError::RateLimited(seconds(retry_after)),
            R::Invalid(message) => AppError::BadRequest(message),
            R::Host(cause) => {
                tracing::error!(error = %cause, "the runner failed");
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        assert_eq!(AppError::Invalid(vec![]).status(), 422);
        assert_eq!(AppError::Unauthorized("x".into()).status(), 401);
        assert_eq!(AppError::Forbidden.status(), 403);
        assert_eq!(AppError::RateLimited(3).status(), 429);
        assert_eq!(AppError::Busy(3).status(), 503);
        assert_eq!(AppError::Internal.status(), 500);
    }

    #[test]
    fn undecodable_requests_are_bad_requests_not_internal_errors() {
        for e in [
            ServerFnErrorErr::Args("bad utf-8".into()),
            ServerFnErrorErr::MissingArg("email".into()),
            ServerFnErrorErr::Deserialization("eof".into()),
        ] {
            assert_eq!(AppError::from_server_fn_error(e).status(), 400);
        }
    }

    #[test]
    fn field_messages_are_found_by_field() {
        let e = AppError::Invalid(vec![Invalid::new("email", "Enter your e-mail address.")]);
        assert_eq!(
            e.field("email").as_deref(),
            Some("Enter your e-mail address.")
        );
        assert_eq!(e.field("password"), None);
        assert_eq!(e.to_string(), "Enter your e-mail address.");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn runner_refusals_say_when_to_retry_in_whole_seconds() {
        use eduscale_runner::RunError;
        use std::time::Duration;
        let busy = AppError::from(RunError::Busy {
            retry_after: Duration::from_millis(1200),
        });
        assert_eq!(busy, AppError::Busy(2));
        assert_eq!(busy.to_string(), "The runner is busy; try again in 2 s.");
        let limited = AppError::from(RunError::RateLimited {
            retry_after: Duration::from_millis(10),
        });
        assert_eq!(limited, AppError::RateLimited(1));
    }

    #[test]
    fn errors_cross_the_wire_unchanged() {
        let e = AppError::RateLimited(42);
        assert_eq!(AppError::de(e.ser()), e);
    }
}
