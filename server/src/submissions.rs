//! Judged submissions: written before the verdict is sent back (nothing
//! acknowledged is lost), read back for progress and review.
//!
//! The whole judgement is stored as JSON, hidden cases' timings included; it is
//! the server's record, and no query here hands hidden test data to a page.

use eduscale_core::code::{Judgement, Language, Verdict};
use sqlx::PgExecutor;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

/// One submission, as lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// Stable id.
    pub id: Uuid,
    /// Who submitted.
    pub user_id: Uuid,
    /// To which challenge.
    pub challenge_id: Uuid,
    /// In which language (`None` for an id this build does not know).
    pub language: Option<Language>,
    /// The program as submitted.
    pub source: String,
    /// Its overall verdict (`None` for an id this build does not know).
    pub verdict: Option<Verdict>,
    /// Cases passed.
    pub passed: i32,
    /// Cases in all.
    pub total: i32,
    /// When it was judged.
    pub created_at: OffsetDateTime,
}

/// Stores a judged submission; returns its id.
pub async fn record(
    db: impl PgExecutor<'_>,
    user: Uuid,
    challenge: Uuid,
    language: Language,
    source: &str,
    judgement: &Judgement,
) -> Result<Uuid, sqlx::Error> {
    // Both counts are at most the number of test cases a challenge holds.
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    sqlx::query_scalar!(
        r#"INSERT INTO submissions
               (user_id, challenge_id, language, source, verdict, passed, total, judgement)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id"#,
        user,
        challenge,
        language.id(),
        source,
        judgement.verdict.id(),
        count(judgement.passed),
        count(judgement.total),
        Json(judgement) as _,
    )
    .fetch_one(db)
    .await
}

/// `user`'s submissions to `challenge`, newest first, at most `limit`.
pub async fn mine(
    db: impl PgExecutor<'_>,
    user: Uuid,
    challenge: Uuid,
    limit: i64,
) -> Result<Vec<Submission>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, user_id, challenge_id, language, source, verdict, passed, total, created_at
           FROM submissions
           WHERE user_id = $1 AND challenge_id = $2
           ORDER BY created_at DESC, id
           LIMIT $3"#,
        user,
        challenge,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Submission {
            id: r.id,
            user_id: r.user_id,
            challenge_id: r.challenge_id,
            language: Language::from_id(&r.language),
            source: r.source,
            verdict: Verdict::from_id(&r.verdict),
            passed: r.passed,
            total: r.total,
            created_at: r.created_at,
        })
        .collect())
}
