//! A finished battle, replayed (`/arena/:id/replay`): its recording (every
//! delta) and a timeline to scrub through it.
//!
//! The state at step `n` is a fresh battle with the first `n` deltas applied by
//! the same `apply` the live page runs, so the replay shows exactly what the
//! players saw, hash-checked. A long battle has thousands of deltas (typing
//! goes out every 50 ms), so the states every [`EVERY`] steps are kept and a
//! step is reached from the nearest one before it.

use crate::api::arena::{Replay, battle_replay};
use crate::components::battle_view::{PlayerCodes, Standings, finish_reason, phase_name};
use crate::error::AppError;
use crate::layout::Problem;
use crate::pages::arena::SignInFirst;
use crate::session::use_auth;
use eduscale_core::battle::{BattleState, Delta, Phase, apply};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// Steps between kept states.
const EVERY: usize = 64;

/// `/arena/:id/replay`
#[component]
pub fn ReplayPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse::<u64>().ok())));
    let auth = use_auth();
    let replay = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => battle_replay(id).await,
                None => Err(AppError::NotFound("No such battle.".into())),
            }
        },
    );
    view! {
        <Title text="Replay" />
        <Transition fallback=|| view! { <section class="card placeholder tall"></section> }>
            {move || Suspend::new(async move {
                match auth.me.await {
                    Ok(None) => return view! { <SignInFirst what="watch replays" /> }.into_any(),
                    Err(e) => return view! { <Problem error=e /> }.into_any(),
                    Ok(Some(_)) => {}
                }
                match replay.await {
                    Ok(replay) => view! { <Scrubber replay /> }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The recording, with the states every [`EVERY`] steps.
struct Timeline {
    deltas: Vec<Delta>,
    /// `kept[k]` is the state after `k * EVERY` deltas.
    kept: Vec<BattleState>,
    /// The first delta that did not apply, if any (the recording is damaged).
    broken_at: Option<usize>,
}

impl Timeline {
    fn new(replay: Replay) -> Timeline {
        let mut state = BattleState::new(replay.id, replay.settings);
        let mut kept = vec![state.clone()];
        let mut broken_at = None;
        for (i, delta) in replay.deltas.iter().enumerate() {
            if apply(&mut state, delta).is_err() {
                broken_at = Some(i);
                break;
            }
            if (i + 1) % EVERY == 0 {
                kept.push(state.clone());
            }
        }
        Timeline {
            deltas: replay.deltas,
            kept,
            broken_at,
        }
    }

    /// The state after `step` deltas.
    fn at(&self, step: usize) -> Result<BattleState, String> {
        let step = step.min(self.deltas.len());
        if let Some(broken) = self.broken_at
            && step > broken
        {
            return Err(format!("The recording is damaged at step {}.", broken + 1));
        }
        let from = (step / EVERY).min(self.kept.len() - 1);
        let mut state = self.kept[from].clone();
        for delta in &self.deltas[from * EVERY..step] {
            apply(&mut state, delta).map_err(|e| e.to_string())?;
        }
        Ok(state)
    }
}

#[component]
fn Scrubber(replay: Replay) -> impl IntoView {
    let id = replay.id;
    let total = replay.deltas.len();
    let timeline = StoredValue::new(Timeline::new(replay));
    let step = RwSignal::new(total);
    let state = Memo::new(move |_| timeline.with_value(|t| t.at(step.get())));
    let shown = Signal::derive(move || state.with(|s| s.as_ref().ok().cloned()));
    let phase = move || {
        state.with(|s| match s {
            Ok(s) => match s.phase {
                Phase::Finished { reason, .. } => {
                    format!("{} ({})", phase_name(&s.phase), finish_reason(reason))
                }
                ref phase => phase_name(phase).to_owned(),
            },
            Err(_) => "damaged".to_owned(),
        })
    };
    view! {
        <section class="battle-head">
            <p class="crumbs"><A href="/arena">"Arena"</A>" / "<A href=format!("/arena/{id}")>{format!("Battle {id}")}</A>" / replay"</p>
            <h1>{format!("Replay of battle {id}")}</h1>
        </section>
        <section class="card replay-controls">
            <label for="timeline" class="toolbar-label">"Timeline"</label>
            <input
                id="timeline"
                type="range"
                class="timeline"
                data-testid="timeline"
                min="0"
                max=total.to_string()
                step="1"
                prop:value=move || step.get().to_string()
                on:input=move |ev| step.set(event_target_value(&ev).parse().unwrap_or(0))
            />
            <div class="toolbar">
                <button class="button ghost small" on:click=move |_| step.set(0)>"Start"</button>
                <button class="button ghost small" on:click=move |_| step.update(|s| *s = s.saturating_sub(1))>"◀"</button>
                <button class="button ghost small" on:click=move |_| step.update(|s| *s = (*s + 1).min(total))>"▶"</button>
                <button class="button ghost small" on:click=move |_| step.set(total)>"End"</button>
                <span class="muted small" data-testid="replay-step">{move || format!("Step {} of {total}", step.get())}</span>
                <span class="phase-badge" data-testid="battle-phase">{phase}</span>
            </div>
            {move || state.with(|s| s.as_ref().err().cloned()).map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
        <Standings state=shown />
        <PlayerCodes state=shown />
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eduscale_core::battle::{Command, Mode, Settings};
    use eduscale_core::code::Language;

    #[test]
    fn every_step_of_the_timeline_is_the_state_after_that_many_deltas() {
        let settings = Settings::standard(Mode::Group, true);
        let mut state = BattleState::new(3, settings.clone());
        let mut states = vec![state.clone()];
        let mut deltas = Vec::new();
        for i in 0..150 {
            let cmd = if i % 2 == 0 {
                Command::Join {
                    user: format!("u{i}"),
                    name: format!("U{i}"),
                    language: Language::Python,
                    rating: 1000,
                }
            } else {
                Command::Leave {
                    user: format!("u{}", i - 1),
                    now_ms: 1,
                }
            };
            deltas.extend(state.advance(&cmd).expect("allowed"));
            states.push(state.clone());
        }
        let timeline = Timeline::new(Replay {
            id: 3,
            settings,
            deltas,
        });
        assert_eq!(timeline.broken_at, None);
        for (step, expected) in states.iter().enumerate() {
            assert_eq!(timeline.at(step).as_ref(), Ok(expected), "step {step}");
        }
    }
}
