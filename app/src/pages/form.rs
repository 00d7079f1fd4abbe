//! Form pieces shared by the pages: a labelled field whose message comes from
//! the same `eduscale_core` rule the server applies, shown as soon as the
//! person leaves the field.

use crate::error::AppError;
use leptos::prelude::*;

/// A labelled input bound to `value`, showing `check`'s verdict once touched, or the server's.
#[component]
pub fn Field(
    /// The visible label.
    label: &'static str,
    /// The form field's name (also the server function's argument).
    name: &'static str,
    /// The input's type.
    #[prop(default = "text")]
    kind: &'static str,
    /// The browser's autocomplete hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// The field's current text.
    value: RwSignal<String>,
    /// The client-side rule: `Some(message)` when the value breaks it.
    #[prop(into)]
    check: Callback<String, Option<String>>,
    /// The last answer from the server, if any.
    #[prop(into)]
    server: Signal<Option<AppError>>,
    /// A hint shown under the field while there is no error.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// Overrides `kind` (e.g. a show-password toggle).
    #[prop(optional, into)]
    kind_override: Option<Signal<&'static str>>,
) -> impl IntoView {
    let touched = RwSignal::new(false);
    let message = move || {
        let mine = touched.get().then(|| check.run(value.get())).flatten();
        mine.or_else(|| server.get().and_then(|e| e.field(name)))
    };
    let id = format!("field-{name}");
    let err_id = format!("{id}-error");
    let kind = move || kind_override.map_or(kind, |k| k.get());
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| touched.set(true)
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=err_id.clone()
            />
            <p class="field-message" id=err_id aria-live="polite">
                {move || message().or_else(|| hint.map(str::to_owned)).unwrap_or_default()}
            </p>
        </div>
    }
}

/// The server's answer to a form, when it is not about one field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Invalid(_)))
            .map(|e| {
                view! { <p class="form-error" role="alert">{e.to_string()}</p> }
            })
    }
}
