//! People and their sockets, as a test drives them: sign up and log in over
//! HTTP, then follow battles over WebSockets (JSON frames, as a bot would),
//! applying every delta with `core::battle::apply` exactly as the browser does.

use eduscale_core::battle::{BattleState, TextEdit, apply};
use eduscale_core::code::Language;
use eduscale_core::protocol::{ClientMsg, JSON_SUBPROTOCOL, PlayerAction, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

const PASSWORD: &str = "correct horse 42";

/// Someone signed in.
#[derive(Clone)]
pub struct Person {
    /// Their user id.
    pub id: Uuid,
    /// Their session cookie (`name=value`).
    pub cookie: String,
    http: reqwest::Client,
}

/// Creates an account and logs it in on `at`.
pub async fn person(db: &PgPool, at: SocketAddr, email: &str, name: &str) -> Person {
    use eduscale_core::account::{DisplayName, Email, NewPassword, Role};
    let user = eduscale_server::auth::accounts::create(
        db,
        &Email::parse(email).expect("email"),
        &DisplayName::parse(name).expect("name"),
        &NewPassword::parse(PASSWORD, None).expect("password"),
        Role::Learner,
    )
    .await
    .expect("account");
    let http = reqwest::Client::new();
    let reply = http
        .post(format!("http://{at}/api/log_in"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("log in");
    assert!(reply.status().is_success(), "log in: {}", reply.status());
    let cookie = reply
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .next()
        .expect("a session cookie");
    Person {
        id: user.id,
        cookie,
        http,
    }
}

impl Person {
    /// Calls server function `name` on `at`; the JSON answer.
    pub async fn call(
        &self,
        at: SocketAddr,
        name: &str,
        form: &[(&str, &str)],
    ) -> serde_json::Value {
        let reply = self
            .http
            .post(format!("http://{at}/api/{name}"))
            .header(reqwest::header::COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .expect("server function");
        let status = reply.status();
        let body = reply.text().await.expect("body");
        assert!(status.is_success(), "{name}: {status} {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// Creates a battle on `at`; its id.
    pub async fn create(&self, at: SocketAddr, mode: &str, public: bool) -> u64 {
        let public = public.to_string();
        let made = self
            .call(at, "create_battle", &[("mode", mode), ("public", &public)])
            .await;
        made["id"].as_u64().expect("battle id")
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(cookie: &str, at: SocketAddr) -> Socket {
    let mut request = format!("ws://{at}/ws")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("cookie", cookie.parse().expect("cookie"));
    headers.insert(
        "sec-websocket-protocol",
        JSON_SUBPROTOCOL.parse().expect("protocol"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("socket");
    socket
}

/// One socket of one person, following battles.
pub struct Seat {
    socket: Socket,
    /// Whose.
    pub person: Uuid,
    /// Where it is connected.
    pub at: SocketAddr,
    /// The battle as this socket holds it.
    pub state: Option<BattleState>,
    /// Every seq applied, in order (snapshots start a new run).
    pub applied: Vec<u64>,
    /// Snapshots received.
    pub snapshots: usize,
    /// Everything else the server said, in order.
    pub inbox: Vec<ServerMsg>,
    /// The close code, once the server closed the socket.
    pub closed: Option<u16>,
    cookie: String,
}

impl Seat {
    /// Opens a socket for `person` on `at`.
    pub async fn open(person: &Person, at: SocketAddr) -> Seat {
        let mut seat = Seat {
            socket: connect(&person.cookie, at).await,
            person: person.id,
            at,
            state: None,
            applied: Vec::new(),
            snapshots: 0,
            inbox: Vec::new(),
            closed: None,
            cookie: person.cookie.clone(),
        };
        let welcome = seat.next().await.expect("welcome");
        assert!(matches!(welcome, ServerMsg::Welcome { .. }), "{welcome:?}");
        seat
    }

    /// A new socket on `at` for the same person, keeping what this one holds
    /// (what a browser does after its connection dropped).
    pub async fn reconnect(&mut self, at: SocketAddr) {
        self.socket = connect(&self.cookie, at).await;
        self.at = at;
        let welcome = self.next().await.expect("welcome");
        assert!(matches!(welcome, ServerMsg::Welcome { .. }), "{welcome:?}");
    }

    /// Closes the socket.
    pub async fn close(&mut self) {
        let _ = self.socket.close(None).await;
    }

    /// Sends `msg`.
    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("json");
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// Sends a raw frame.
    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.expect("send");
    }

    /// Follows `battle` from what this seat holds.
    pub async fn watch(&mut self, battle: u64) {
        let have = self.state.as_ref().map(|s| s.seq);
        self.send(&ClientMsg::Watch { battle, have }).await;
    }

    /// Plays `action` in `battle`.
    pub async fn play(&mut self, battle: u64, action: PlayerAction) {
        self.send(&ClientMsg::Play { battle, action }).await;
    }

    /// Joins in Python.
    pub async fn join(&mut self, battle: u64) {
        self.play(
            battle,
            PlayerAction::Join {
                language: Language::Python,
            },
        )
        .await;
    }

    /// Replaces its code with `code` (its document is empty or `old_len` long).
    pub async fn type_code(&mut self, battle: u64, old_len: usize, code: &str) {
        let edits = vec![TextEdit {
            at: 0,
            delete: old_len as u32,
            insert: code.to_owned(),
        }];
        self.play(battle, PlayerAction::Edit { edits }).await;
    }

    /// The next message, after applying it if it is a battle's; `None` when
    /// the socket closed or nothing came within 20 s.
    pub async fn next(&mut self) -> Option<ServerMsg> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(20), self.socket.next())
                .await
                .ok()??;
            let text = match frame {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(frame)) => {
                    self.closed = Some(frame.map_or(1005, |f| u16::from(f.code)));
                    return None;
                }
                Err(_) => return None,
                Ok(_) => continue,
            };
            let msg: ServerMsg = serde_json::from_str(&text).expect("a server message");
            self.absorb(&msg);
            return Some(msg);
        }
    }

    fn absorb(&mut self, msg: &ServerMsg) {
        match msg {
            ServerMsg::BattleSnapshot(state) => {
                self.snapshots += 1;
                self.applied.push(state.seq);
                self.state = Some((**state).clone());
            }
            ServerMsg::BattleDelta(delta) => {
                let state = self.state.as_mut().expect("a delta before any snapshot");
                if let Err(e) = apply(state, delta) {
                    panic!("seat of {} on {}: {e}", self.person, self.at);
                }
                self.applied.push(delta.seq);
            }
            other => self.inbox.push(other.clone()),
        }
    }

    /// Reads until `done` holds; panics after `within`.
    pub async fn until(&mut self, within: Duration, done: impl Fn(&Seat) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < within,
                "seat of {} on {} waited {within:?}; it holds {:?}; inbox {:?}",
                self.person,
                self.at,
                self.state.as_ref().map(|s| (
                    s.seq,
                    s.phase,
                    s.players
                        .iter()
                        .map(|p| (
                            &p.name,
                            p.away_since_ms,
                            p.forfeited,
                            p.code.len(),
                            p.attempts
                        ))
                        .collect::<Vec<_>>()
                )),
                self.inbox.iter().rev().take(5).collect::<Vec<_>>()
            );
            if self.next().await.is_none() {
                assert!(done(self), "the socket closed first");
                return;
            }
        }
    }

    /// The battle's state as held here.
    pub fn battle(&self) -> &BattleState {
        self.state.as_ref().expect("a battle state")
    }

    /// Whether the seqs applied since the last snapshot follow one another.
    pub fn seqs_contiguous(&self) -> bool {
        self.applied.windows(2).all(|w| w[1] == w[0] + 1)
    }
}
