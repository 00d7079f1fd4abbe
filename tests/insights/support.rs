//! What several insights tests share: the URL of a test's database, Redis
//! under a fresh prefix.

use eduscale_server::redis::{KeyPrefix, Redis};
use sqlx::PgPool;

/// The URL of the database `db` is connected to (sqlx::test made it).
pub fn database_url(db: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for sqlx::test");
    let name = db
        .connect_options()
        .get_database()
        .expect("a name")
        .to_owned();
    format!("{}/{name}", base.rsplit_once('/').expect("a path").0)
}

/// The machine's Redis under a fresh prefix.
pub async fn redis() -> Redis {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    Redis::connect(
        &url,
        1,
        KeyPrefix::new(&format!("test:{}:", uuid::Uuid::new_v4())),
    )
    .await
    .expect("Redis for tests")
}
