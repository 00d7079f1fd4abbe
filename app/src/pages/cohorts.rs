//! A learner's cohorts, and joining one with an invite code.

use super::form::{Field, FormError};
use crate::api::cohorts::{JoinCohort, my_cohorts};
use crate::layout::Problem;
use eduscale_core::cohort::InviteCode;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/cohorts`
#[component]
pub fn Cohorts() -> impl IntoView {
    let join = ServerAction::<JoinCohort>::new();
    let list = Resource::new(move || join.version().get(), |_| my_cohorts());
    let code = RwSignal::new(String::new());
    let server = Signal::derive(move || join.value().get().and_then(Result::err));
    view! {
        <Title text="My cohorts" />
        <section class="card narrow">
            <h1>"Join a cohort"</h1>
            <ActionForm action=join attr:class="form inline-form">
                <Field
                    label="Invite code"
                    name="code"
                    value=code
                    check=|v: String| InviteCode::parse(&v).err().map(|e| e.message)
                    server
                    hint="Your instructor's code, like ABCD-EFGH."
                />
                <button type="submit" class="button" disabled=move || join.pending().get()>"Join"</button>
            </ActionForm>
            <FormError error=server />
            {move || {
                join.value().get().and_then(Result::ok).map(|c| {
                    view! { <p class="form-ok" role="status">"You joined " {c.name} "."</p> }
                })
            }}
        </section>
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(cohorts) if cohorts.is_empty() => {
                        view! { <section class="card"><p class="muted">"You are in no cohort yet."</p></section> }.into_any()
                    }
                    Ok(cohorts) => {
                        view! {
                            <section class="card">
                                <h2>"Your cohorts"</h2>
                                <ul class="cohort-list">
                                    {cohorts
                                        .into_iter()
                                        .map(|c| view! { <li><strong>{c.name}</strong><span class="muted">" with " {c.instructor}</span></li> })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}
