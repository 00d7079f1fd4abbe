//! The page for any address we do not serve, answered with a 404.

use leptos::prelude::*;
use leptos_meta::Title;

/// Fallback of the router.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="card narrow error-page">
            <p class="eyebrow">"404"</p>
            <h1>"There is nothing here"</h1>
            <p>"The page may have moved, or the address has a typo."</p>
            <p class="actions">
                <a class="button" href="/">"Go home"</a>
            </p>
        </section>
    }
}
