//! The learner's live connection: one WebSocket per page that wants it,
//! carrying `eduscale_core::protocol` messages, decoded by the same crate the
//! server encodes with.
//!
//! In the browser it connects (binary subprotocol), hands every
//! [`PathUpdate`] to the caller, and reconnects with a growing pause when the
//! connection drops; a `Resync` asks the caller to fetch the state again. On
//! the server it does nothing: there is no socket during rendering.

use eduscale_core::protocol::PathUpdate;
use leptos::prelude::*;

/// What the socket tells a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// The learner's progress on a path changed.
    Path(PathUpdate),
    /// Messages were missed: fetch again.
    Resync,
}

/// Whether the live connection is up (for a small indicator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// Not connected (yet, or any more).
    Offline,
    /// Connected and welcomed.
    Live,
}

/// Connects while the calling component lives; `on_event` hears every event.
pub fn use_live(on_event: impl Fn(LiveEvent) + Clone + 'static) -> ReadSignal<LiveState> {
    let (state, set_state) = signal(LiveState::Offline);
    #[cfg(feature = "hydrate")]
    client::connect(on_event, set_state);
    #[cfg(not(feature = "hydrate"))]
    let _ = (on_event, set_state);
    state
}

#[cfg(feature = "hydrate")]
pub(crate) mod client {
    use super::{LiveEvent, LiveState};
    use eduscale_core::protocol::{self, BINARY_SUBPROTOCOL, Encoding, Frame, ServerMsg};
    use futures_util::StreamExt;
    use gloo_net::websocket::Message;
    use gloo_net::websocket::futures::WebSocket;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub fn connect(
        on_event: impl Fn(LiveEvent) + Clone + 'static,
        set_state: WriteSignal<LiveState>,
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
                    let (_write, mut read) = ws.split();
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
                                set_state.set(LiveState::Live);
                                pause_ms = 500;
                            }
                            Ok(ServerMsg::PathProgress(update)) => {
                                on_event(LiveEvent::Path(update))
                            }
                            Ok(ServerMsg::Resync { .. }) => on_event(LiveEvent::Resync),
                            Ok(_) => {}
                            Err(e) => leptos::logging::warn!("live: unreadable message: {e}"),
                        }
                    }
                }
                set_state.set(LiveState::Offline);
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                gloo_timers::future::TimeoutFuture::new(pause_ms).await;
                pause_ms = (pause_ms * 2).min(15_000);
                // Whatever happened while we were away: fetch again.
                on_event(LiveEvent::Resync);
            }
        });
    }

    /// The socket's URL on the page's own host (`wss` under HTTPS).
    pub(crate) fn socket_url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }
}
