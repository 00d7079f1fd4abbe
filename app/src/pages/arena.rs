//! The arena's lobby (`/arena`): the public rooms still open, creating a room
//! (a duel or a group, public or by invitation), joining one by its code, and
//! quick match (an opponent near my rating, found over the socket).
//!
//! Creating or joining lands on the battle's page (`/arena/:id`, with the
//! invite code in the query so the lobby can show it); a quick match does too
//! once the server says `Matched`, with both players already seated.

use crate::api::arena::{BattleRef, CreateBattle, JoinBattle, open_battles};
use crate::api::runs::languages;
use crate::components::battle_socket::{Connection, use_battle_socket};
use crate::layout::Problem;
use crate::session::use_auth;
use eduscale_core::battle::Mode;
use eduscale_core::code::Language;
use eduscale_core::protocol::ClientMsg;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// `/arena`
#[component]
pub fn ArenaPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Arena" />
        <Transition fallback=|| view! { <section class="card placeholder"></section> }>
            {move || Suspend::new(async move {
                match auth.me.await {
                    Ok(Some(_)) => view! { <Lobby /> }.into_any(),
                    Ok(None) => view! { <SignInFirst what="battle in the arena" /> }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Where a battle's page is, with its invite code for the lobby to show.
pub(crate) fn battle_href(battle: &BattleRef) -> String {
    format!("/arena/{}?code={}", battle.id, battle.code)
}

#[component]
fn Lobby() -> impl IntoView {
    let create = ServerAction::<CreateBattle>::new();
    let join = ServerAction::<JoinBattle>::new();
    let navigate = use_navigate();
    for action in [create.value(), join.value()] {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Some(Ok(battle)) = action.get() {
                navigate(&battle_href(&battle), Default::default());
            }
        });
    }
    view! {
        <section class="arena-head">
            <h1>"Arena"</h1>
            <p class="muted">"Race another learner to solve the same problem. The first to pass every hidden test wins."</p>
        </section>
        <div class="arena-grid">
            <CreateRoom create />
            <JoinByCode join />
            <QuickMatch />
        </div>
        <OpenRooms />
    }
    .into_any()
}

#[component]
fn CreateRoom(create: ServerAction<CreateBattle>) -> impl IntoView {
    let mode = RwSignal::new("duel".to_owned());
    let public = RwSignal::new(false);
    view! {
        <section class="card arena-card">
            <h2>"Create a room"</h2>
            <div class="toolbar">
                <label for="battle-mode" class="toolbar-label">"Mode"</label>
                <select
                    id="battle-mode"
                    class="select"
                    data-testid="create-mode"
                    on:change=move |ev| mode.set(event_target_value(&ev))
                >
                    <option value="duel" selected=move || mode.get() == "duel">"Duel (1 v 1)"</option>
                    <option value="group" selected=move || mode.get() == "group">"Group (up to 12)"</option>
                </select>
            </div>
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="create-public"
                    prop:checked=move || public.get()
                    on:change=move |ev| public.set(event_target_checked(&ev))
                />
                " Public: listed below, anyone may watch"
            </label>
            <button
                class="button"
                data-testid="create-battle"
                disabled=move || create.pending().get()
                on:click=move |_| {
                    create.dispatch(CreateBattle { mode: mode.get_untracked(), public: public.get_untracked() });
                }
            >
                "Create"
            </button>
            {move || create.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
        </section>
    }
}

#[component]
fn JoinByCode(join: ServerAction<JoinBattle>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let submit = move || {
        let code = code.get_untracked();
        if !code.trim().is_empty() {
            join.dispatch(JoinBattle { code });
        }
    };
    view! {
        <section class="card arena-card">
            <h2>"Join by code"</h2>
            <label for="join-code" class="toolbar-label">"Invite code"</label>
            <input
                id="join-code"
                class="code-input"
                data-testid="join-code"
                maxlength="6"
                autocomplete="off"
                autocapitalize="characters"
                spellcheck="false"
                placeholder="ABC123"
                prop:value=move || code.get()
                on:input=move |ev| code.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" {
                        submit();
                    }
                }
            />
            <button class="button" data-testid="join-battle" disabled=move || join.pending().get() on:click=move |_| submit()>
                "Join"
            </button>
            {move || join.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
        </section>
    }
}

#[component]
fn QuickMatch() -> impl IntoView {
    let socket = use_battle_socket(None);
    let language = RwSignal::new(Language::Python);
    let waiting = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(battle) = socket.matched.get() {
            waiting.set(false);
            navigate(&format!("/arena/{battle}"), Default::default());
        }
    });
    let find = move |_| {
        let sent = socket.send(ClientMsg::QuickMatch {
            language: language.get_untracked(),
        });
        waiting.set(sent);
        if !sent {
            socket
                .notice
                .set(Some("Not connected yet; try again in a moment.".into()));
        }
    };
    let cancel = move |_| {
        socket.send(ClientMsg::CancelMatch);
        waiting.set(false);
    };
    view! {
        <section class="card arena-card" data-testid="quick-match" data-waiting=move || waiting.get().to_string()>
            <h2>"Quick match"</h2>
            <p class="muted small">"An opponent near your rating, writing the same language."</p>
            <div class="toolbar">
                <LanguagePicker language id="quick-language" />
                {move || if waiting.get() {
                    view! { <button class="button ghost" data-testid="cancel-match" on:click=cancel>"Cancel"</button> }.into_any()
                } else {
                    view! {
                        <button
                            class="button"
                            data-testid="find-match"
                            disabled=move || socket.connection.get() != Connection::Live
                            on:click=find
                        >
                            "Find an opponent"
                        </button>
                    }
                        .into_any()
                }}
            </div>
            {move || waiting.get().then(|| view! { <p class="muted small" aria-live="polite">"Looking for an opponent…"</p> })}
            {move || socket.notice.get().map(|n| view! { <p class="form-error" role="alert">{n}</p> })}
        </section>
    }
}

#[component]
fn OpenRooms() -> impl IntoView {
    let rooms = Resource::new(|| (), |_| open_battles());
    view! {
        <section class="card" data-testid="open-rooms">
            <div class="section-head">
                <h2>"Open rooms"</h2>
                <button class="button ghost small" data-testid="refresh-rooms" on:click=move |_| rooms.refetch()>
                    "Refresh"
                </button>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="muted">"No public rooms right now: create one."</p> }.into_any()
                        }
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Code"</th><th>"Mode"</th><th>"Host"</th><th>"Status"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|room| {
                                        let href = battle_href(&BattleRef { id: room.id, code: room.code.clone() });
                                        let mode = match room.mode { Mode::Duel => "Duel", Mode::Group => "Group" };
                                        let action = if room.status == "lobby" { "Join" } else { "Watch" };
                                        view! {
                                            <tr data-testid="room" data-code=room.code>
                                                <td><code class="invite">{room.code.clone()}</code></td>
                                                <td>{mode}</td>
                                                <td>{room.host}</td>
                                                <td>{room.status}</td>
                                                <td><A href=href attr:class="button small">{action}</A></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// A language picker offering the languages this server runs.
#[component]
pub(crate) fn LanguagePicker(
    /// The pick.
    language: RwSignal<Language>,
    /// The select's id.
    id: &'static str,
) -> impl IntoView {
    let statuses = Resource::new(|| (), |_| languages());
    let unavailable = move |l: Language| {
        statuses.get().is_some_and(|r| {
            r.is_ok_and(|list| {
                list.iter()
                    .any(|s| s.language == l && s.unavailable.is_some())
            })
        })
    };
    view! {
        <label for=id class="toolbar-label">"Language"</label>
        <select
            id=id
            class="select"
            data-testid="language"
            on:change=move |ev| {
                if let Some(l) = Language::from_id(&event_target_value(&ev)) {
                    language.set(l);
                }
            }
        >
            {Language::ALL
                .into_iter()
                .map(|l| {
                    view! {
                        <option value=l.id() selected=move || language.get() == l disabled=move || unavailable(l)>
                            {l.name()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// For visitors: the arena is for the signed in.
#[component]
pub(crate) fn SignInFirst(
    /// What they came to do ("battle in the arena").
    what: &'static str,
) -> impl IntoView {
    view! {
        <section class="card narrow error-page">
            <h1>{format!("Log in to {what}")}</h1>
            <p class="muted">"Battles are between learners we know, so we need to know who you are."</p>
            <p class="actions">
                <A href="/login" attr:class="button">"Log in"</A>
                <A href="/signup" attr:class="button ghost">"Sign up"</A>
            </p>
        </section>
    }
}
