//! Learning paths over HTTP, with the shipped content and the real guests:
//! whose progress who may read, attempts on lessons and challenges, and the
//! refusals a learner sees (locked nodes, unknown ones, wrong kinds).

pub use crate::harness::signed_in;
use crate::harness::{Client, TestApp};
use axum::http::StatusCode;
use eduscale_core::account::Role;
use eduscale_server::paths::{content, import};
use sqlx::PgPool;
use std::path::PathBuf;

pub async fn with_content(db: PgPool) -> TestApp {
    let app = TestApp::new(db).await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content");
    let loaded = content::load(&root).unwrap_or_else(|e| panic!("{e}"));
    import::import(&app.state.db, &loaded).await.unwrap();
    app
}

async fn my_id(client: &Client) -> String {
    client.who().await["id"].as_str().unwrap().to_owned()
}

fn status_of(path: &serde_json::Value, key: &str) -> String {
    let nodes = path["graph"]["nodes"].as_array().unwrap();
    let i = nodes.iter().position(|n| n["key"] == key).unwrap();
    path["statuses"][i].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_new_learner_starts_at_the_first_lesson_and_unlocks_by_passing(db: PgPool) {
    let app = with_content(db).await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;

    let list = ada.call("paths", &[]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.json().as_array().unwrap().len(), 3);

    let path = ada
        .call("path", &[("slug", "python-foundations")])
        .await
        .json();
    assert_eq!(status_of(&path, "welcome"), "open");
    assert_eq!(status_of(&path, "hello"), "locked");
    assert_eq!(path["recommended"]["node"], 0, "start at the first lesson");

    // A locked challenge refuses a submission before running anything.
    let early = ada
        .call(
            "submit_node",
            &[
                ("path", "python-foundations"),
                ("node", "hello"),
                ("language", "python"),
                ("source", "print(1)"),
            ],
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert!(early.body.contains("locked"), "{}", early.body);

    // The locked node's page names what it needs, and no statement.
    let locked = ada
        .call("node", &[("path", "python-foundations"), ("node", "hello")])
        .await
        .json();
    assert_eq!(locked["status"], "locked");
    assert!(locked["challenge"].is_null());
    assert_eq!(locked["needs"][0]["key"], "welcome");

    let read = ada
        .call(
            "complete_lesson",
            &[("path", "python-foundations"), ("node", "welcome")],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json()["unlocked"][0][0], "hello");

    // The challenge page shows the statement and the visible examples only.
    let node = ada
        .call("node", &[("path", "python-foundations"), ("node", "hello")])
        .await
        .json();
    assert_eq!(node["status"], "in_progress", "opening it starts it");
    assert!(
        node["challenge"]["statement_html"]
            .as_str()
            .unwrap()
            .contains("<p>")
    );
    assert_eq!(node["challenge"]["examples"].as_array().unwrap().len(), 2);

    let wrong = ada
        .call(
            "submit_node",
            &[
                ("path", "python-foundations"),
                ("node", "hello"),
                ("language", "python"),
                ("source", "print('Hello, Ada!')"),
            ],
        )
        .await
        .json();
    assert_eq!(wrong["passed"], false);
    assert!(wrong["unlocked"].as_array().unwrap().is_empty());

    let solution = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("content/challenges/py-hello-name/solution.py"),
    )
    .unwrap();
    let right = ada
        .call(
            "submit_node",
            &[
                ("path", "python-foundations"),
                ("node", "hello"),
                ("language", "python"),
                ("source", &solution),
            ],
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    let right = right.json();
    assert_eq!(right["passed"], true, "{right}");
    assert_eq!(right["score"], 100);
    let unlocked: Vec<&str> = right["unlocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[0].as_str().unwrap())
        .collect();
    assert_eq!(
        unlocked,
        ["minutes", "average", "initials", "decisions-loops"]
    );

    let after = ada
        .call("path", &[("slug", "python-foundations")])
        .await
        .json();
    assert_eq!(status_of(&after, "hello"), "passed");
    assert_eq!(status_of(&after, "grades"), "locked");
    let done = ada.call("paths", &[]).await.json();
    assert_eq!(done[0]["done"], 2);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn bad_requests_get_clear_errors(db: PgPool) {
    let app = with_content(db).await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;
    let visitor = app.client();
    assert_eq!(
        visitor.call("paths", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        visitor.call("path", &[("slug", "algorithms")]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ada.call("path", &[("slug", "no-such-path")]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ada.call("node", &[("path", "algorithms"), ("node", "nope")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let lesson = ada
        .call(
            "submit_node",
            &[
                ("path", "python-foundations"),
                ("node", "welcome"),
                ("language", "python"),
                ("source", "1"),
            ],
        )
        .await;
    assert_eq!(lesson.status, StatusCode::BAD_REQUEST, "{}", lesson.body);
    let not_lesson = ada
        .call(
            "complete_lesson",
            &[("path", "python-foundations"), ("node", "hello")],
        )
        .await;
    assert_eq!(
        not_lesson.status,
        StatusCode::BAD_REQUEST,
        "{}",
        not_lesson.body
    );
    let bad_id = ada.call("paths", &[("learner", "not-a-uuid")]).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST, "{}", bad_id.body);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn only_the_learner_their_instructor_and_admins_see_their_progress(db: PgPool) {
    let app = with_content(db).await;
    let ada = signed_in(&app, "ada@example.com", Role::Learner).await;
    let bob = signed_in(&app, "bob@example.com", Role::Learner).await;
    let teacher = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let stranger = signed_in(&app, "stranger@example.com", Role::Instructor).await;
    let admin = signed_in(&app, "admin@example.com", Role::Admin).await;
    let ada_id = my_id(&ada).await;

    let cohort = teacher
        .call("create_cohort", &[("name", "Autumn")])
        .await
        .json();
    let code = cohort["invite_code"].as_str().unwrap();
    assert_eq!(
        ada.call("join_cohort", &[("code", code)]).await.status,
        StatusCode::OK
    );
    ada.call(
        "complete_lesson",
        &[("path", "python-foundations"), ("node", "welcome")],
    )
    .await;

    let as_ada = [("slug", "python-foundations"), ("learner", ada_id.as_str())];
    for (who, allowed) in [
        (&bob, false),
        (&stranger, false),
        (&teacher, true),
        (&admin, true),
        (&ada, true),
    ] {
        let reply = who.call("path", &as_ada).await;
        if allowed {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert_eq!(status_of(&reply.json(), "welcome"), "passed");
        } else {
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        }
        let list = who.call("paths", &[("learner", ada_id.as_str())]).await;
        assert_eq!(list.status.is_success(), allowed, "{}", list.body);
    }
    let theirs = teacher.call("path", &as_ada).await.json();
    assert_eq!(
        theirs["learner"], "Someone",
        "the page says whose progress it is"
    );

    // The instructor's picker lists their cohort's learners, and nobody else's.
    let learners = teacher.call("my_learners", &[]).await.json();
    assert_eq!(learners.as_array().unwrap().len(), 1);
    assert_eq!(learners[0]["id"], ada_id.as_str());
    assert!(
        bob.call("my_learners", &[])
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Attempts are always the caller's own: nothing in them names a learner.
    bob.call(
        "complete_lesson",
        &[("path", "python-foundations"), ("node", "welcome")],
    )
    .await;
    let ada_now = ada
        .call("path", &[("slug", "python-foundations")])
        .await
        .json();
    assert_eq!(status_of(&ada_now, "hello"), "open");
    app.cleanup().await;
}
