//! Who may call what: 401 for visitors, 403 for the wrong role; cohorts and invite codes.

use crate::harness::{TestApp, signed_in};
use axum::http::StatusCode;
use eduscale_core::account::Role;
use sqlx::PgPool;

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_visitor_gets_401_and_a_learner_gets_403_from_instructor_functions(db: PgPool) {
    let app = TestApp::new(db).await;
    let visitor = app.client();
    let learner = signed_in(&app, "learner@example.com", Role::Learner).await;
    let anonymous = visitor.call("create_cohort", &[("name", "Sneaky")]).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    let forbidden = learner.call("create_cohort", &[("name", "Sneaky")]).await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.body
    );
    assert_eq!(
        learner.call("list_users", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        visitor.call("my_cohorts", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM cohorts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was created");
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_instructor_creates_a_cohort_and_a_learner_joins_with_its_code(db: PgPool) {
    let app = TestApp::new(db).await;
    let teacher = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let learner = signed_in(&app, "pupil@example.com", Role::Learner).await;
    let created = teacher
        .call("create_cohort", &[("name", "Python, autumn")])
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let code = created.json()["invite_code"].as_str().unwrap().to_owned();
    // Typed sloppily: lower case, no dash.
    let joined = learner
        .call(
            "join_cohort",
            &[("code", &code.replace('-', "").to_lowercase())],
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    assert_eq!(joined.json()["name"], "Python, autumn");
    assert!(
        joined.json()["invite_code"].is_null(),
        "learners are not shown the code"
    );
    let mine = teacher.call("my_cohorts", &[]).await.json();
    assert_eq!(mine[0]["members"], 1);
    // An instructor cannot join, and the learner's cohorts list shows it.
    assert_eq!(
        teacher.call("join_cohort", &[("code", &code)]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        learner.call("my_cohorts", &[]).await.json()[0]["name"],
        "Python, autumn"
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn wrong_malformed_and_expired_invite_codes_are_refused_clearly(db: PgPool) {
    let app = TestApp::new(db).await;
    let teacher = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let learner = signed_in(&app, "pupil@example.com", Role::Learner).await;
    let code = teacher
        .call("create_cohort", &[("name", "Rust")])
        .await
        .json()["invite_code"]
        .as_str()
        .unwrap()
        .to_owned();

    let unknown = learner.call("join_cohort", &[("code", "ZZZZ-ZZZZ")]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.body.contains("No cohort has that invite code"),
        "{}",
        unknown.body
    );

    let malformed = learner.call("join_cohort", &[("code", "hello")]).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("ABCD-EFGH"), "{}", malformed.body);

    sqlx::query("UPDATE cohorts SET invite_expires_at = now() - interval '1 minute'")
        .execute(&app.state.db)
        .await
        .unwrap();
    let expired = learner.call("join_cohort", &[("code", &code)]).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("expired"), "{}", expired.body);

    // A renewed code works again; only the cohort's instructor may renew it.
    let cohort_id = teacher.call("my_cohorts", &[]).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = signed_in(&app, "other@example.com", Role::Instructor).await;
    assert_eq!(
        other
            .call("renew_invite", &[("cohort_id", &cohort_id)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let renewed = teacher
        .call("renew_invite", &[("cohort_id", &cohort_id)])
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let fresh = renewed.json()["invite_code"].as_str().unwrap().to_owned();
    assert_ne!(fresh, code);
    assert_eq!(
        learner
            .call("join_cohort", &[("code", &fresh)])
            .await
            .status,
        StatusCode::OK
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn only_admins_list_every_account(db: PgPool) {
    let app = TestApp::new(db).await;
    let admin = signed_in(&app, "root@example.com", Role::Admin).await;
    let teacher = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    assert_eq!(
        teacher.call("list_users", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let users = admin.call("list_users", &[]).await;
    assert_eq!(users.status, StatusCode::OK);
    assert_eq!(users.json().as_array().unwrap().len(), 2);
    app.cleanup().await;
}
