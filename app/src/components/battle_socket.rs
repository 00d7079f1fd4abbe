//! A page's connection to one battle (or to the arena alone, for quick match):
//! one WebSocket speaking `eduscale_core::protocol`, and the battle's state as
//! the server holds it.
//!
//! In: the server's frames. The state starts from a snapshot and follows every
//! delta through the very `apply` the server runs, which checks the hash; a
//! re-delivered delta is ignored, a gap asks for the missing deltas (`Watch`
//! from the seq held), and an op that does not fit or a hash that differs drops
//! the state and asks for a snapshot. A reconnect or a `Resync` watches again
//! from the seq held. Nothing here ever reloads the page.
//!
//! Out: [`BattleSocket`], a handle of signals (the state, the connection, the
//! player's private answers: runs, verdicts, refusals, a quick match) and
//! [`BattleSocket::send`]. Sends go through a small bounded queue that one task
//! drains onto the socket, so they leave in the order they were made (edits
//! before the submit that judges them). Messages made while the socket is down
//! are dropped, not queued for later: the typing code re-diffs against the
//! server's copy instead (see `battle_typing`).
//!
//! On the server it does nothing: there is no socket during rendering, so the
//! state is `None` there and on the first client render alike.

use eduscale_core::battle::{ApplyError, BattleState, Delta, Op, Refusal, apply};
use eduscale_core::code::Judgement;
use eduscale_core::protocol::{ClientMsg, ErrorCode, PlayerAction, ServerMsg};
use leptos::prelude::*;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Messages waiting for the socket, at most (typing sends one per 50 ms).
const QUEUE_CAP: usize = 128;

/// Whether the battle connection is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Opening (or re-opening) the socket.
    Connecting,
    /// Connected and welcomed: moves go through.
    Live,
    /// Down; retrying after a pause.
    Offline,
}

impl Connection {
    /// The id pages put in `data-conn` (and tests read).
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Live => "live",
            Connection::Offline => "offline",
        }
    }
}

/// My last submission's verdict (only I hear it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictNote {
    /// Hidden tests passed.
    pub hidden_passed: u16,
    /// Hidden tests in all.
    pub hidden_total: u16,
    /// Received after the battle closed: it changed nothing.
    pub too_late: bool,
}

/// One page's battle connection. Cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct BattleSocket {
    /// The battle followed (`None`: the arena only, e.g. waiting for a match).
    pub battle: Option<u64>,
    /// The battle as the server holds it (`None` until the first snapshot).
    pub state: RwSignal<Option<BattleState>>,
    /// Whether the socket is up.
    pub connection: RwSignal<Connection>,
    /// Who the server knows this socket as (a user id, as in `Player::user`).
    pub me: RwSignal<Option<String>>,
    /// My last run of the visible tests.
    pub run: RwSignal<Option<Judgement>>,
    /// My last submission's verdict.
    pub verdict: RwSignal<Option<VerdictNote>>,
    /// The last refusal or error, in words for the player.
    pub notice: RwSignal<Option<String>>,
    /// Set when the battle cannot be watched at all (no such battle, or private).
    pub denied: RwSignal<Option<String>>,
    /// A quick match found this battle.
    pub matched: RwSignal<Option<u64>>,
    /// How many of my edit batches the server has answered (applied or refused).
    pub edit_acks: RwSignal<u64>,
    /// How many times a socket was welcomed (each reconnect adds one).
    pub welcomes: RwSignal<u64>,
    queue: StoredValue<Arc<Mutex<Queue>>>,
    /// The seq a `Watch` was last sent for after a gap (to ask only once).
    asked: StoredValue<Option<u64>>,
}

/// Connects while the calling component lives, following `battle` if given.
pub fn use_battle_socket(battle: Option<u64>) -> BattleSocket {
    let socket = BattleSocket::new(battle);
    #[cfg(feature = "hydrate")]
    client::connect(socket);
    socket
}

impl BattleSocket {
    fn new(battle: Option<u64>) -> BattleSocket {
        BattleSocket {
            battle,
            state: RwSignal::new(None),
            connection: RwSignal::new(Connection::Connecting),
            me: RwSignal::new(None),
            run: RwSignal::new(None),
            verdict: RwSignal::new(None),
            notice: RwSignal::new(None),
            denied: RwSignal::new(None),
            matched: RwSignal::new(None),
            edit_acks: RwSignal::new(0),
            welcomes: RwSignal::new(0),
            queue: StoredValue::new(Arc::new(Mutex::new(Queue::default()))),
            asked: StoredValue::new(None),
        }
    }

    /// Sends `msg` if the socket is up; `false` if it was dropped (offline or
    /// too many waiting).
    pub fn send(&self, msg: ClientMsg) -> bool {
        self.queue
            .try_with_value(|q| lock(q).push(msg))
            .unwrap_or(false)
    }

    /// Sends a move in this socket's battle.
    pub fn play(&self, action: PlayerAction) -> bool {
        match self.battle {
            Some(battle) => self.send(ClientMsg::Play { battle, action }),
            None => false,
        }
    }

    /// My index among the players, if I play (tracked).
    pub fn my_index(&self) -> Option<usize> {
        let me = self.me.get()?;
        self.state
            .with(|s| s.as_ref().and_then(|s| s.player_index(&me)))
    }

    /// My index among the players, if I play (not tracked).
    pub fn my_index_untracked(&self) -> Option<usize> {
        let me = self.me.get_untracked()?;
        self.state
            .with_untracked(|s| s.as_ref().and_then(|s| s.player_index(&me)))
    }

    fn held_seq(&self) -> Option<u64> {
        self.state.with_untracked(|s| s.as_ref().map(|s| s.seq))
    }

    fn watch(&self, have: Option<u64>) -> Option<ClientMsg> {
        self.battle.map(|battle| ClientMsg::Watch { battle, have })
    }

    /// Takes in one message from the server; returns what to send at once
    /// (a `Watch` to catch up), ahead of anything queued.
    pub fn on_message(&self, msg: ServerMsg) -> Option<ClientMsg> {
        match msg {
            ServerMsg::Welcome { user, .. } => {
                self.me.set(Some(user));
                self.connection.set(Connection::Live);
                self.welcomes.update(|n| *n += 1);
                self.asked.set_value(None);
                self.watch(self.held_seq())
            }
            ServerMsg::BattleSnapshot(state) if Some(state.id) == self.battle => {
                self.asked.set_value(None);
                self.denied.set(None);
                self.state.set(Some(*state));
                None
            }
            ServerMsg::BattleDelta(delta) if Some(delta.battle) == self.battle => {
                self.on_delta(&delta)
            }
            ServerMsg::BattleRefused { battle, refusal } if Some(battle) == self.battle => {
                if matches!(refusal, Refusal::BadEdit(_)) {
                    self.edit_acks.update(|n| *n += 1);
                }
                self.notice.set(Some(capitalised(&refusal.to_string())));
                None
            }
            ServerMsg::BattleRun { battle, judgement } if Some(battle) == self.battle => {
                self.run.set(Some(*judgement));
                None
            }
            ServerMsg::BattleVerdict {
                battle,
                hidden_passed,
                hidden_total,
                too_late,
            } if Some(battle) == self.battle => {
                self.verdict.set(Some(VerdictNote {
                    hidden_passed,
                    hidden_total,
                    too_late,
                }));
                None
            }
            ServerMsg::Matched { battle } => {
                self.matched.set(Some(battle));
                None
            }
            ServerMsg::Resync { .. } => {
                self.asked.set_value(None);
                self.watch(self.held_seq())
            }
            ServerMsg::Error { code, message } => {
                let message = capitalised(&message);
                if matches!(code, ErrorCode::UnknownBattle | ErrorCode::Forbidden)
                    && self.state.with_untracked(Option::is_none)
                {
                    self.denied.set(Some(message.clone()));
                }
                self.notice.set(Some(message));
                None
            }
            _ => None,
        }
    }

    fn on_delta(&self, delta: &Delta) -> Option<ClientMsg> {
        let mut outcome = None;
        self.state.update_untracked(|s| {
            if let Some(state) = s.as_mut() {
                outcome = Some(apply(state, delta));
            }
        });
        match outcome? {
            Ok(()) => {
                self.asked.set_value(None);
                self.state.notify();
                if self.is_my_edit(delta) {
                    self.edit_acks.update(|n| *n += 1);
                }
                None
            }
            Err(ApplyError::Duplicate { .. } | ApplyError::WrongBattle { .. }) => None,
            Err(ApplyError::Gap { have, .. }) => {
                // Ask once per seq held: the deltas after the gap keep coming
                // until the catch-up arrives.
                if self.asked.get_value() == Some(have) {
                    return None;
                }
                self.asked.set_value(Some(have));
                self.watch(Some(have))
            }
            Err(e) => {
                leptos::logging::warn!("battle: state replaced by a snapshot: {e}");
                self.asked.set_value(None);
                self.state.set(None);
                self.watch(None)
            }
        }
    }

    fn is_my_edit(&self, delta: &Delta) -> bool {
        let Some(index) = self.my_index_untracked() else {
            return false;
        };
        delta
            .ops
            .iter()
            .any(|op| matches!(op, Op::Edit { player, .. } if usize::from(*player) == index))
    }
}

/// "the battle is full" as "The battle is full".
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What waits for the socket. A std Mutex: never held across an await.
#[derive(Default)]
struct Queue {
    msgs: VecDeque<ClientMsg>,
    waker: Option<Waker>,
    live: bool,
    stopped: bool,
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // Nothing panics while holding it; if something did, the queue is still usable.
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Queue {
    fn push(&mut self, msg: ClientMsg) -> bool {
        if !self.live || self.stopped || self.msgs.len() >= QUEUE_CAP {
            return false;
        }
        self.msgs.push_back(msg);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
        true
    }

    /// The next message to send; `Ready(None)` once the page is gone.
    #[cfg_attr(
        not(feature = "hydrate"),
        expect(dead_code, reason = "drained in the browser only")
    )]
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<ClientMsg>> {
        if self.stopped {
            return Poll::Ready(None);
        }
        match self.msgs.pop_front() {
            Some(msg) => Poll::Ready(Some(msg)),
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(feature = "hydrate")]
pub(crate) mod client {
    use super::{BattleSocket, Connection, lock};
    use crate::components::live::client::socket_url;
    use eduscale_core::protocol::{
        self, BINARY_SUBPROTOCOL, ClientMsg, Encoding, Frame, ServerMsg,
    };
    use futures_util::future::{Either, poll_fn, select};
    use futures_util::{SinkExt, StreamExt};
    use gloo_net::websocket::Message;
    use gloo_net::websocket::futures::WebSocket;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::pin::pin;

    pub fn connect(socket: BattleSocket) {
        let queue = socket.queue.get_value();
        let stop = queue.clone();
        on_cleanup(move || {
            let mut q = lock(&stop);
            q.stopped = true;
            if let Some(waker) = q.waker.take() {
                waker.wake();
            }
        });
        spawn_local(async move {
            let mut pause_ms = 500;
            loop {
                if lock(&queue).stopped {
                    return;
                }
                if let Some(url) = socket_url()
                    && let Ok(ws) = WebSocket::open_with_protocol(&url, BINARY_SUBPROTOCOL)
                {
                    let (mut write, mut read) = ws.split();
                    loop {
                        let event = {
                            let incoming = read.next();
                            let outgoing = pin!(poll_fn(|cx| lock(&queue).poll_next(cx)));
                            match select(incoming, outgoing).await {
                                Either::Left((message, _)) => Either::Left(message),
                                Either::Right((msg, _)) => Either::Right(msg),
                            }
                        };
                        let reply = match event {
                            Either::Left(Some(Ok(message))) => {
                                let frame = match message {
                                    Message::Bytes(b) => Frame::Binary(b),
                                    Message::Text(t) => Frame::Text(t),
                                };
                                match protocol::decode::<ServerMsg>(&frame, Encoding::Binary) {
                                    Ok(msg) => {
                                        let welcome = matches!(msg, ServerMsg::Welcome { .. });
                                        let reply = socket.on_message(msg);
                                        if welcome {
                                            lock(&queue).live = true;
                                            pause_ms = 500;
                                        }
                                        reply
                                    }
                                    Err(e) => {
                                        leptos::logging::warn!("battle: unreadable message: {e}");
                                        None
                                    }
                                }
                            }
                            // Closed, or failed: reconnect below.
                            Either::Left(_) => break,
                            Either::Right(Some(msg)) => Some(msg),
                            // The page is gone: dropping the socket closes it.
                            Either::Right(None) => return,
                        };
                        if let Some(msg) = reply
                            && write.send(frame_of(&msg)).await.is_err()
                        {
                            break;
                        }
                    }
                }
                {
                    let mut q = lock(&queue);
                    q.live = false;
                    q.msgs.clear();
                    if q.stopped {
                        return;
                    }
                }
                socket.connection.try_set(Connection::Offline);
                gloo_timers::future::TimeoutFuture::new(pause_ms).await;
                pause_ms = (pause_ms * 2).min(15_000);
                socket.connection.try_set(Connection::Connecting);
            }
        });
    }

    /// A message as a binary WebSocket frame (the pulse sends with it too).
    pub(crate) fn frame_of(msg: &ClientMsg) -> Message {
        match protocol::encode(msg, Encoding::Binary) {
            Frame::Binary(bytes) => Message::Bytes(bytes),
            Frame::Text(text) => Message::Text(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eduscale_core::battle::{Command, Mode, Settings};
    use eduscale_core::code::Language;

    /// A server-side battle and the deltas of two players joining.
    fn server() -> (BattleState, Vec<Delta>) {
        let mut state = BattleState::new(7, Settings::standard(Mode::Duel, false));
        let mut deltas = Vec::new();
        for user in ["ana", "ben"] {
            let join = Command::Join {
                user: user.into(),
                name: user.into(),
                language: Language::Python,
                rating: 1000,
            };
            deltas.extend(state.advance(&join).expect("joins"));
        }
        (state, deltas)
    }

    /// Runs `test` under a reactive owner (signals need one).
    fn owned(test: impl FnOnce()) {
        Owner::new().with(test);
    }

    fn socket() -> BattleSocket {
        let socket = BattleSocket::new(Some(7));
        let fresh = BattleState::new(7, Settings::standard(Mode::Duel, false));
        socket.on_message(ServerMsg::BattleSnapshot(Box::new(fresh)));
        socket
    }

    #[test]
    fn deltas_in_order_give_the_servers_state_and_duplicates_change_nothing() {
        owned(|| {
            let (server, deltas) = server();
            let socket = socket();
            for delta in &deltas {
                assert_eq!(
                    socket.on_message(ServerMsg::BattleDelta(delta.clone())),
                    None
                );
            }
            assert_eq!(
                socket.on_message(ServerMsg::BattleDelta(deltas[0].clone())),
                None
            );
            assert_eq!(socket.state.get_untracked(), Some(server));
        });
    }

    #[test]
    fn a_gap_asks_for_the_missing_deltas_once() {
        owned(|| {
            let (_, deltas) = server();
            let socket = socket();
            let ask = Some(ClientMsg::Watch {
                battle: 7,
                have: Some(0),
            });
            assert_eq!(
                socket.on_message(ServerMsg::BattleDelta(deltas[1].clone())),
                ask
            );
            assert_eq!(
                socket.on_message(ServerMsg::BattleDelta(deltas[1].clone())),
                None
            );
            assert_eq!(
                socket.on_message(ServerMsg::Resync { reason: "r".into() }),
                ask
            );
        });
    }

    #[test]
    fn a_wrong_hash_drops_the_state_and_asks_for_a_snapshot() {
        owned(|| {
            let (_, mut deltas) = server();
            let socket = socket();
            deltas[0].state_hash.0 ^= 1;
            assert_eq!(
                socket.on_message(ServerMsg::BattleDelta(deltas[0].clone())),
                Some(ClientMsg::Watch {
                    battle: 7,
                    have: None
                })
            );
            assert_eq!(socket.state.get_untracked(), None);
        });
    }

    #[test]
    fn nothing_is_sent_while_the_socket_is_down() {
        owned(|| {
            let socket = socket();
            assert!(!socket.send(ClientMsg::Ping { nonce: 1 }));
        });
    }

    #[test]
    fn my_edits_coming_back_count_as_answered() {
        owned(|| {
            let (mut server, mut deltas) = server();
            let mut run = |cmd: Command| deltas.extend(server.advance(&cmd).expect("allowed"));
            for user in ["ana", "ben"] {
                run(Command::Ready {
                    user: user.into(),
                    ready: true,
                    now_ms: 1_000,
                });
            }
            run(Command::Reveal {
                problem: eduscale_core::battle::Problem {
                    challenge: "c".into(),
                    title: "C".into(),
                    visible: 1,
                    hidden: 1,
                },
                now_ms: 10_000,
            });
            for user in ["ben", "ana"] {
                run(Command::Edit {
                    user: user.into(),
                    edits: vec![eduscale_core::battle::TextEdit {
                        at: 0,
                        delete: 0,
                        insert: "x".into(),
                    }],
                });
            }
            let socket = socket();
            socket.on_message(ServerMsg::Welcome {
                version: 1,
                user: "ana".into(),
            });
            for delta in deltas {
                assert_eq!(socket.on_message(ServerMsg::BattleDelta(delta)), None);
            }
            assert_eq!(
                socket.edit_acks.get_untracked(),
                1,
                "ben's edit is not mine"
            );
            assert_eq!(socket.state.get_untracked(), Some(server));
        });
    }
}
