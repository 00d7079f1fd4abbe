//! Insights through the real router: who may read which dashboard (server
//! functions, CSV export, the pulse socket), learners' actions becoming events,
//! and those events reaching the dashboard after a refresh and the pulse at once.

use crate::harness::{Client, TestApp};
use crate::paths::{signed_in, with_content};
use axum::http::StatusCode;
use eduscale_core::account::Role;
use eduscale_core::insights::report::PLATFORM;
use futures_util::{SinkExt, StreamExt};
use sqlx::PgPool;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A teacher with a cohort Ada joined; Bob, a learner elsewhere; another
/// instructor; an admin.
struct Class {
    app: TestApp,
    teacher: Client,
    ada: Client,
    bob: Client,
    stranger: Client,
    admin: Client,
    cohort: String,
    ada_id: String,
    bob_id: String,
}

async fn class(db: PgPool) -> Class {
    let app = with_content(db).await;
    let teacher = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;
    let bob = signed_in(&app, "bob@example.com", Role::Learner).await;
    let stranger = signed_in(&app, "stranger@example.com", Role::Instructor).await;
    let admin = signed_in(&app, "admin@example.com", Role::Admin).await;
    let cohort = teacher
        .call("create_cohort", &[("name", "Autumn")])
        .await
        .json();
    let code = cohort["invite_code"].as_str().unwrap().to_owned();
    assert_eq!(
        ada.call("join_cohort", &[("code", &code)]).await.status,
        StatusCode::OK
    );
    let ada_id = ada.who().await["id"].as_str().unwrap().to_owned();
    let bob_id = bob.who().await["id"].as_str().unwrap().to_owned();
    Class {
        app,
        teacher,
        ada,
        bob,
        stranger,
        admin,
        cohort: cohort["id"].as_str().unwrap().to_owned(),
        ada_id,
        bob_id,
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn only_the_cohorts_instructor_and_admins_read_its_insights(db: PgPool) {
    let c = class(db).await;
    let dashboard = |who: &Client, scope: &str| {
        let scope = scope.to_owned();
        let who = who.clone();
        async move { who.call("insight_dashboard", &[("scope", &scope)]).await }
    };

    // The cohort's instructor: the dashboard, and a learner of the cohort.
    let own = dashboard(&c.teacher, &c.cohort).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.json()["overview"]["scope"]["name"], "Autumn");
    assert_eq!(own.json()["overview"]["scope"]["learners"], 1);
    let ada = c
        .teacher
        .call(
            "insight_learner",
            &[("scope", &c.cohort), ("learner", &c.ada_id)],
        )
        .await;
    assert_eq!(ada.status, StatusCode::OK, "{}", ada.body);
    // ...but not a learner outside it, nor the platform.
    let bob = c
        .teacher
        .call(
            "insight_learner",
            &[("scope", &c.cohort), ("learner", &c.bob_id)],
        )
        .await;
    assert_eq!(bob.status, StatusCode::NOT_FOUND);
    assert_eq!(
        dashboard(&c.teacher, PLATFORM).await.status,
        StatusCode::FORBIDDEN
    );

    // Another instructor, a learner, nobody.
    assert_eq!(
        dashboard(&c.stranger, &c.cohort).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dashboard(&c.ada, &c.cohort).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.bob.call("insight_scopes", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let nobody = c.app.client();
    assert_eq!(
        dashboard(&nobody, &c.cohort).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Unknown and malformed cohorts.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        dashboard(&c.teacher, &unknown).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        dashboard(&c.teacher, "'; DROP TABLE events; --")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Admins: any cohort, the platform, and every cohort's health.
    assert_eq!(dashboard(&c.admin, &c.cohort).await.status, StatusCode::OK);
    let platform = dashboard(&c.admin, PLATFORM).await;
    assert_eq!(platform.status, StatusCode::OK, "{}", platform.body);
    assert_eq!(platform.json()["overview"]["scope"]["learners"], 2);
    let health = c.admin.call("insight_health", &[]).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()[0]["scope"]["name"], "Autumn");
    assert_eq!(
        c.teacher.call("insight_health", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // Scopes: the teacher's own cohort; the admin's cohorts and the platform.
    let scopes = c.teacher.call("insight_scopes", &[]).await.json();
    assert_eq!(scopes.as_array().unwrap().len(), 1);
    let scopes = c.admin.call("insight_scopes", &[]).await.json();
    assert_eq!(scopes.as_array().unwrap().last().unwrap()["id"], PLATFORM);
    c.app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn csv_exports_follow_the_same_rule(db: PgPool) {
    let c = class(db).await;
    let url = |table: &str| format!("/insights/{}/export/{table}.csv", c.cohort);

    let velocity = c.teacher.get(&url("velocity")).await;
    assert_eq!(velocity.status, StatusCode::OK);
    assert!(
        velocity.body.starts_with("week,nodes_passed,"),
        "{}",
        velocity.body
    );
    for table in ["engagement", "roadblocks", "at_risk", "wheel_spinning"] {
        let r = c.teacher.get(&url(table)).await;
        assert_eq!(r.status, StatusCode::OK, "{table}");
        assert!(
            r.body.lines().next().is_some_and(|h| h.contains(',')),
            "{table}: a header row"
        );
    }
    assert_eq!(
        c.teacher.get(&url("passwords")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.teacher.get(&url("health")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.stranger.get(&url("velocity")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.ada.get(&url("velocity")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.app.client().get(&url("velocity")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let health = c.admin.get(&url("health")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(health.body.contains("Autumn"));
    c.app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_learners_actions_reach_the_pulse_at_once_and_the_dashboard_after_a_refresh(db: PgPool) {
    let c = class(db).await;
    let cohort: uuid::Uuid = c.cohort.parse().unwrap();
    let before = c.app.state.insights.pulse.read(cohort).await.unwrap();

    // Ada opens the first lesson, reads it, runs a program, reports a page view.
    let node = c
        .ada
        .call(
            "node",
            &[("path", "python-foundations"), ("node", "welcome")],
        )
        .await;
    assert_eq!(node.status, StatusCode::OK, "{}", node.body);
    let done = c
        .ada
        .call(
            "complete_lesson",
            &[("path", "python-foundations"), ("node", "welcome")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let run = c
        .ada
        .call(
            "run_code",
            &[
                ("language", "javascript"),
                ("source", "console.log(1)"),
                ("stdin", ""),
            ],
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(
        c.ada.call("page_view", &[("page", "/paths")]).await.status,
        StatusCode::OK
    );

    // Each answer came after its event was stored.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM events WHERE user_id = $1::uuid ORDER BY id")
            .bind(&c.ada_id)
            .fetch_all(&c.app.state.db)
            .await
            .unwrap();
    for kind in ["log_in", "node_viewed", "node_passed", "run", "page_view"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }

    // The pulse counts them now.
    let after = c.app.state.insights.pulse.read(cohort).await.unwrap();
    assert_eq!(after.runs_1m, before.runs_1m + 1);
    assert_eq!(after.active_5m, 1);
    assert!(after.events_1m >= before.events_1m + 4);

    // The dashboard shows them once the views are refreshed.
    let round = eduscale_server::insights::refresher::round(
        &c.app.state.db,
        &c.app.state.redis,
        false,
        std::time::Duration::from_secs(300),
    )
    .await
    .unwrap();
    assert!(matches!(
        round,
        eduscale_server::insights::refresher::Round::Refreshed { .. }
    ));
    let dashboard = c
        .teacher
        .call("insight_dashboard", &[("scope", &c.cohort)])
        .await
        .json();
    assert_eq!(dashboard["overview"]["active_7d"], 1);
    assert_eq!(dashboard["overview"]["passes_7d"], 1);
    assert_eq!(dashboard["overview"]["dau"], 1);
    let this_week = dashboard["velocity"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(this_week["nodes_passed"], 1);
    assert!(dashboard["overview"]["refreshed_at"].is_string());
    let timeline = c
        .teacher
        .call(
            "insight_learner",
            &[("scope", &c.cohort), ("learner", &c.ada_id)],
        )
        .await
        .json();
    assert_eq!(timeline["timeline"][0]["kind"], "page_view");
    c.app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn page_views_are_checked_before_they_are_stored(db: PgPool) {
    let c = class(db).await;
    for bad in ["no-slash", &format!("/{}", "x".repeat(400))] {
        assert_eq!(
            c.ada.call("page_view", &[("page", bad)]).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        c.app
            .client()
            .call("page_view", &[("page", "/")])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'page_view'")
        .fetch_one(&c.app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // A flood is cut at the allowance; what was accepted is stored, nothing more.
    let limit = i64::from(eduscale_server::insights::PAGE_VIEWS_PER_MINUTE);
    let mut accepted = 0;
    let mut refused = None;
    // The allowance refills at 10 a second while the flood goes on: go past it.
    for i in 0..limit + 200 {
        let r = c
            .ada
            .call("page_view", &[("page", &format!("/flood/{i}"))])
            .await;
        match r.status {
            StatusCode::OK => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused = Some(r);
                break;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    let refused = refused.expect("the flood was cut");
    assert!(refused.body.contains("RateLimited"), "{}", refused.body);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'page_view'")
        .fetch_one(&c.app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, accepted);
    assert!(accepted >= limit - 5, "the allowance held: {accepted}");
    c.app.cleanup().await;
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(addr: std::net::SocketAddr, client: &Client) -> Socket {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "eduscale.v1.json".parse().unwrap(),
    );
    headers.insert("cookie", client.cookie().unwrap().parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next JSON message that is not `welcome`.
async fn next(socket: &mut Socket) -> serde_json::Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = m {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if v.get("welcome").is_none() {
                return v;
            }
        }
    }
}

async fn watch(socket: &mut Socket, scope: &str) -> serde_json::Value {
    let msg = serde_json::json!({ "watch_pulse": { "scope": scope } }).to_string();
    socket.send(Message::Text(msg.into())).await.unwrap();
    next(socket).await
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn only_the_cohorts_instructor_may_watch_its_pulse_and_it_beats_every_second(db: PgPool) {
    let c = class(db).await;
    let addr = c.app.serve().await;

    let mut teacher = socket(addr, &c.teacher).await;
    let first = watch(&mut teacher, &c.cohort).await;
    assert_eq!(first["pulse"]["scope"], c.cohort.as_str(), "{first}");
    // Ada acts; the next beats show it without asking again.
    assert_eq!(
        c.ada.call("page_view", &[("page", "/paths")]).await.status,
        StatusCode::OK
    );
    let mut seen = first["pulse"]["pulse"]["events_1m"].as_u64().unwrap();
    for _ in 0..3 {
        let beat = next(&mut teacher).await;
        seen = beat["pulse"]["pulse"]["events_1m"].as_u64().unwrap();
        if seen > first["pulse"]["pulse"]["events_1m"].as_u64().unwrap() {
            break;
        }
    }
    assert!(seen > first["pulse"]["pulse"]["events_1m"].as_u64().unwrap());

    for (who, scope, code) in [
        (&c.stranger, c.cohort.as_str(), "forbidden"),
        (&c.ada, c.cohort.as_str(), "forbidden"),
        (&c.teacher, PLATFORM, "forbidden"),
        (&c.teacher, "not-a-cohort", "unknown_scope"),
    ] {
        let mut s = socket(addr, who).await;
        let answer = watch(&mut s, scope).await;
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    let mut admin = socket(addr, &c.admin).await;
    assert!(watch(&mut admin, PLATFORM).await.get("pulse").is_some());
    c.app.cleanup().await;
}
