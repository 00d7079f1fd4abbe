//! The live pulse of a scope, for its instructor: learners active in the last
//! five minutes, runs and events in the last minute, battles in progress.
//!
//! In the browser it opens the app's WebSocket (the same URL and binary
//! encoding as the learner's live connection), asks for the scope's pulse once
//! welcomed (`ClientMsg::WatchPulse`), and shows each `ServerMsg::Pulse` the
//! server sends every second. A dropped connection is reopened after a growing
//! pause and the pulse asked for again; leaving the page closes the socket. On
//! the server, and until the first reading, the numbers are dashes, so the
//! first paint and the hydrated page agree.

use crate::components::live::LiveState;
use eduscale_core::insights::report::Pulse;
use leptos::prelude::*;

/// The pulse of `scope` (a cohort's id, or the platform's), updated every second.
#[component]
pub fn LivePulse(
    /// The scope to watch.
    scope: String,
) -> impl IntoView {
    let pulse = RwSignal::new(None::<Pulse>);
    let state = RwSignal::new(LiveState::Offline);
    let refused = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    client::connect(scope, pulse, state, refused);
    #[cfg(not(feature = "hydrate"))]
    let _ = scope;
    let live = move || state.get() == LiveState::Live;
    let number = move |read: fn(&Pulse) -> u64| {
        move || {
            pulse
                .get()
                .map_or_else(|| "—".to_owned(), |p| read(&p).to_string())
        }
    };
    view! {
        <section class="card pulse" data-testid="pulse" aria-labelledby="pulse-heading">
            <div class="section-head">
                <h2 id="pulse-heading">"Live pulse"</h2>
                <p class="live-state small" data-live=move || if live() { "live" } else { "offline" }>
                    {move || if live() { "● live, every second" } else { "○ connecting…" }}
                </p>
            </div>
            <dl class="stat-grid" aria-live="off">
                <div class="stat">
                    <dt>"Active learners"</dt>
                    <dd data-testid="pulse-active">{number(|p| p.active_5m)}</dd>
                    <dd class="stat-note">"last 5 minutes"</dd>
                </div>
                <div class="stat">
                    <dt>"Runs"</dt>
                    <dd data-testid="pulse-runs">{number(|p| p.runs_1m)}</dd>
                    <dd class="stat-note">"last minute"</dd>
                </div>
                <div class="stat">
                    <dt>"Events"</dt>
                    <dd data-testid="pulse-events">{number(|p| p.events_1m)}</dd>
                    <dd class="stat-note">"last minute"</dd>
                </div>
                <div class="stat">
                    <dt>"Battles live"</dt>
                    <dd data-testid="pulse-battles">{number(|p| p.battles_live)}</dd>
                    <dd class="stat-note">"now"</dd>
                </div>
            </dl>
            {move || refused.get().map(|why| view! { <p class="form-error" role="alert">{format!("The pulse is unavailable: {why}")}</p> })}
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use crate::components::battle_socket::client::frame_of;
    use crate::components::live::LiveState;
    use crate::components::live::client::socket_url;
    use eduscale_core::insights::report::Pulse;
    use eduscale_core::protocol::{
        self, BINARY_SUBPROTOCOL, ClientMsg, Encoding, ErrorCode, Frame, ServerMsg,
    };
    use futures_util::{SinkExt, StreamExt};
    use gloo_net::websocket::Message;
    use gloo_net::websocket::futures::WebSocket;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub fn connect(
        scope: String,
        pulse: RwSignal<Option<Pulse>>,
        state: RwSignal<LiveState>,
        refused: RwSignal<Option<String>>,
    ) {
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = stopped.clone();
        on_cleanup(move || stop.store(true, Ordering::Relaxed));
        spawn_local(async move {
            let mut pause_ms = 500;
            while !stopped.load(Ordering::Relaxed) {
                if let Some(url) = socket_url()
                    && let Ok(ws) = WebSocket::open_with_protocol(&url, BINARY_SUBPROTOCOL)
                {
                    let (mut write, mut read) = ws.split();
                    // The page is gone: the next message (within a second)
                    // ends the loop, and dropping the socket closes it.
                    while let Some(Ok(message)) = read.next().await {
                        if stopped.load(Ordering::Relaxed) {
                            return;
                        }
                        let frame = match message {
                            Message::Bytes(b) => Frame::Binary(b),
                            Message::Text(t) => Frame::Text(t),
                        };
                        match protocol::decode::<ServerMsg>(&frame, Encoding::Binary) {
                            Ok(ServerMsg::Welcome { .. }) => {
                                pause_ms = 500;
                                let watch = ClientMsg::WatchPulse {
                                    scope: scope.clone(),
                                };
                                if write.send(frame_of(&watch)).await.is_err() {
                                    break;
                                }
                            }
                            Ok(ServerMsg::Pulse {
                                scope: of,
                                pulse: p,
                            }) if of == scope => {
                                pulse.try_set(Some(p));
                                state.try_set(LiveState::Live);
                                refused.try_set(None);
                            }
                            Ok(ServerMsg::Error {
                                code:
                                    ErrorCode::Forbidden
                                    | ErrorCode::UnknownScope
                                    | ErrorCode::Unavailable,
                                message,
                            }) => {
                                refused.try_set(Some(message));
                            }
                            Ok(_) => {}
                            Err(e) => leptos::logging::warn!("pulse: unreadable message: {e}"),
                        }
                    }
                }
                state.try_set(LiveState::Offline);
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                gloo_timers::future::TimeoutFuture::new(pause_ms).await;
                pause_ms = (pause_ms * 2).min(15_000);
            }
        });
    }
}
