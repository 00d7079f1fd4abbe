//! Log-in: one generic message for every wrong combination.

use super::form::FormError;
use crate::session::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// `/login`
#[component]
pub fn LogInPage() -> impl IntoView {
    let action = use_auth().log_in;
    let server = Signal::derive(move || action.value().get().and_then(Result::err));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            navigate("/profile", Default::default());
        }
    });
    view! {
        <Title text="Log in" />
        <section class="card narrow">
            <h1>"Welcome back"</h1>
            <ActionForm action attr:class="form">
                <div class="field">
                    <label for="login-email">"E-mail"</label>
                    <input id="login-email" name="email" type="email" autocomplete="username" required />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" name="password" type="password" autocomplete="current-password" required />
                </div>
                <FormError error=server />
                <button type="submit" class="button wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="muted small">"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}
