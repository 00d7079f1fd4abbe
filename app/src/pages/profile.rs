//! The signed-in person's profile.

use crate::error::AppError;
use crate::layout::Problem;
use crate::session::use_auth;
use eduscale_core::account::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/profile`
#[component]
pub fn Profile() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Profile" />
        <Transition fallback=|| view! { <section class="card narrow placeholder"></section> }>
            {move || Suspend::new(async move {
                match auth.me.await {
                    Ok(Some(me)) => {
                        let next = match me.role {
                            Role::Learner => ("/cohorts", "Join or open your cohorts"),
                            Role::Instructor | Role::Admin => ("/teach", "Run your cohorts"),
                        };
                        view! {
                            <section class="card narrow profile">
                                <div class="profile-head">
                                    <span class="avatar big" aria-hidden="true">
                                        {me.display_name.chars().next().map(|c| c.to_uppercase().to_string())}
                                    </span>
                                    <div>
                                        <h1>{me.display_name.clone()}</h1>
                                        <span class="role-badge">{me.role.as_str()}</span>
                                    </div>
                                </div>
                                <dl class="facts">
                                    <dt>"E-mail"</dt>
                                    <dd>{me.email.clone()}</dd>
                                    <dt>"Member since"</dt>
                                    <dd>{me.member_since.clone()}</dd>
                                </dl>
                                <p class="actions">
                                    <A href=next.0 attr:class="button">{next.1}</A>
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Problem error=AppError::Unauthorized("Please log in to see your profile.".into()) /> }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}
