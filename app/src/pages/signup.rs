//! Sign-up: every field is checked in the browser by the same rules the server
//! applies (`eduscale_core::account`), as soon as the person leaves it.

use super::form::{Field, FormError};
use crate::session::use_auth;
use eduscale_core::account::{DisplayName, Email, NewPassword};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// `/signup`
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = use_auth().sign_up;
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let show = RwSignal::new(false);
    let server = Signal::derive(move || action.value().get().and_then(Result::err));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            navigate("/profile", Default::default());
        }
    });
    let check_password = move |p: String| {
        let email = Email::parse(&email.get_untracked()).ok();
        NewPassword::parse(&p, email.as_ref())
            .err()
            .map(|e| e.message)
    };
    view! {
        <Title text="Sign up" />
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <p class="muted">"Learners start here. Instructors get their account from an admin."</p>
            <ActionForm action attr:class="form" attr:novalidate="true">
                <Field
                    label="E-mail"
                    name="email"
                    kind="email"
                    autocomplete="email"
                    value=email
                    check=|v: String| Email::parse(&v).err().map(|e| e.message)
                    server
                />
                <Field
                    label="Display name"
                    name="display_name"
                    autocomplete="nickname"
                    value=name
                    check=|v: String| DisplayName::parse(&v).err().map(|e| e.message)
                    server
                    hint="Shown to other learners."
                />
                <div class="with-toggle">
                    <Field
                        label="Password"
                        name="password"
                        kind="password"
                        autocomplete="new-password"
                        value=password
                        check=check_password
                        server
                        hint="At least 10 characters, mixing letters, digits or symbols."
                        kind_override=Signal::derive(move || if show.get() { "text" } else { "password" })
                    />
                    <button
                        type="button"
                        class="toggle"
                        data-testid="show-password"
                        aria-pressed=move || show.get().to_string()
                        on:click=move |_| show.update(|s| *s = !*s)
                    >
                        {move || if show.get() { "Hide" } else { "Show" }}
                    </button>
                </div>
                <FormError error=server />
                <button type="submit" class="button wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="muted small">"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}
