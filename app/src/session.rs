//! Who is signed in, for every component: one resource, refetched whenever a
//! sign-up, log-in or log-out completes.

use crate::api::Me;
use crate::api::accounts::{LogIn, LogOut, SignUp, who_am_i};
use crate::error::AppError;
use leptos::prelude::*;

/// The actions that change who is signed in, and the resource that says who is.
#[derive(Clone, Copy)]
pub struct Auth {
    /// Sign-up form submissions.
    pub sign_up: ServerAction<SignUp>,
    /// Log-in form submissions.
    pub log_in: ServerAction<LogIn>,
    /// The log-out button.
    pub log_out: ServerAction<LogOut>,
    /// The signed-in person (`Ok(None)` for a visitor).
    pub me: Resource<Result<Option<Me>, AppError>>,
}

/// Creates [`Auth`] and puts it in context; called once, by the app shell.
pub fn provide_auth() {
    let sign_up = ServerAction::<SignUp>::new();
    let log_in = ServerAction::<LogIn>::new();
    let log_out = ServerAction::<LogOut>::new();
    let me = Resource::new_blocking(
        move || {
            (
                sign_up.version().get(),
                log_in.version().get(),
                log_out.version().get(),
            )
        },
        |_| who_am_i(),
    );
    provide_context(Auth {
        sign_up,
        log_in,
        log_out,
        me,
    });
}

/// The [`Auth`] of this app.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
