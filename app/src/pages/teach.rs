//! An instructor's cohorts: create one, read its invite code, renew the code.

use super::form::{Field, FormError};
use crate::api::cohorts::{CreateCohort, RenewInvite, my_cohorts};
use crate::layout::Problem;
use eduscale_core::cohort::CohortName;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/teach`
#[component]
pub fn Teach() -> impl IntoView {
    let create = ServerAction::<CreateCohort>::new();
    let renew = ServerAction::<RenewInvite>::new();
    let list = Resource::new(
        move || (create.version().get(), renew.version().get()),
        |_| my_cohorts(),
    );
    let name = RwSignal::new(String::new());
    let server = Signal::derive(move || create.value().get().and_then(Result::err));
    let renew_error = Signal::derive(move || renew.value().get().and_then(Result::err));
    view! {
        <Title text="Teaching" />
        <section class="card">
            <h1>"New cohort"</h1>
            <ActionForm action=create attr:class="form inline-form">
                <Field
                    label="Name"
                    name="name"
                    value=name
                    check=|v: String| CohortName::parse(&v).err().map(|e| e.message)
                    server
                    hint="e.g. Python foundations, autumn"
                />
                <button type="submit" class="button" disabled=move || create.pending().get()>"Create"</button>
            </ActionForm>
            <FormError error=server />
        </section>
        <FormError error=renew_error />
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(cohorts) if cohorts.is_empty() => {
                        view! { <section class="card"><p class="muted">"No cohorts yet: create one above and share its code."</p></section> }.into_any()
                    }
                    Ok(cohorts) => {
                        view! {
                            <section class="card">
                                <h2>"Your cohorts"</h2>
                                <table class="table">
                                    <thead>
                                        <tr><th>"Cohort"</th><th>"Invite code"</th><th>"Expires"</th><th>"Learners"</th><th></th></tr>
                                    </thead>
                                    <tbody>
                                        {cohorts
                                            .into_iter()
                                            .map(|c| {
                                                view! {
                                                    <tr>
                                                        <td>{c.name}</td>
                                                        <td><code class="invite" class:expired=c.invite_expired>{c.invite_code}</code></td>
                                                        <td>{c.invite_expires}</td>
                                                        <td>{c.members}</td>
                                                        <td>
                                                            <ActionForm action=renew attr:class="inline">
                                                                <input type="hidden" name="cohort_id" value=c.id />
                                                                <button type="submit" class="button ghost small">"New code"</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
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
