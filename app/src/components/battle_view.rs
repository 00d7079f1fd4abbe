//! Pieces of a battle that the live page and the replay both show: the
//! standings, each player's code, the phase in words, and clock helpers.
//!
//! They read a `Signal<Option<BattleState>>` and nothing else, so the live
//! page (fed by the socket) and the replay (fed by the timeline) render the
//! very same views. The rows are memoised: a keystroke changes a player's code,
//! not the standings, so the table is not redrawn for it.

use eduscale_core::battle::{BattleState, FinishReason, Phase};
use leptos::prelude::*;

/// The phase's id (`lobby`, `countdown`, `running`, `finished`): what the
/// page shows and tests read.
pub fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Lobby => "lobby",
        Phase::Countdown { .. } => "countdown",
        Phase::Running { .. } => "running",
        Phase::Finished { .. } => "finished",
    }
}

/// Why a battle ended, in words.
pub fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Solved => "solved",
        FinishReason::TimeUp => "time up",
        FinishReason::Forfeit => "forfeit",
    }
}

/// `ms` as `m:ss` (rounded up, so 0:01 shows until the very end).
pub fn clock(ms: u64) -> String {
    let secs = ms.div_ceil(1000);
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// The milliseconds since the Unix epoch, ticking four times a second while
/// the calling component lives (0 on the server).
pub fn use_now() -> ReadSignal<u64> {
    let (now, set_now) = signal(0u64);
    #[cfg(feature = "hydrate")]
    {
        let read = || js_sys::Date::now() as u64;
        set_now.set(read());
        if let Ok(handle) = set_interval_with_handle(
            move || {
                set_now.try_set(read());
            },
            std::time::Duration::from_millis(250),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_now;
    now
}

/// One line of the standings.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    rank: u16,
    name: String,
    language: &'static str,
    hidden_passed: u16,
    visible_passed: u16,
    attempts: u16,
    solved_ms: Option<u64>,
    away: bool,
    forfeited: bool,
    ready: bool,
    me: bool,
}

fn rows(state: &BattleState, me: Option<&str>) -> Vec<Row> {
    state
        .ranking()
        .into_iter()
        .enumerate()
        .map(|(place, i)| {
            let p = &state.players[i];
            Row {
                // Before the start every rank is 0: show the order of joining.
                rank: if p.standing.rank == 0 {
                    place as u16 + 1
                } else {
                    p.standing.rank
                },
                name: p.name.clone(),
                language: p.language.name(),
                hidden_passed: p.hidden_passed,
                visible_passed: p.visible_passed,
                attempts: p.attempts,
                solved_ms: p.solved_ms,
                away: p.away_since_ms.is_some(),
                forfeited: p.forfeited,
                ready: p.ready,
                me: me == Some(p.user.as_str()),
            }
        })
        .collect()
}

/// The players in standings order: place, name, tests passed, attempts, when
/// they solved it, and whether they are connected.
#[component]
pub fn Standings(
    /// The battle.
    #[prop(into)]
    state: Signal<Option<BattleState>>,
    /// The viewer's user id, to mark their row.
    #[prop(optional)]
    me: Option<String>,
) -> impl IntoView {
    let rows = Memo::new(move |_| {
        state.with(|s| {
            s.as_ref()
                .map(|s| {
                    let hidden = s.problem.as_ref().map_or(0, |p| p.hidden);
                    let visible = s.problem.as_ref().map_or(0, |p| p.visible);
                    (rows(s, me.as_deref()), hidden, visible, s.spectators)
                })
                .unwrap_or_default()
        })
    });
    view! {
        <section class="card standings" aria-label="Standings">
            <h2>"Standings"</h2>
            <table class="table" data-testid="standings">
                <thead>
                    <tr>
                        <th>"#"</th>
                        <th>"Player"</th>
                        <th>"Hidden tests"</th>
                        <th>"Examples"</th>
                        <th>"Attempts"</th>
                        <th>"Solved"</th>
                        <th>"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let (rows, hidden, visible, _) = rows.get();
                        rows.into_iter().map(|r| {
                            let status = if r.forfeited {
                                "out"
                            } else if r.away {
                                "away"
                            } else {
                                "here"
                            };
                            view! {
                                <tr
                                    data-testid="standing"
                                    data-name=r.name
                                    data-rank=r.rank.to_string()
                                    data-hidden=r.hidden_passed.to_string()
                                    data-status=status
                                    class:me=r.me
                                >
                                    <td>{r.rank}</td>
                                    <td>
                                        <span class="standing-name">{r.name.clone()}</span>
                                        <span class="muted small">{format!(" · {}", r.language)}</span>
                                    </td>
                                    <td>{format!("{} / {}", r.hidden_passed, hidden)}</td>
                                    <td>{format!("{} / {}", r.visible_passed, visible)}</td>
                                    <td>{r.attempts}</td>
                                    <td>{r.solved_ms.map_or_else(|| "—".to_owned(), clock)}</td>
                                    <td class=format!("presence presence-{status}")>{status}</td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
            <p class="muted small" data-testid="spectators">
                {move || match rows.get().3 {
                    1 => "1 spectator".to_owned(),
                    n => format!("{n} spectators"),
                }}
            </p>
        </section>
    }
    .into_any()
}

/// Each player's code as it is typed, read-only.
#[component]
pub fn PlayerCodes(
    /// The battle.
    #[prop(into)]
    state: Signal<Option<BattleState>>,
) -> impl IntoView {
    let codes = Memo::new(move |_| {
        state.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.players
                        .iter()
                        .map(|p| (p.name.clone(), p.language.name(), p.code.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    view! {
        <section class="player-codes" aria-label="Players' code">
            {move || {
                codes.get().into_iter().map(|(name, language, code)| view! {
                    <figure class="card player-code">
                        <figcaption><strong>{name.clone()}</strong><span class="muted small">{format!(" · {language}")}</span></figcaption>
                        <pre class="stream code-view" data-testid="spectator-code" data-name=name>{code}</pre>
                    </figure>
                }).collect_view()
            }}
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_rounds_up_to_the_second() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(1), "0:01");
        assert_eq!(clock(61_000), "1:01");
        assert_eq!(clock(15 * 60_000), "15:00");
    }
}
