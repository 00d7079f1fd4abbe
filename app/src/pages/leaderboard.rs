//! The arena's leaderboard (`/leaderboard`): the top players by rating, with
//! the viewer's own line marked.

use crate::api::arena::leaderboard;
use crate::layout::Problem;
use crate::pages::arena::SignInFirst;
use crate::session::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/leaderboard`
#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let auth = use_auth();
    let top = Resource::new(|| (), |_| leaderboard());
    view! {
        <Title text="Leaderboard" />
        <section class="arena-head">
            <h1>"Leaderboard"</h1>
            <p class="muted">"Ratings move after every battle: beat someone rated above you to climb faster. "<A href="/arena">"Find a battle"</A></p>
        </section>
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                let me = match auth.me.await {
                    Ok(Some(me)) => me,
                    Ok(None) => return view! { <SignInFirst what="see the leaderboard" /> }.into_any(),
                    Err(e) => return view! { <Problem error=e /> }.into_any(),
                };
                match top.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="card"><p class="muted">"No battles rated yet."</p></section>
                    }.into_any(),
                    Ok(list) => view! {
                        <section class="card">
                            <table class="table" data-testid="leaderboard">
                                <thead><tr><th>"Place"</th><th>"Name"</th><th>"Rating"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|l| view! {
                                        <tr
                                            data-testid="leader"
                                            data-name=l.name
                                            data-rating=l.rating.to_string()
                                            class:me=l.user == me.id
                                        >
                                            <td>{l.place}</td>
                                            <td>{l.name.clone()}</td>
                                            <td>{l.rating}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}
