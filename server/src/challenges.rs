//! Challenges and their test cases: what a submission is judged against.
//!
//! In: a slug or id from a request, or a whole challenge from content import. Out:
//! the challenge with its checker and limits, and its cases, hidden ones included.
//! So everything here stays on the server: a page gets a
//! [`Judgement`](eduscale_core::code::Judgement) built from these, never a
//! [`TestCase`].

use eduscale_core::code::{Checker, Limits, TestCase};
use sqlx::types::Json;
use sqlx::{Acquire, PgExecutor, Postgres};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// A challenge, without its test cases.
#[derive(Clone, Debug, PartialEq)]
pub struct Challenge {
    /// Stable id.
    pub id: Uuid,
    /// The stable name content and URLs use (`sum-two-numbers`).
    pub slug: String,
    /// Its title.
    pub title: String,
    /// What to do, in Markdown.
    pub statement: String,
    /// How output is compared.
    pub checker: Checker,
    /// What one test case's run may use.
    pub limits: Limits,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A challenge to store, with its test cases in order.
#[derive(Clone, Debug, PartialEq)]
pub struct NewChallenge {
    /// Lower-case words joined by dashes (the database checks the shape).
    pub slug: String,
    /// Its title.
    pub title: String,
    /// What to do, in Markdown.
    pub statement: String,
    /// How output is compared.
    pub checker: Checker,
    /// What one test case's run may use.
    pub limits: Limits,
    /// Its cases, in the order they are judged.
    pub tests: Vec<TestCase>,
}

struct Row {
    id: Uuid,
    slug: String,
    title: String,
    statement: String,
    checker: Json<Checker>,
    time_limit_ms: i32,
    fuel_limit: i64,
    memory_limit_bytes: i64,
    output_limit_bytes: i32,
    created_at: OffsetDateTime,
}

impl From<Row> for Challenge {
    fn from(r: Row) -> Self {
        // The columns' CHECK keeps them positive, so the conversions cannot fail.
        let positive = |n: i64| u64::try_from(n).unwrap_or(1);
        Challenge {
            id: r.id,
            slug: r.slug,
            title: r.title,
            statement: r.statement,
            checker: r.checker.0,
            limits: Limits {
                wall: Duration::from_millis(positive(r.time_limit_ms.into())),
                fuel: positive(r.fuel_limit),
                memory_bytes: positive(r.memory_limit_bytes),
                output_bytes: usize::try_from(r.output_limit_bytes).unwrap_or(1),
            },
            created_at: r.created_at,
        }
    }
}

/// The challenge whose id or slug is `key`, if any.
pub async fn find(db: impl PgExecutor<'_>, key: &str) -> Result<Option<Challenge>, sqlx::Error> {
    let key = key.trim();
    let id = Uuid::parse_str(key).ok();
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, slug, title, statement, checker AS "checker: Json<Checker>",
                  time_limit_ms, fuel_limit, memory_limit_bytes, output_limit_bytes, created_at
           FROM challenges
           WHERE id = $1 OR slug = $2"#,
        id,
        key.to_lowercase(),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Challenge::from))
}

/// A challenge's test cases, in order (hidden ones included: server only).
pub async fn tests(db: impl PgExecutor<'_>, challenge: Uuid) -> Result<Vec<TestCase>, sqlx::Error> {
    sqlx::query_as!(
        TestCase,
        r#"SELECT stdin, expected, visible
           FROM challenge_tests
           WHERE challenge_id = $1
           ORDER BY position"#,
        challenge,
    )
    .fetch_all(db)
    .await
}

/// Stores `new` and its test cases, all or nothing; returns its id. Pass a pool,
/// a connection or a transaction (the writes then join it, as a savepoint).
pub async fn create<'c>(
    db: impl Acquire<'c, Database = Postgres>,
    new: &NewChallenge,
) -> Result<Uuid, sqlx::Error> {
    let mut tx = db.begin().await?;
    let saturate = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let id = sqlx::query_scalar!(
        r#"INSERT INTO challenges
               (slug, title, statement, checker,
                time_limit_ms, fuel_limit, memory_limit_bytes, output_limit_bytes)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id"#,
        new.slug,
        new.title,
        new.statement,
        Json(&new.checker) as _,
        i32::try_from(new.limits.wall.as_millis()).unwrap_or(i32::MAX),
        saturate(new.limits.fuel),
        saturate(new.limits.memory_bytes),
        i32::try_from(new.limits.output_bytes).unwrap_or(i32::MAX),
    )
    .fetch_one(&mut *tx)
    .await?;
    replace_tests(&mut tx, id, &new.tests).await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces challenge `id`'s test cases with `tests`, in order (inside the
/// caller's transaction, so a challenge is never seen with half its cases).
pub async fn replace_tests(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    tests: &[TestCase],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM challenge_tests WHERE challenge_id = $1", id)
        .execute(&mut *tx)
        .await?;
    let positions: Vec<i32> = (0..).take(tests.len()).collect();
    let stdins: Vec<&str> = tests.iter().map(|t| t.stdin.as_str()).collect();
    let expected: Vec<&str> = tests.iter().map(|t| t.expected.as_str()).collect();
    let visible: Vec<bool> = tests.iter().map(|t| t.visible).collect();
    sqlx::query!(
        r#"INSERT INTO challenge_tests (challenge_id, position, stdin, expected, visible)
           SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::bool[])"#,
        id,
        &positions,
        &stdins as &[&str],
        &expected as &[&str],
        &visible,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
