//! The socket loop over channels: every path through it without a network.

use super::socket::{Ended, SocketLimits, serve};
use crate::arena::{Outbox, Outgoing};
use axum::extract::ws::{Message, Utf8Bytes};
use eduscale_core::protocol::{ClientMsg, Encoding, ErrorCode, Frame, ServerMsg, decode, encode};
use futures_channel::mpsc;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;

struct Client {
    to_server: mpsc::Sender<Result<Message, axum::Error>>,
    from_server: mpsc::Receiver<Message>,
    outbox: Outbox,
    ended: tokio::task::JoinHandle<Ended>,
}

fn start(limits: SocketLimits) -> Client {
    let (to_server, stream) = mpsc::channel(16);
    let (sink, from_server) = mpsc::channel(16);
    let outbox = Outbox::new(1, uuid::Uuid::nil(), limits.outbox);
    let ended = tokio::spawn(serve(
        sink.sink_map_err(|_| ()),
        stream,
        outbox.clone(),
        super::socket::Peer {
            user: uuid::Uuid::nil(),
            name: "u1".into(),
            encoding: Encoding::Json,
            arena: None,
            insights: None,
        },
        limits,
    ));
    Client {
        to_server,
        from_server,
        outbox,
        ended,
    }
}

impl Client {
    async fn send(&mut self, text: &str) {
        self.to_server
            .send(Ok(Message::Text(Utf8Bytes::from(text.to_owned()))))
            .await
            .expect("send");
    }

    async fn next(&mut self) -> ServerMsg {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.from_server.next())
                .await
                .expect("a message")
            {
                Some(Message::Text(t)) => {
                    return decode(&Frame::Text(t.to_string()), Encoding::Json)
                        .expect("server message");
                }
                Some(Message::Ping(_)) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn it_welcomes_answers_pings_and_relays_updates() {
    let mut c = start(SocketLimits::default());
    assert!(matches!(
        c.next().await,
        ServerMsg::Welcome { version: 1, .. }
    ));
    c.send(r#"{"ping":{"nonce":42}}"#).await;
    assert_eq!(c.next().await, ServerMsg::Pong { nonce: 42 });
    let msg = ServerMsg::Resync { reason: "x".into() };
    c.outbox.offer(&Outgoing::learner(msg.clone()));
    assert_eq!(c.next().await, msg);
}

#[tokio::test]
async fn malformed_frames_get_errors_then_a_close() {
    let mut c = start(SocketLimits {
        strikes: 3,
        ..SocketLimits::default()
    });
    c.next().await;
    c.send("not json").await;
    assert!(matches!(
        c.next().await,
        ServerMsg::Error {
            code: ErrorCode::Malformed,
            ..
        }
    ));
    c.send(r#"{"launch_missiles":{}}"#).await;
    assert!(matches!(
        c.next().await,
        ServerMsg::Error {
            code: ErrorCode::Malformed,
            ..
        }
    ));
    c.to_server
        .send(Ok(Message::Binary(vec![1, 2, 3].into())))
        .await
        .expect("send");
    match tokio::time::timeout(Duration::from_secs(5), c.from_server.next())
        .await
        .expect("close")
    {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, 1008),
        other => panic!("expected a close, got {other:?}"),
    }
    assert_eq!(c.ended.await.expect("task"), Ended::Misbehaved);
}

#[tokio::test]
async fn a_flood_is_rate_limited_without_dropping_the_socket() {
    let mut c = start(SocketLimits {
        burst: 3.0,
        rate_per_s: 0.001,
        strikes: 100,
        ..SocketLimits::default()
    });
    c.next().await;
    for nonce in 0..5 {
        c.send(&serde_json::to_string(&ClientMsg::Ping { nonce }).expect("json"))
            .await;
    }
    for nonce in 0..3 {
        assert_eq!(c.next().await, ServerMsg::Pong { nonce });
    }
    assert!(matches!(
        c.next().await,
        ServerMsg::Error {
            code: ErrorCode::RateLimited,
            ..
        }
    ));
    assert!(matches!(
        c.next().await,
        ServerMsg::Error {
            code: ErrorCode::RateLimited,
            ..
        }
    ));
}

#[tokio::test]
async fn a_slow_reader_is_told_to_resync() {
    let mut c = start(SocketLimits {
        outbox: 4,
        ..SocketLimits::default()
    });
    c.next().await;
    // The outbox holds 4: the fifth and sixth messages are dropped (the test
    // runs on one thread, so the socket drains nothing meanwhile).
    for i in 0..6 {
        c.outbox
            .offer(&Outgoing::learner(ServerMsg::Pong { nonce: i }));
    }
    for i in 0..4 {
        assert_eq!(c.next().await, ServerMsg::Pong { nonce: i });
    }
    assert!(matches!(c.next().await, ServerMsg::Resync { .. }));
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_closed_when_idle() {
    let mut c = start(SocketLimits {
        idle: Duration::from_secs(30),
        heartbeat: Duration::from_secs(100),
        ..SocketLimits::default()
    });
    c.next().await;
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(c.ended.await.expect("task"), Ended::Idle);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_socket_is_pinged_every_heartbeat_and_closed_when_its_session_ends() {
    let mut c = start(SocketLimits {
        heartbeat: Duration::from_secs(10),
        idle: Duration::from_secs(100),
        session: Duration::from_secs(35),
        ..SocketLimits::default()
    });
    let started = tokio::time::Instant::now();
    c.next().await;
    let mut pings = Vec::new();
    loop {
        match c.from_server.next().await {
            Some(Message::Ping(_)) => pings.push(started.elapsed().as_secs()),
            Some(Message::Close(_)) | None => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pings, [10, 20, 30]);
    assert_eq!(started.elapsed().as_secs(), 35);
    assert_eq!(c.ended.await.expect("task"), Ended::SessionOver);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_answers_is_not_idle() {
    let mut c = start(SocketLimits {
        heartbeat: Duration::from_secs(100),
        idle: Duration::from_secs(30),
        ..SocketLimits::default()
    });
    c.next().await;
    for _ in 0..4 {
        tokio::time::advance(Duration::from_secs(20)).await;
        c.send(&serde_json::to_string(&ClientMsg::Ping { nonce: 1 }).expect("json"))
            .await;
        c.next().await;
    }
    let started = tokio::time::Instant::now();
    assert_eq!(c.ended.await.expect("task"), Ended::Idle);
    assert_eq!(
        started.elapsed().as_secs(),
        30,
        "idle 30 s after the last frame"
    );
}

#[tokio::test]
async fn encodings_round_trip_the_wire_types() {
    let frame = encode(&ClientMsg::Ping { nonce: 1 }, Encoding::Binary);
    assert_eq!(
        decode::<ClientMsg>(&frame, Encoding::Binary).expect("binary"),
        ClientMsg::Ping { nonce: 1 }
    );
}
