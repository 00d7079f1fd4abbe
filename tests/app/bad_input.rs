//! Bad input gets a 4xx with a message, never a 500 or a crash.

use crate::harness::{BODY_LIMIT, PASSWORD, TestApp};
use axum::http::{Method, StatusCode};
use sqlx::PgPool;

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn over_long_and_empty_fields_are_refused_with_field_messages(db: PgPool) {
    let app = TestApp::new(db).await;
    let browser = app.client();
    let long_email = format!("{}@example.com", "a".repeat(300));
    let long_name = "n".repeat(51);
    let long_password = "p4ss".repeat(40);
    let cases: [[(&str, &str); 3]; 4] = [
        [
            ("email", &long_email),
            ("display_name", "Ok"),
            ("password", PASSWORD),
        ],
        [
            ("email", "ok@example.com"),
            ("display_name", &long_name),
            ("password", PASSWORD),
        ],
        [
            ("email", "ok@example.com"),
            ("display_name", "Ok"),
            ("password", &long_password),
        ],
        [("email", ""), ("display_name", ""), ("password", "")],
    ];
    for fields in cases {
        let reply = browser.call("sign_up", &fields).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            reply.body
        );
        assert!(!reply.json()["Invalid"].as_array().unwrap().is_empty());
    }
    let everything_empty = browser
        .call(
            "sign_up",
            &[("email", ""), ("display_name", ""), ("password", "")],
        )
        .await;
    assert_eq!(
        everything_empty.json()["Invalid"].as_array().unwrap().len(),
        3,
        "every field is reported at once"
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, 0);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn invalid_utf8_and_missing_fields_are_400(db: PgPool) {
    let app = TestApp::new(db).await;
    let browser = app.client();
    let form = "application/x-www-form-urlencoded";
    let raw = browser
        .send_raw(
            Method::POST,
            "/api/sign_up",
            form,
            b"email=\xff\xfe%FF&display_name=x&password=y".to_vec(),
        )
        .await;
    assert_eq!(raw.status, StatusCode::BAD_REQUEST, "{}", raw.body);
    assert!(raw.body.contains("could not be read"), "{}", raw.body);
    let missing = browser.call("sign_up", &[("email", "a@example.com")]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    let garbage = browser
        .send_raw(
            Method::POST,
            "/api/log_in",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert!(
        garbage.status.is_client_error(),
        "{} {}",
        garbage.status,
        garbage.body
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_oversized_body_is_413_and_the_server_keeps_serving(db: PgPool) {
    let app = TestApp::new(db).await;
    let browser = app.client();
    let huge = format!(
        "email=a%40b.com&display_name=x&password={}",
        "x".repeat(BODY_LIMIT * 2)
    );
    let reply = browser
        .send_raw(
            Method::POST,
            "/api/sign_up",
            "application/x-www-form-urlencoded",
            huge.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    browser.sign_up("after@example.com", PASSWORD).await;
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_unknown_server_function_is_a_clean_4xx(db: PgPool) {
    let app = TestApp::new(db).await;
    let reply = app.client().call("drop_tables", &[]).await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    app.cleanup().await;
}
