//! One battle (`/arena/:id`), live: everything on it comes over the battle
//! socket (`components::battle_socket`) and changes without a reload.
//!
//! By phase: the lobby (players and who is ready, Join with a language, Ready,
//! the invite code), the countdown, the battle itself and the result. While it
//! runs, a player gets the problem, the editor (typing is sent as it happens,
//! see `components::battle_typing`), Run on the examples, Submit, the clock and
//! the standings; anyone else signed in and allowed in watches: the standings
//! and every player's code as it is typed. Afterwards: who won, the ratings
//! before and after, and a link to the replay.
//!
//! The page is rendered on the server without a state (there is no socket
//! there), so the first client render matches it and the state arrives after.

use crate::api::arena::battle_problem;
use crate::api::paths::ChallengeView;
use crate::components::battle_socket::{BattleSocket, Connection, use_battle_socket};
use crate::components::battle_view::{
    PlayerCodes, Standings, clock, finish_reason, phase_name, use_now,
};
use crate::components::code_editor::CodeEditor;
use crate::layout::Problem;
use crate::pages::arena::{LanguagePicker, SignInFirst};
use crate::pages::path_node::JudgementView;
use crate::session::use_auth;
use eduscale_core::battle::{BattleState, Mode, Phase};
use eduscale_core::code::Language;
use eduscale_core::protocol::PlayerAction;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/arena/:id`
#[component]
pub fn BattlePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse::<u64>().ok())));
    let auth = use_auth();
    view! {
        <Title text="Battle" />
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || {
                let id = id.get();
                let code = query.with_untracked(|q| q.get("code"));
                Suspend::new(async move {
                    match (auth.me.await, id) {
                        (Ok(Some(me)), Some(id)) => view! { <Battle id me=me.id code /> }.into_any(),
                        (Ok(Some(_)), None) => view! {
                            <section class="card narrow error-page"><h1>"No such battle"</h1></section>
                        }.into_any(),
                        (Ok(None), _) => view! { <SignInFirst what="watch or play this battle" /> }.into_any(),
                        (Err(e), _) => view! { <Problem error=e /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// Where the battle is, as far as the page's layout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Connecting,
    Lobby,
    Countdown,
    Running,
    Finished,
}

#[component]
fn Battle(id: u64, me: String, code: Option<String>) -> impl IntoView {
    let socket = use_battle_socket(Some(id));
    let now = use_now();
    let stage = Memo::new(move |_| {
        socket.state.with(|s| match s.as_ref().map(|s| s.phase) {
            None => Stage::Connecting,
            Some(Phase::Lobby) => Stage::Lobby,
            Some(Phase::Countdown { .. }) => Stage::Countdown,
            Some(Phase::Running { .. }) => Stage::Running,
            Some(Phase::Finished { .. }) => Stage::Finished,
        })
    });
    let me_id = me.clone();
    let playing = Memo::new(move |_| {
        socket
            .state
            .with(|s| s.as_ref().and_then(|s| s.player_index(&me_id)))
    });
    let state = Signal::from(socket.state);
    let me_for_body = me.clone();
    let body = move || {
        let me = me_for_body.clone();
        match (stage.get(), playing.get()) {
            (Stage::Connecting, _) => view! { <Connecting socket /> }.into_any(),
            (Stage::Lobby, mine) => {
                view! { <Lobby socket mine=mine.is_some() code=code.clone() me /> }.into_any()
            }
            (Stage::Countdown, _) => view! { <Countdown socket now me /> }.into_any(),
            (Stage::Running, Some(index)) => view! { <Workspace id socket index me /> }.into_any(),
            (Stage::Running, None) => view! { <Spectate state me /> }.into_any(),
            (Stage::Finished, _) => view! { <Finished id socket me /> }.into_any(),
        }
    };
    view! {
        <Head id socket now />
        {body}
    }
    .into_any()
}

/// The title, the phase, the connection and the last refusal.
#[component]
fn Head(id: u64, socket: BattleSocket, now: ReadSignal<u64>) -> impl IntoView {
    let phase = move || {
        socket
            .state
            .with(|s| s.as_ref().map_or("connecting", |s| phase_name(&s.phase)))
    };
    let problem = Memo::new(move |_| {
        socket
            .state
            .with(|s| s.as_ref().and_then(|s| s.problem.clone()))
    });
    let mode = move || {
        socket.state.with(|s| {
            s.as_ref().map(|s| match s.settings.mode {
                Mode::Duel => "Duel",
                Mode::Group => "Group",
            })
        })
    };
    let time_left = move || {
        socket.state.with(|s| match s.as_ref().map(|s| s.phase) {
            Some(Phase::Running { ends_at_ms, .. }) => {
                Some(clock(ends_at_ms.saturating_sub(now.get())))
            }
            _ => None,
        })
    };
    let conn = move || socket.connection.get();
    view! {
        <section class="battle-head">
            <p class="crumbs"><A href="/arena">"Arena"</A>" / "{format!("Battle {id}")}</p>
            <h1>
                {move || match problem.get() {
                    Some(p) => p.title,
                    None => format!("Battle {id}"),
                }}
            </h1>
            <p class="battle-meta">
                <span class="phase-badge" data-testid="battle-phase" data-phase=phase>{phase}</span>
                {move || mode().map(|m| view! { <span class="muted">{m}</span> })}
                {move || problem.get().map(|p| view! {
                    <span class="muted" data-testid="problem-slug" data-slug=p.challenge.clone()>{p.challenge.clone()}</span>
                })}
                {move || time_left().map(|t| view! { <span class="battle-clock" data-testid="clock">{t}" left"</span> })}
                <span class="live-state" data-testid="battle-connection" data-conn=move || conn().as_str() data-live=move || conn().as_str()>
                    {move || match conn() {
                        Connection::Live => "● live",
                        Connection::Connecting => "○ connecting…",
                        Connection::Offline => "○ offline, reconnecting…",
                    }}
                </span>
            </p>
            {move || socket.notice.get().map(|n| view! {
                <p class="form-error" role="alert" data-testid="battle-notice">
                    {n}
                    <button class="toggle" aria-label="Dismiss" on:click=move |_| socket.notice.set(None)>"×"</button>
                </p>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn Connecting(socket: BattleSocket) -> impl IntoView {
    move || {
        match socket.denied.get() {
        Some(why) => view! {
            <section class="card narrow error-page" role="alert" data-testid="battle-denied">
                <h2>"You cannot watch this battle"</h2>
                <p>{why}</p>
                <p class="muted">"A private battle is open to those who have its invite code: join it from the arena."</p>
                <p class="actions"><A href="/arena" attr:class="button">"Go to the arena"</A></p>
            </section>
        }
        .into_any(),
        None => view! { <section class="card placeholder tall" aria-busy="true"></section> }.into_any(),
    }
    }
}

#[component]
fn Lobby(socket: BattleSocket, mine: bool, code: Option<String>, me: String) -> impl IntoView {
    let language = RwSignal::new(Language::Python);
    let my_ready = Memo::new(move |_| {
        socket.state.with(|s| {
            s.as_ref()
                .and_then(|s| s.player_index(&me).map(|i| s.players[i].ready))
                .unwrap_or(false)
        })
    });
    let my_ready = move || my_ready.get();
    let full = move || {
        socket.state.with(|s| {
            s.as_ref()
                .is_some_and(|s| s.players.len() >= usize::from(s.settings.capacity))
        })
    };
    let play = move |action: PlayerAction| {
        if !socket.play(action) {
            socket.notice.set(Some(
                "Not connected right now; try again in a moment.".into(),
            ));
        }
    };
    let actions = move || {
        if mine {
            view! {
                <div class="toolbar">
                    <button
                        class="button"
                        data-testid="ready"
                        data-ready=move || my_ready().to_string()
                        on:click=move |_| play(PlayerAction::Ready { ready: !my_ready() })
                    >
                        {move || if my_ready() { "Not ready" } else { "Ready" }}
                    </button>
                    <button class="button ghost" data-testid="leave" on:click=move |_| play(PlayerAction::Leave)>
                        "Leave"
                    </button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="toolbar">
                    <LanguagePicker language id="battle-language" />
                    <button
                        class="button"
                        data-testid="join"
                        disabled=full
                        on:click=move |_| play(PlayerAction::Join { language: language.get_untracked() })
                    >
                        "Join"
                    </button>
                    {move || full().then(|| view! { <span class="muted small">"The room is full: you can watch."</span> })}
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section class="card battle-lobby">
            {code.map(|c| view! {
                <p>"Invite code: "<code class="invite" data-testid="battle-code">{c}</code>
                <span class="muted small">" (share it to invite someone)"</span></p>
            })}
            <h2>"Players"</h2>
            <PlayerList socket />
            {actions}
            <p class="muted small">"The problem is revealed when every player is ready."</p>
        </section>
    }
    .into_any()
}

#[component]
fn PlayerList(socket: BattleSocket) -> impl IntoView {
    let players = Memo::new(move |_| {
        socket.state.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.players
                        .iter()
                        .map(|p| (p.name.clone(), p.language.name(), p.rating, p.ready))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    view! {
        <ul class="battle-players">
            {move || {
                let list = players.get();
                if list.is_empty() {
                    return view! { <li class="muted">"Nobody yet."</li> }.into_any();
                }
                list.into_iter()
                    .map(|(name, language, rating, ready)| view! {
                        <li data-testid="player" data-name=name data-ready=ready.to_string()>
                            <strong>{name.clone()}</strong>
                            <span class="muted small">{format!(" · {language} · rating {rating}")}</span>
                            <span class=if ready { "ready-mark ok" } else { "ready-mark" }>
                                {if ready { "ready" } else { "not ready" }}
                            </span>
                        </li>
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

#[component]
fn Countdown(socket: BattleSocket, now: ReadSignal<u64>, me: String) -> impl IntoView {
    let left = move || {
        socket.state.with(|s| match s.as_ref().map(|s| s.phase) {
            Some(Phase::Countdown { starts_at_ms }) => {
                starts_at_ms.saturating_sub(now.get()).div_ceil(1000)
            }
            _ => 0,
        })
    };
    view! {
        <section class="card countdown" aria-live="polite">
            <p class="muted">"Get ready: the problem appears in"</p>
            <p class="countdown-number" data-testid="countdown">{left}</p>
        </section>
        <Standings state=socket.state me />
    }
    .into_any()
}

/// A player's battle: the problem, the editor, Run and Submit, the standings.
#[component]
fn Workspace(id: u64, socket: BattleSocket, index: usize, me: String) -> impl IntoView {
    let problem = LocalResource::new(move || battle_problem(id));
    view! {
        <div class="battle-grid">
            {move || match problem.get() {
                None => view! { <section class="card placeholder tall" aria-busy="true"></section> }.into_any(),
                Some(Err(e)) => view! { <Problem error=e /> }.into_any(),
                Some(Ok(challenge)) => view! { <Solve socket index challenge /> }.into_any(),
            }}
            <Standings state=socket.state me />
        </div>
    }
    .into_any()
}

#[component]
fn Solve(socket: BattleSocket, index: usize, challenge: ChallengeView) -> impl IntoView {
    let (language, mine) = socket.state.with_untracked(|s| {
        s.as_ref()
            .and_then(|s| s.players.get(index))
            .map(|p| (p.language, p.code.clone()))
            .unwrap_or((Language::Python, String::new()))
    });
    // The server's copy of my code (after a reload) or, at the reveal, the
    // starter, which then goes out as my first edit.
    let initial = if mine.is_empty() {
        challenge
            .starters
            .get(language.id())
            .cloned()
            .unwrap_or_default()
    } else {
        mine.clone()
    };
    let code = RwSignal::new(initial);
    #[cfg(feature = "hydrate")]
    let typing = crate::components::battle_typing::Typing::start(socket, code, mine);
    #[cfg(not(feature = "hydrate"))]
    let _ = mine;
    let flush = move || {
        #[cfg(feature = "hydrate")]
        typing.flush();
    };
    let running = RwSignal::new(false);
    let judging = RwSignal::new(false);
    Effect::new(move |_| {
        socket.run.track();
        running.set(false);
    });
    Effect::new(move |_| {
        socket.verdict.track();
        judging.set(false);
    });
    Effect::new(move |_| {
        // A refusal (busy, too late) answers whatever was pending.
        if socket.notice.with(Option::is_some) {
            running.set(false);
            judging.set(false);
        }
    });
    let act = move |action: PlayerAction, pending: RwSignal<bool>| {
        flush();
        if socket.play(action) {
            pending.set(true);
        } else {
            socket.notice.set(Some(
                "Not connected right now; try again in a moment.".into(),
            ));
        }
    };
    let on_run = Callback::new(move |()| {
        if !running.get_untracked() {
            act(PlayerAction::Run, running);
        }
    });
    view! {
        <section class="card statement" data-testid="problem">
            <div class="statement-body" inner_html=challenge.statement_html.clone()></div>
            <h3>"Examples"</h3>
            {challenge.examples.iter().enumerate().map(|(i, (input, output))| view! {
                <div class="example">
                    <p class="small muted">{format!("Example {}", i + 1)}</p>
                    <div class="example-io">
                        <div><p class="small">"Input"</p><pre class="stream">{input.clone()}</pre></div>
                        <div><p class="small">"Output"</p><pre class="stream">{output.clone()}</pre></div>
                    </div>
                </div>
            }).collect_view()}
        </section>
        <section class="card editor-card">
            <div class="toolbar">
                <span class="toolbar-label">{language.name()}</span>
                <button
                    class="button ghost run-button"
                    data-testid="run"
                    disabled=move || running.get()
                    on:click=move |_| on_run.run(())
                >
                    {move || if running.get() { "Running…" } else { "Run examples" }}
                </button>
                <button
                    class="button"
                    data-testid="submit"
                    disabled=move || judging.get()
                    on:click=move |_| act(PlayerAction::Submit, judging)
                >
                    {move || if judging.get() { "Judging…" } else { "Submit" }}
                </button>
            </div>
            <CodeEditor code language=language on_run label="Your solution" />
            <MyVerdict socket />
            {move || socket.run.get().map(|judgement| view! {
                <div class="run-output" data-testid="run-result"><JudgementView judgement /></div>
            })}
        </section>
    }
    .into_any()
}

/// My last submission's verdict (only I hear it).
#[component]
fn MyVerdict(socket: BattleSocket) -> impl IntoView {
    move || {
        socket.verdict.get().map(|v| {
            let passed = v.hidden_passed == v.hidden_total && !v.too_late;
            let text = if v.too_late {
                "Too late: the battle was already over.".to_owned()
            } else {
                format!(
                    "Your submission: {} of {} hidden tests passed",
                    v.hidden_passed, v.hidden_total
                )
            };
            view! {
                <p class=if passed { "verdict ok" } else { "verdict bad" } data-testid="verdict" data-passed=passed.to_string()>
                    {text}
                </p>
            }
        })
    }
}

/// Someone watching: the standings and everyone's code.
#[component]
fn Spectate(state: Signal<Option<BattleState>>, me: String) -> impl IntoView {
    view! {
        <p class="spectating muted" data-testid="spectating">"You are watching this battle."</p>
        <Standings state me />
        <PlayerCodes state />
    }
    .into_any()
}

/// The result, the ratings and the final standings.
#[component]
fn Finished(id: u64, socket: BattleSocket, me: String) -> impl IntoView {
    let me_for_result = me.clone();
    let result = Memo::new(move |_| {
        socket.state.with(|s| {
            let s = s.as_ref()?;
            let reason = match s.phase {
                Phase::Finished { reason, .. } => finish_reason(reason),
                _ => "",
            };
            let winner = s
                .players
                .iter()
                .find(|p| p.standing.rank == 1)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let headline = match s.player_index(&me_for_result).map(|i| &s.players[i]) {
                Some(p) if p.standing.rank == 1 => "You won!".to_owned(),
                Some(p) => format!("You placed {} of {}", p.standing.rank, s.players.len()),
                None if winner.is_empty() => "Nobody won".to_owned(),
                None => format!("{winner} won"),
            };
            Some((headline, winner, reason))
        })
    });
    let ratings = Memo::new(move |_| {
        socket.state.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.players
                        .iter()
                        .map(|p| (p.name.clone(), p.rating, p.rating_after))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    view! {
        {move || result.get().map(|(headline, winner, reason)| view! {
            <section class="card result" data-testid="result" data-winner=winner data-reason=reason>
                <h2>{headline}</h2>
                <p class="muted">{format!("The battle is over ({reason}).")}</p>
                <MyVerdict socket />
                <table class="table ratings">
                    <thead><tr><th>"Player"</th><th>"Rating before"</th><th>"After"</th></tr></thead>
                    <tbody>
                        {move || ratings.get().into_iter().map(|(name, before, after)| {
                            let shown = after.map_or_else(|| "…".to_owned(), |a| {
                                let change = a - before;
                                format!("{a} ({}{change})", if change >= 0 { "+" } else { "" })
                            });
                            view! {
                                <tr
                                    data-testid="rating"
                                    data-name=name
                                    data-before=before.to_string()
                                    data-after=after.map(|a| a.to_string()).unwrap_or_default()
                                >
                                    <td>{name.clone()}</td>
                                    <td>{before}</td>
                                    <td>{shown}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="actions">
                    <A href=format!("/arena/{id}/replay") attr:class="button ghost" attr:data-testid="replay-link">"Watch the replay"</A>
                    <A href="/arena" attr:class="button ghost">"Back to the arena"</A>
                    <A href="/leaderboard" attr:class="button ghost">"Leaderboard"</A>
                </p>
            </section>
        })}
        <Standings state=socket.state me />
        <PlayerCodes state=socket.state />
    }
    .into_any()
}
