//! Sign-up, log-in, log-out, sessions and the log-in rate limit.

use crate::harness::{PASSWORD, TestApp};
use axum::http::{StatusCode, header};
use eduscale_server::auth::AuthSettings;
use sqlx::PgPool;
use std::time::Duration;

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn sign_up_creates_a_learner_and_signs_them_in_with_an_httponly_cookie(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let browser = app.client();
    let reply = browser.sign_up("Ada@Example.com", PASSWORD).await;
    assert_eq!(reply.json()["email"], "ada@example.com");
    assert_eq!(reply.json()["role"], "learner");
    let cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("eduscale_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(browser.who().await["display_name"], "Test Learner");
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'ada@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(
        hash.starts_with("$argon2id$"),
        "stored as an argon2id hash, never in clear"
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_second_account_for_the_same_email_is_refused(db: PgPool) {
    let app = TestApp::new(db).await;
    app.client().sign_up("grace@example.com", PASSWORD).await;
    let again = app
        .client()
        .call(
            "sign_up",
            &[
                ("email", "GRACE@example.com "),
                ("display_name", "Other"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already exists"), "{}", again.body);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_weak_password_is_refused_with_the_same_message_the_browser_shows(db: PgPool) {
    let app = TestApp::new(db).await;
    let reply = app
        .client()
        .call(
            "sign_up",
            &[
                ("email", "weak@example.com"),
                ("display_name", "Weak"),
                ("password", "password1"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let expected = eduscale_core::account::NewPassword::parse("password1", None).unwrap_err();
    assert_eq!(reply.json()["Invalid"][0]["field"], "password");
    assert_eq!(
        reply.json()["Invalid"][0]["message"],
        expected.message.as_str()
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn log_out_then_log_in_again(db: PgPool) {
    let app = TestApp::new(db).await;
    let browser = app.client();
    browser.sign_up("alan@example.com", PASSWORD).await;
    let out = browser.call("log_out", &[]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(browser.who().await.is_null(), "logged out");
    let back = browser
        .call(
            "log_in",
            &[("email", "alan@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(browser.who().await["email"], "alan@example.com");
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn wrong_password_and_unknown_email_get_one_generic_message(db: PgPool) {
    let app = TestApp::new(db).await;
    app.client().sign_up("linus@example.com", PASSWORD).await;
    let wrong = app
        .client()
        .call(
            "log_in",
            &[
                ("email", "linus@example.com"),
                ("password", "not the password 1"),
            ],
        )
        .await;
    let unknown = app
        .client()
        .call(
            "log_in",
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    let malformed = app
        .client()
        .call("log_in", &[("email", "nobody"), ("password", PASSWORD)])
        .await;
    for reply in [&wrong, &unknown, &malformed] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            reply.body, wrong.body,
            "the same message whatever was wrong"
        );
    }
    assert!(
        wrong.body.contains("E-mail or password is wrong."),
        "{}",
        wrong.body
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_session_expires_after_the_idle_time(db: PgPool) {
    let settings = AuthSettings {
        session_idle: Duration::from_secs(1),
        ..AuthSettings::default()
    };
    let app = TestApp::with_settings(db, settings).await;
    let browser = app.client();
    browser.sign_up("idle@example.com", PASSWORD).await;
    assert_eq!(browser.who().await["email"], "idle@example.com");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        browser.who().await.is_null(),
        "the session ended after 1 s idle"
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn repeated_failures_lock_the_account_even_for_the_right_password(db: PgPool) {
    let settings = AuthSettings {
        login_failures_per_account: 3,
        ..AuthSettings::default()
    };
    let app = TestApp::with_settings(db, settings).await;
    app.client().sign_up("target@example.com", PASSWORD).await;
    for _ in 0..3 {
        let r = app
            .client()
            .call(
                "log_in",
                &[
                    ("email", "target@example.com"),
                    ("password", "guess guess 1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .client()
        .call(
            "log_in",
            &[("email", "target@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(locked.body.contains("RateLimited"), "{}", locked.body);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn one_address_trying_many_accounts_is_slowed_down(db: PgPool) {
    let settings = AuthSettings {
        login_failures_per_address: 4,
        ..AuthSettings::default()
    };
    let app = TestApp::with_settings(db, settings).await;
    let attacker = app.client_from([10, 0, 0, 66]);
    for i in 0..4 {
        let email = format!("victim{i}@example.com");
        let r = attacker
            .call(
                "log_in",
                &[("email", &email), ("password", "guess guess 1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = attacker
        .call(
            "log_in",
            &[
                ("email", "victim9@example.com"),
                ("password", "guess guess 1"),
            ],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    // Someone else, elsewhere, is not affected.
    app.client()
        .sign_up("bystander@example.com", PASSWORD)
        .await;
    let other = app
        .client_from([10, 0, 0, 7])
        .call(
            "log_in",
            &[("email", "bystander@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn behind_a_proxy_the_address_limit_follows_the_client_not_the_proxy(db: PgPool) {
    let settings = AuthSettings {
        login_failures_per_address: 2,
        behind_proxy: true,
        ..AuthSettings::default()
    };
    let app = TestApp::with_settings(db, settings).await;
    app.client().sign_up("honest@example.com", PASSWORD).await;
    // The attacker forges a different first hop each time; the proxy's own entry still names them.
    for forged in ["1.1.1.1", "2.2.2.2"] {
        let attacker = app.client_via_proxy("203.0.113.66", Some(forged));
        let r = attacker
            .call(
                "log_in",
                &[
                    ("email", "victim@example.com"),
                    ("password", "guess guess 1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = app
        .client_via_proxy("203.0.113.66", Some("3.3.3.3"))
        .call(
            "log_in",
            &[
                ("email", "other@example.com"),
                ("password", "guess guess 1"),
            ],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    // Another learner behind the same proxy is not blocked.
    let honest = app
        .client_via_proxy("198.51.100.7", None)
        .call(
            "log_in",
            &[("email", "honest@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(honest.status, StatusCode::OK, "{}", honest.body);
    app.cleanup().await;
}
