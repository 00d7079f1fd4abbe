//! The learner's WebSocket over a real socket: who may open one, the JSON
//! subprotocol bots use, bad frames, and progress pushed after an attempt.

use crate::harness::Client;
use crate::paths::{signed_in, with_content};
use eduscale_core::account::Role;
use futures_util::{SinkExt, StreamExt};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(
    addr: SocketAddr,
    client: Option<&Client>,
    origin: Option<&str>,
) -> Result<Socket, tungstenite::Error> {
    let mut request = format!("ws://{addr}/ws").into_client_request()?;
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "eduscale.v1.json".parse().unwrap(),
    );
    if let Some(cookie) = client.and_then(Client::cookie) {
        headers.insert("cookie", cookie.parse().unwrap());
    }
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().unwrap());
    }
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

async fn next_json(socket: &mut Socket) -> serde_json::Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("readable");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn refused_with(result: Result<Socket, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("the upgrade should have been refused"),
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn only_a_signed_in_page_of_our_own_origin_may_open_a_socket(db: PgPool) {
    let app = with_content(db).await;
    let addr = app.serve().await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;
    assert_eq!(refused_with(open(addr, None, None).await), 401);
    assert_eq!(
        refused_with(open(addr, Some(&ada), Some("https://evil.example")).await),
        403
    );
    let own = format!("http://{addr}");
    let mut socket = open(addr, Some(&ada), Some(&own))
        .await
        .expect("same origin");
    let welcome = next_json(&mut socket).await;
    assert_eq!(welcome["welcome"]["version"], 1, "{welcome}");
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn bots_speak_json_and_bad_frames_get_errors(db: PgPool) {
    let app = with_content(db).await;
    let addr = app.serve().await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;
    let mut socket = open(addr, Some(&ada), None).await.expect("open");
    next_json(&mut socket).await;
    socket
        .send(Message::Text(r#"{"ping":{"nonce":5}}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut socket).await,
        serde_json::json!({"pong": {"nonce": 5}})
    );
    socket
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["error"]["code"], "malformed");
    socket
        .send(Message::Text("x".repeat(20_000).into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["error"]["code"], "too_large");
    socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut socket).await["error"]["code"],
        "wrong_encoding"
    );
    // Still served after all that.
    socket
        .send(Message::Text(r#"{"ping":{"nonce":6}}"#.into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["pong"]["nonce"], 6);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_attempt_pushes_the_new_statuses_to_every_tab_of_that_learner_only(db: PgPool) {
    let app = with_content(db).await;
    let addr = app.serve().await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;
    let bob = signed_in(&app, "bob@example.com", Role::Learner).await;
    let mut tab1 = open(addr, Some(&ada), None).await.expect("open");
    let mut tab2 = open(addr, Some(&ada), None).await.expect("open");
    let mut bobs = open(addr, Some(&bob), None).await.expect("open");
    for socket in [&mut tab1, &mut tab2, &mut bobs] {
        next_json(socket).await;
    }
    let read = ada
        .call(
            "complete_lesson",
            &[("path", "python-foundations"), ("node", "welcome")],
        )
        .await;
    assert!(read.status.is_success(), "{}", read.body);
    for tab in [&mut tab1, &mut tab2] {
        let pushed = next_json(tab).await;
        let update = &pushed["path_progress"];
        assert_eq!(update["path"], "python-foundations", "{pushed}");
        assert_eq!(
            update["unlocked"],
            serde_json::json!([1]),
            "hello is node 1"
        );
        assert_eq!(update["statuses"][0], "passed");
        assert_eq!(update["statuses"][1], "open");
    }
    // Bob hears nothing of Ada's progress.
    bobs.send(Message::Text(r#"{"ping":{"nonce":1}}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut bobs).await,
        serde_json::json!({"pong": {"nonce": 1}})
    );
    app.cleanup().await;
}
