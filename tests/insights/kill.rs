//! Killing the server mid-ingestion loses no acknowledged event: learners post
//! page views to a real `eduscale serve` process as fast as it answers, the
//! process gets SIGKILL in the middle, and every view it acknowledged is in
//! PostgreSQL.

use crate::cluster::Deployment;
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn no_acknowledged_event_is_lost_when_the_server_is_killed(db: PgPool) {
    let deployment = Deployment {
        database_url: crate::support::database_url(&db),
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        prefix: format!("test:{}:", uuid::Uuid::new_v4()),
        lock_urls: Vec::new(),
        lease_ms: 5_000,
        countdown_ms: 1_000,
    };
    let mut server = deployment.instance().await;
    let at = server.addr;
    let mut people = Vec::new();
    for i in 0..8 {
        let email = format!("viewer{i}@kill.test");
        people.push(crate::client::person(&db, at, &email, &format!("Viewer {i}")).await);
    }

    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut clients = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let cookie = person.cookie.clone();
        let acked = acked.clone();
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0.. {
                let page = format!("/kill/{i}/{n}");
                let reply = http
                    .post(format!("http://{at}/api/page_view"))
                    .header(reqwest::header::COOKIE, &cookie)
                    .form(&[("page", page.as_str())])
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                match reply {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().unwrap().insert(page);
                    }
                    // Over the page-view allowance: refused, not lost; go on.
                    Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    // The server is gone: what it acknowledged is what counts.
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    server.kill();
    for c in clients {
        c.await.unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 200,
        "the load was real: {} views acknowledged",
        acked.len()
    );
    let stored: HashSet<String> = sqlx::query_scalar(
        "SELECT page FROM events WHERE kind = 'page_view' AND page LIKE '/kill/%'",
    )
    .fetch_all(&db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged views were lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}
