//! One WebSocket: the upgrade (who, from where, which encoding) and the loop
//! that serves it until it ends.
//!
//! The upgrade is refused unless the request carries a signed-in session and
//! comes from our own origin (a page elsewhere cannot borrow the learner's
//! cookie). The loop is one `select!` over an [`Event`]: a frame from the
//! client, a message for the learner, the heartbeat, the idle and session
//! deadlines, shutdown. Every send has a deadline, so a client that stops
//! reading is closed rather than holding anything up; one that reads too slowly
//! misses messages (`Lagged`) and is told to resync. It is written over
//! `Sink`/`Stream`, so tests drive it with channels as well as real sockets.

use crate::AppState;
use crate::arena::rooms::CatchUp;
use crate::arena::{Arena, Outbox, Outgoing, PlayError};
use crate::auth::{User, session};
use crate::insights::{Insights, access};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eduscale_core::protocol::{
    self, BINARY_SUBPROTOCOL, ClientMsg, Encoding, ErrorCode, Frame, JSON_SUBPROTOCOL, ServerMsg,
};
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep_until, timeout};
use tower_sessions::Session;
use uuid::Uuid;

/// The timeouts and limits of one socket.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// A ping is sent this often.
    pub heartbeat: Duration,
    /// Closed after this long without any frame from the client (pongs count).
    pub idle: Duration,
    /// Closed after this long whatever happens (the client reconnects).
    pub session: Duration,
    /// A send that takes longer closes the socket.
    pub send: Duration,
    /// Messages per second a client may send, on average...
    pub rate_per_s: f64,
    /// ...and in a burst.
    pub burst: f64,
    /// Refused frames before the socket is closed.
    pub strikes: u32,
    /// Battle messages the socket may fall behind by before it must resync.
    pub outbox: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(20),
            idle: Duration::from_secs(60),
            session: Duration::from_secs(12 * 3600),
            send: Duration::from_secs(5),
            // A player typing sends an edit batch every 50 ms.
            rate_per_s: 30.0,
            burst: 60.0,
            strikes: 5,
            outbox: 256,
        }
    }
}

/// `GET /ws`: checks who and where from, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin WebSocket refused").into_response();
    }
    let user = match session::current_user(&state, &session).await {
        Ok(user) => user,
        Err(_) => return (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
    };
    let ws = ws
        .protocols([BINARY_SUBPROTOCOL, JSON_SUBPROTOCOL])
        // Twice the protocol's limit: frames a little too large get a clear error
        // from the loop; far too large ones end the connection at the parser.
        .max_message_size(protocol::MAX_CLIENT_FRAME_BYTES * 2)
        .max_frame_size(protocol::MAX_CLIENT_FRAME_BYTES * 2)
        // tungstenite reserves 128 KiB per socket for reading by default, and
        // zero-fills it before each read: most frames here are tens of bytes,
        // and the buffer grows for a large one.
        .read_buffer_size(256);
    let encoding = Encoding::for_subprotocol(ws.selected_protocol().and_then(|v| v.to_str().ok()));
    let hub = state.realtime.clone();
    let peer = Peer {
        user: user.id,
        name: user.display_name.clone(),
        encoding,
        arena: Some(state.arena.clone()),
        insights: Some((state.insights.clone(), user)),
    };
    // The socket's task lives as long as the socket, so what it holds is held
    // 10,000 times over. It is a task of its own rather than the one axum
    // upgrades in: that one would keep axum's upgrade state (the config, the
    // protocol, this closure's captures) beside the socket's for its whole life.
    // The upgraded socket is split before the task's future is made, so that
    // no slot is kept for it.
    ws.on_upgrade(move |socket: WebSocket| {
        let user = peer.user;
        let limits = SocketLimits::default();
        let outbox = Outbox::new(
            CONNECTIONS.fetch_add(1, Ordering::Relaxed),
            user,
            limits.outbox,
        );
        hub.attach(&outbox);
        let (sink, stream) = socket.split();
        tokio::spawn(
            serve(sink, stream, outbox.clone(), peer, limits).map(move |ended| {
                tracing::debug!(%user, ?ended, "socket closed");
                hub.detach(&outbox);
            }),
        );
        std::future::ready(())
    })
}

/// Whether the `Origin` header names the host the request was sent to (browsers
/// always send it on WebSocket upgrades; its absence means a non-browser client,
/// which has no ambient cookie to abuse).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .map(|u| match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_owned(),
        });
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(&o))
}

/// Why a socket's loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The client closed it or went away.
    ByClient,
    /// No frame within the idle timeout.
    Idle,
    /// The session's time was up.
    SessionOver,
    /// Too many refused frames.
    Misbehaved,
    /// A send did not finish in time, or failed.
    SendFailed,
}

/// Who is on the other end of a socket, and what it can reach.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The signed-in user.
    pub user: Uuid,
    /// Their display name.
    pub name: String,
    /// How frames are encoded.
    pub encoding: Encoding,
    /// Battles (absent in tests of the loop alone).
    pub arena: Option<Arena>,
    /// The live pulse, and who asks for it (absent in tests of the loop alone).
    pub insights: Option<(Arc<Insights>, User)>,
}

/// The most battle messages one write carries.
const FLUSH_AT_MOST: usize = 32;

/// How often a watched pulse is sent.
const PULSE_EVERY: Duration = Duration::from_secs(1);

/// Numbers this instance's connections, for the arena's outboxes.
static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

enum Event {
    Frame(Option<Result<Message, axum::Error>>),
    /// A battle delta or a message for the learner.
    Queued(Arc<Outgoing>),
    Pulse,
    /// The heartbeat, the idle deadline or the session's end may be due.
    Timer,
}

/// A token bucket: `rate` per second, up to `burst` at once.
struct Bucket {
    tokens: f64,
    at: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Serves one socket until it ends; returns why. `outbox` is where its
/// battle deltas and the learner's messages arrive.
pub fn serve<S, R>(
    mut sink: S,
    mut stream: R,
    outbox: Outbox,
    peer: Peer,
    limits: SocketLimits,
) -> impl Future<Output = Ended>
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    // What the socket keeps for its whole life is boxed before its future is
    // made: the future is held for as long as the socket, 10,000 times over,
    // and an `async fn` keeps its arguments twice (as passed, and as moved into
    // its body), 660 bytes of each socket's 1.5 KB future.
    let held = Box::new((outbox, peer, limits));
    async move {
        let (outbox, peer, limits) = &*held;
        let ended = serve_loop(&mut sink, &mut stream, outbox, peer, limits).await;
        // Boxed, like every rare step below: an inline future is as large as
        // its largest step, so each idle socket would carry the size of a
        // database query.
        if let Some(arena) = &peer.arena {
            Box::pin(arena.unwatch(outbox.conn, peer.user, None)).await;
            if let Err(e) = Box::pin(arena.cancel_match(peer.user)).await {
                tracing::debug!(error = %e, "could not leave the quick-match queue");
            }
        }
        ended
    }
}

async fn serve_loop<S, R>(
    mut sink: S,
    mut stream: R,
    outbox: &Outbox,
    peer: &Peer,
    limits: &SocketLimits,
) -> Ended
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let encoding = peer.encoding;
    let started = Instant::now();
    // One timer, made once, for the next of the heartbeat, the idle deadline
    // and the session's end: each timer costs every one of 10,000 sockets, and
    // a timer made (or reset) per message was a lock on the timer wheel at tens
    // of thousands of messages a second. So a frame only notes when it came;
    // when the timer fires it sees what is due.
    let mut heard_at = started;
    let mut ping_at = started + limits.heartbeat;
    let session_over = started + limits.session;
    let timer = sleep_until(ping_at.min(started + limits.idle).min(session_over));
    tokio::pin!(timer);
    let mut client = Client {
        bucket: Bucket {
            tokens: limits.burst,
            at: started,
            rate: limits.rate_per_s,
            burst: limits.burst,
        },
        strikes: 0,
        pulse: None,
    };
    // In a block of its own, so that the loop below keeps no slot for it.
    let welcomed = {
        let welcome = ServerMsg::Welcome {
            version: protocol::VERSION,
            user: peer.user.to_string(),
        };
        Box::pin(send(&mut sink, &welcome, encoding, limits.send)).await
    };
    if !welcomed {
        return Ended::SendFailed;
    }
    // What waits here is held by every idle socket, so only the wait itself and
    // the delivery of battle messages (the hot path) are inline; every other
    // step is boxed and costs an allocation only when it runs.
    loop {
        let event = tokio::select! {
            frame = stream.next() => Event::Frame(frame),
            queued = outbox.next() => Event::Queued(queued),
            () = beat(&mut client.pulse), if client.pulse.is_some() => Event::Pulse,
            () = &mut timer => Event::Timer,
        };
        match event {
            Event::Frame(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => {
                return Ended::ByClient;
            }
            Event::Frame(Some(Ok(message))) => {
                heard_at = Instant::now();
                if matches!(message, Message::Ping(_) | Message::Pong(_)) {
                    continue;
                }
                let handled = Box::pin(on_frame(
                    &mut sink,
                    message,
                    peer,
                    outbox,
                    limits,
                    &mut client,
                ))
                .await;
                if let Err(ended) = handled {
                    return ended;
                }
            }
            Event::Queued(out) => {
                // What else is waiting goes in the same write: under load the
                // outbox fills, and one flush then carries many deltas. Boxed:
                // its deadline and sends are the largest step of the loop
                // (240 bytes that every idle socket would carry), and an
                // allocation per write is small beside the write itself.
                let sent = Box::pin(timeout(limits.send, async {
                    sink.feed(out.message(encoding)).await?;
                    for _ in 1..FLUSH_AT_MOST {
                        match outbox.pop() {
                            Some(next) => sink.feed(next.message(encoding)).await?,
                            None => break,
                        }
                    }
                    sink.flush().await
                }))
                .await;
                if !matches!(sent, Ok(Ok(()))) {
                    return Ended::SendFailed;
                }
                if outbox.take_lagged() {
                    let resync = ServerMsg::Resync {
                        reason: "messages missed; watch your battle again from your seq".into(),
                    };
                    if !Box::pin(send(&mut sink, &resync, encoding, limits.send)).await {
                        return Ended::SendFailed;
                    }
                }
            }
            Event::Pulse => {
                if !Box::pin(send_pulse(&mut sink, &client.pulse, peer, limits.send)).await {
                    return Ended::SendFailed;
                }
            }
            Event::Timer => {
                let now = Instant::now();
                if now >= session_over {
                    Box::pin(close(
                        &mut sink,
                        1001,
                        "session over; reconnect",
                        limits.send,
                    ))
                    .await;
                    return Ended::SessionOver;
                }
                let idle_at = heard_at + limits.idle;
                if now >= idle_at {
                    Box::pin(close(&mut sink, 1001, "idle", limits.send)).await;
                    return Ended::Idle;
                }
                if now >= ping_at {
                    let ping = Box::pin(timeout(
                        limits.send,
                        sink.send(Message::Ping(Default::default())),
                    ))
                    .await;
                    if !matches!(ping, Ok(Ok(()))) {
                        return Ended::SendFailed;
                    }
                    ping_at = now + limits.heartbeat;
                }
                timer.as_mut().reset(ping_at.min(idle_at).min(session_over));
            }
        }
    }
}

/// What the loop keeps about the client between frames.
struct Client {
    /// Its message rate.
    bucket: Bucket,
    /// Frames refused so far.
    strikes: u32,
    /// The pulse it watches, if any.
    pulse: Option<Box<Watched>>,
}

/// Answers one data frame from the client, or refuses it: an error message,
/// and the socket closed after too many. `Err` ends the socket.
async fn on_frame<S: Sink<Message> + Unpin>(
    sink: &mut S,
    message: Message,
    peer: &Peer,
    outbox: &Outbox,
    limits: &SocketLimits,
    client: &mut Client,
) -> Result<(), Ended> {
    let encoding = peer.encoding;
    let frame = match message {
        Message::Text(text) => Frame::Text(text.to_string()),
        Message::Binary(bytes) => Frame::Binary(bytes.to_vec()),
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return Ok(()),
    };
    let answered = if !client.bucket.take() {
        Err((
            ErrorCode::RateLimited,
            "slow down: too many messages".to_owned(),
        ))
    } else {
        match protocol::decode::<ClientMsg>(&frame, encoding) {
            Ok(ClientMsg::Ping { nonce }) => Ok(vec![ServerMsg::Pong { nonce }]),
            Ok(ClientMsg::WatchPulse { scope }) => match watch_pulse(peer, &scope).await {
                Ok((id, counters)) => {
                    let first = Instant::now() + PULSE_EVERY;
                    let msg = ServerMsg::Pulse {
                        scope: scope.clone(),
                        pulse: counters,
                    };
                    client.pulse = Some(Box::new(Watched {
                        scope,
                        id,
                        tick: tokio::time::interval_at(first, PULSE_EVERY),
                    }));
                    Ok(vec![msg])
                }
                Err(refused) => Err(refused),
            },
            Ok(ClientMsg::UnwatchPulse) => {
                client.pulse = None;
                Ok(Vec::new())
            }
            Ok(msg) => arena_msg(peer, msg, outbox).await,
            Err(e) => Err((e.code(), e.to_string())),
        }
    };
    match answered {
        Ok(replies) => {
            for reply in replies {
                if !send(sink, &reply, encoding, limits.send).await {
                    return Err(Ended::SendFailed);
                }
            }
        }
        Err((code, message)) => {
            client.strikes += 1;
            if client.strikes >= limits.strikes {
                close(sink, 1008, "too many refused messages", limits.send).await;
                return Err(Ended::Misbehaved);
            }
            if !send(
                sink,
                &ServerMsg::Error { code, message },
                encoding,
                limits.send,
            )
            .await
            {
                return Err(Ended::SendFailed);
            }
        }
    }
    Ok(())
}

/// Sends the watched pulse's reading. A failed read skips a beat (the next
/// second tries again); `false` if the send failed.
async fn send_pulse<S: Sink<Message> + Unpin>(
    sink: &mut S,
    pulse: &Option<Box<Watched>>,
    peer: &Peer,
    within: Duration,
) -> bool {
    let (Some(watched), Some((insights, _))) = (pulse, &peer.insights) else {
        return true;
    };
    match insights.pulse.read(watched.id).await {
        Ok(counters) => {
            let msg = ServerMsg::Pulse {
                scope: watched.scope.clone(),
                pulse: counters,
            };
            send(sink, &msg, peer.encoding, within).await
        }
        Err(_) => true,
    }
}

/// The pulse a socket watches, and its timer. Boxed, and made only while one is
/// watched: an idle socket's task then holds a pointer, not the pulse.
struct Watched {
    /// The scope's id as the client sent it.
    scope: String,
    /// ...and parsed.
    id: Uuid,
    tick: tokio::time::Interval,
}

/// The next beat of the watched pulse; never, when none is watched.
async fn beat(pulse: &mut Option<Box<Watched>>) {
    match pulse {
        Some(watched) => {
            watched.tick.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Checks that the socket's user may watch `scope`'s pulse; its first reading.
async fn watch_pulse(
    peer: &Peer,
    scope: &str,
) -> Result<(Uuid, eduscale_core::insights::report::Pulse), (ErrorCode, String)> {
    let Some((insights, viewer)) = &peer.insights else {
        return Err((
            ErrorCode::Unavailable,
            "the pulse is not available here".into(),
        ));
    };
    let id = match insights.may_read(viewer, scope).await {
        Ok(Ok(id)) => id,
        Ok(Err(access::Denied::Forbidden)) => {
            return Err((ErrorCode::Forbidden, access::Denied::Forbidden.to_string()));
        }
        Ok(Err(access::Denied::Unknown)) => {
            return Err((ErrorCode::UnknownScope, access::Denied::Unknown.to_string()));
        }
        Err(e) => {
            tracing::error!(error = %e, "checking access to a pulse failed");
            return Err((ErrorCode::Unavailable, "try again in a moment".into()));
        }
    };
    let counters = insights.pulse.read(id).await.map_err(|e| {
        tracing::warn!(error = %e, "reading a pulse failed");
        (
            ErrorCode::Unavailable,
            "the pulse is not available now".to_owned(),
        )
    })?;
    Ok((id, counters))
}

/// Carries out a battle or lobby message; returns what to answer at once, or
/// why it was refused.
async fn arena_msg(
    peer: &Peer,
    msg: ClientMsg,
    outbox: &Outbox,
) -> Result<Vec<ServerMsg>, (ErrorCode, String)> {
    let Some(arena) = &peer.arena else {
        return Err((
            ErrorCode::Unavailable,
            "battles are not available here".into(),
        ));
    };
    let refused = |e: PlayError| {
        let code = match e {
            PlayError::UnknownBattle => ErrorCode::UnknownBattle,
            PlayError::Forbidden => ErrorCode::Forbidden,
            PlayError::Unavailable => ErrorCode::Unavailable,
        };
        (code, e.to_string())
    };
    match msg {
        ClientMsg::Ping { nonce } => Ok(vec![ServerMsg::Pong { nonce }]),
        ClientMsg::Watch { battle, have } => {
            let catch_up = arena
                .watch(battle, have, outbox.clone())
                .await
                .map_err(refused)?;
            Ok(match catch_up {
                CatchUp::Nothing => Vec::new(),
                CatchUp::Deltas(deltas) => deltas
                    .iter()
                    .map(|d| ServerMsg::BattleDelta((**d).clone()))
                    .collect(),
                CatchUp::Snapshot(state) => vec![ServerMsg::BattleSnapshot(state)],
            })
        }
        ClientMsg::Unwatch { battle } => {
            arena.unwatch(outbox.conn, peer.user, Some(battle)).await;
            Ok(Vec::new())
        }
        ClientMsg::Play { battle, action } => {
            arena
                .play(battle, peer.user, &peer.name, action)
                .await
                .map_err(refused)?;
            Ok(Vec::new())
        }
        ClientMsg::QuickMatch { language } => {
            arena
                .quick_match(peer.user, &peer.name, language)
                .await
                .map_err(|e| (ErrorCode::Unavailable, e.to_string()))?;
            Ok(Vec::new())
        }
        // Handled by the loop, which owns the pulse's timer.
        ClientMsg::WatchPulse { .. } | ClientMsg::UnwatchPulse => Ok(Vec::new()),
        ClientMsg::CancelMatch => {
            arena
                .cancel_match(peer.user)
                .await
                .map_err(|e| (ErrorCode::Unavailable, e.to_string()))?;
            Ok(Vec::new())
        }
    }
}

async fn send<S: Sink<Message> + Unpin>(
    sink: &mut S,
    msg: &ServerMsg,
    encoding: Encoding,
    within: Duration,
) -> bool {
    let message = match protocol::encode(msg, encoding) {
        Frame::Text(text) => Message::Text(Utf8Bytes::from(text)),
        Frame::Binary(bytes) => Message::Binary(bytes.into()),
    };
    matches!(timeout(within, sink.send(message)).await, Ok(Ok(())))
}

async fn close<S: Sink<Message> + Unpin>(
    sink: &mut S,
    code: u16,
    reason: &'static str,
    within: Duration,
) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = timeout(within, sink.send(Message::Close(Some(frame)))).await;
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use crate::future_size;
    use futures_util::stream::{SplitSink, SplitStream};

    /// Every open socket is one such task; with its rare steps inline it was
    /// 7.2 KiB (`eduscale bench arena`'s memory per socket), and with a
    /// frame's handling inline 2.1 KiB in a release build. (This build's
    /// futures are larger: 1.5 KiB here.)
    #[test]
    fn an_idle_socket_costs_little_memory() {
        let size = future_size(serve::<SplitSink<WebSocket, Message>, SplitStream<WebSocket>>);
        assert!(size <= 2 << 10, "the socket's task is {size} bytes");
    }
}
