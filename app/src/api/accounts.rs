//! Sign up, log in, log out, and "who am I".

use super::Me;
use crate::error::AppError;
use leptos::prelude::*;

/// Creates a learner account and signs it in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
) -> Result<Me, AppError> {
    use super::context;
    use eduscale_core::account::SignUp;
    use eduscale_server::auth::{accounts, session};
    crate::error::respond(
        async move {
            let form =
                SignUp::parse(&email, &display_name, &password).map_err(AppError::Invalid)?;
            let state = context::state()?;
            let user = accounts::sign_up(&state, &form).await?;
            session::start(&context::session().await?, &user).await?;
            Ok(Me::from(user))
        }
        .await,
    )
}

/// Checks the e-mail and password and signs in; one message for every failure.
#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<Me, AppError> {
    use super::context;
    use eduscale_server::auth::{accounts, session};
    crate::error::respond(
        async move {
            let state = context::state()?;
            let address = context::address(&state).await;
            let user = accounts::log_in(&state, &email, &password, &address).await?;
            session::start(&context::session().await?, &user).await?;
            use eduscale_server::insights::event::{Event, Kind};
            state.insights.note(Event::new(user.id, Kind::LogIn)).await;
            Ok(Me::from(user))
        }
        .await,
    )
}

/// Ends the session. Logging out when not logged in is fine.
#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use super::context;
    use eduscale_server::auth::session;
    crate::error::respond(
        async move {
            session::end(&context::session().await?).await?;
            Ok(())
        }
        .await,
    )
}

/// The signed-in person, or `None` for a visitor (never an error for being anonymous).
#[server(endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    use super::context;
    use eduscale_server::auth::{AuthError, session};
    crate::error::respond(
        async move {
            let state = context::state()?;
            match session::current_user(&state, &context::session().await?).await {
                Ok(user) => Ok(Some(Me::from(user))),
                Err(AuthError::NotSignedIn) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        .await,
    )
}
