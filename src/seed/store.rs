//! Writing the seeded world: removing a previous seed's accounts and events, then
//! `COPY … FROM STDIN (FORMAT binary)` into every table.
//!
//! Binary COPY because millions of events must load in a minute or two: no
//! escaping, no timestamp text for PostgreSQL to parse, and rows go out in
//! chunks of a few MiB. Everything runs on the caller's connection, so the caller's
//! transaction makes a re-seed all or nothing.

use super::people::EMAIL_DOMAIN;
use indicatif::ProgressBar;
use sqlx::PgConnection;
use uuid::Uuid;

/// How much encoded data to gather before sending it.
const CHUNK: usize = 4 << 20;
/// The binary COPY header: signature, flags, header-extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Rows encoded in PostgreSQL's binary COPY format.
#[derive(Debug)]
pub struct CopyBuf {
    buf: Vec<u8>,
}

impl CopyBuf {
    fn new() -> Self {
        let mut buf = Vec::with_capacity(CHUNK + 64 * 1024);
        buf.extend_from_slice(HEADER);
        Self { buf }
    }

    /// Starts a row of `columns` fields.
    pub fn row(&mut self, columns: i16) -> &mut Self {
        self.buf.extend_from_slice(&columns.to_be_bytes());
        self
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    /// A `uuid`.
    pub fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.field(id.as_bytes())
    }

    /// A `text`.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.field(s.as_bytes())
    }

    /// A `bigint`.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    /// An `integer`.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    /// A `smallint`.
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    /// A `double precision`.
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.field(&v.to_bits().to_be_bytes())
    }

    /// A `boolean`.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.field(&[u8::from(v)])
    }

    /// A `timestamptz`, in microseconds since 2000-01-01 UTC (the wire format's own epoch).
    pub fn ts(&mut self, micros: i64) -> &mut Self {
        self.i64(micros)
    }

    /// A NULL.
    pub fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }
}

/// Streams `items` into `statement` (a `COPY … FROM STDIN (FORMAT binary)`),
/// encoding each with `encode`, ticking `bar` once per item; returns the rows copied.
pub async fn copy<T>(
    conn: &mut PgConnection,
    statement: &str,
    items: impl IntoIterator<Item = T>,
    mut encode: impl FnMut(&mut CopyBuf, T),
    bar: Option<&ProgressBar>,
) -> anyhow::Result<u64> {
    let mut sink = conn.copy_in_raw(statement).await?;
    let mut buf = CopyBuf::new();
    let mut pending = 0u64;
    for item in items {
        encode(&mut buf, item);
        pending += 1;
        if buf.buf.len() >= CHUNK {
            sink.send(std::mem::take(&mut buf.buf)).await?;
            buf.buf.reserve(CHUNK + 64 * 1024);
            if let Some(bar) = bar {
                bar.inc(pending);
            }
            pending = 0;
        }
    }
    buf.buf.extend_from_slice(&(-1i16).to_be_bytes());
    sink.send(buf.buf).await?;
    if let Some(bar) = bar {
        bar.inc(pending);
    }
    Ok(sink.finish().await?)
}

/// Removes every seeded account (e-mail `…@seed.eduscale.test`) with what hangs off
/// it (cohorts, memberships, progress, truth, by cascade) and its events; returns
/// how many accounts went. When no other user has events the log is truncated
/// instead of deleted row by row, which is what makes re-seeding millions quick.
pub async fn clear_previous(conn: &mut PgConnection) -> anyhow::Result<u64> {
    let pattern = format!("%@{EMAIL_DOMAIN}");
    sqlx::query("CREATE TEMPORARY TABLE seed_previous (id uuid PRIMARY KEY) ON COMMIT DROP")
        .execute(&mut *conn)
        .await?;
    let previous =
        sqlx::query("INSERT INTO seed_previous SELECT id FROM users WHERE email LIKE $1")
            .bind(&pattern)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if previous == 0 {
        return Ok(0);
    }
    // Without statistics the planner guesses a nested loop for the check below:
    // seconds per million events instead of a hash join's tenth of a second.
    sqlx::query("ANALYZE seed_previous")
        .execute(&mut *conn)
        .await?;
    // Nobody may add events between the check and the truncation.
    sqlx::query("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    let others: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events e
                        WHERE NOT EXISTS (SELECT 1 FROM seed_previous p WHERE p.id = e.user_id))",
    )
    .fetch_one(&mut *conn)
    .await?;
    if others {
        sqlx::query("DELETE FROM events WHERE user_id IN (SELECT id FROM seed_previous)")
            .execute(&mut *conn)
            .await?;
    } else {
        // Restarting the ids too: a re-seed then gives the very same rows, ids included.
        sqlx::query("TRUNCATE events RESTART IDENTITY")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM users WHERE id IN (SELECT id FROM seed_previous)")
        .execute(&mut *conn)
        .await?;
    // The roll-ups hold the deleted events too, and cannot subtract them.
    eduscale_server::insights::views::rebuild(conn).await?;
    Ok(previous)
}
