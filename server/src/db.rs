//! The PostgreSQL pool and the migrations.
//!
//! Connecting is where a newcomer first meets a missing service, so every failure
//! here becomes one line naming the URL (password hidden) and how to start it,
//! never a backtrace. `connect` creates the database when the server answers but
//! the database does not exist yet, so a fresh machine needs no manual `createdb`.

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Why the database could not be used, in words for whoever runs the server.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL itself is malformed.
    #[error("DATABASE_URL {url} is not a PostgreSQL URL: {reason}")]
    BadUrl { url: String, reason: String },
    /// Nothing answered, or it refused us.
    #[error(
        "cannot reach PostgreSQL at {url} ({reason}). Start it (`./eduscale.sh services`, or `pg_ctlcluster 15 main start`) or set DATABASE_URL."
    )]
    Unreachable { url: String, reason: String },
    /// A migration failed to apply.
    #[error("migrating the database at {url} failed: {reason}")]
    Migration { url: String, reason: String },
}

/// Hides the password in a URL so it can be printed.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Opens a pool of `max_connections`, creating the database if the server has none of that name.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let shown = redact(url);
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| DbError::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?
        // JIT compiles a query whose estimated cost passes a threshold; the unlock
        // CTEs' estimates pass it (a recursive CTE is guessed large) and JIT then
        // spends ~40 ms compiling a query that runs in 3. Our queries are short OLTP
        // lookups, so JIT never pays here.
        // random_page_cost's default (4) models spinning disks: with the insights
        // views in memory it made the planner hash whole views where a cohort's
        // few hundred index lookups are 5-30 times faster (measured on 10,000
        // learners: a cohort's stuck learners 94 ms against 0.7 ms). 1.1 is the
        // usual setting for SSDs and cached data.
        .options([("jit", "off"), ("random_page_cost", "1.1")]);
    let unreachable = |e: sqlx::Error| DbError::Unreachable {
        url: shown.clone(),
        reason: short(&e),
    };
    let exists = tokio::time::timeout(Duration::from_secs(10), Postgres::database_exists(url))
        .await
        .map_err(|_| DbError::Unreachable {
            url: shown.clone(),
            reason: "timed out".into(),
        })?
        .map_err(unreachable)?;
    if !exists {
        tracing::info!(url = %shown, "creating the database");
        Postgres::create_database(url).await.map_err(unreachable)?;
    }
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(unreachable)
}

/// Applies every migration not yet applied.
pub async fn migrate(pool: &PgPool, url: &str) -> Result<(), DbError> {
    MIGRATOR.run(pool).await.map_err(|e| DbError::Migration {
        url: redact(url),
        reason: e.to_string(),
    })
}

/// The first line of an error: enough to act on, no driver internals.
fn short(e: &sqlx::Error) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().to_owned()
}
