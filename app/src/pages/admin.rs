//! The admin's view of every account.

use crate::api::admin::list_users;
use crate::layout::Problem;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin`
#[component]
pub fn Admin() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Admin" />
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) => {
                        view! {
                            <section class="card">
                                <h1>"Accounts"</h1>
                                <table class="table">
                                    <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Since"</th></tr></thead>
                                    <tbody>
                                        {users
                                            .into_iter()
                                            .map(|u| view! {
                                                <tr>
                                                    <td>{u.display_name}</td>
                                                    <td>{u.email}</td>
                                                    <td><span class="role-badge">{u.role.as_str()}</span></td>
                                                    <td>{u.member_since}</td>
                                                </tr>
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
