//! Health, readiness, metrics, and the pages' status codes.

use crate::harness::TestApp;
use axum::http::StatusCode;
use sqlx::PgPool;

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn healthz_and_readyz_answer_when_postgres_and_redis_do(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = app.client();
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(
        ready.json(),
        serde_json::json!({
            "postgres": true,
            "redis": true,
            "instance": app.state.arena.instance().to_string(),
        })
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn metrics_count_requests_by_route_and_report_pool_sizes(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = app.client();
    client.get("/healthz").await;
    let text = client.get("/metrics").await;
    assert_eq!(text.status, StatusCode::OK);
    assert!(
        text.body
            .contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"),
        "{}",
        text.body
    );
    assert!(
        text.body.contains("http_request_duration_seconds_bucket"),
        "{}",
        text.body
    );
    assert!(text.body.contains("db_pool_connections"), "{}", text.body);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn pages_render_on_the_server_with_the_right_status(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = app.client();
    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Write real code"), "{}", home.body);
    assert!(
        home.body.contains("data-role=\"visitor\""),
        "the nav is rendered for a visitor"
    );
    let missing = client.get("/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("There is nothing here"));
    let profile = client.get("/profile").await;
    assert!(profile.body.contains("Please log in"), "{}", profile.body);
    client
        .sign_up("page@example.com", crate::harness::PASSWORD)
        .await;
    let home = client.get("/").await;
    assert!(
        home.body.contains("data-role=\"learner\""),
        "the nav follows the role"
    );
    assert!(home.body.contains("My cohorts"));
    app.cleanup().await;
}
