//! The arena's durable facts in PostgreSQL: battles, their deltas, submissions,
//! results and ratings.
//!
//! Every write an owner makes names its lease epoch (the fencing token) and
//! checks it in the same statement or transaction, so an owner that lost its
//! lease (paused, partitioned) writes nothing once a successor has bumped it.

use eduscale_core::battle::{BattleState, Delta, Mode, Settings};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// A battle's row, as an owner needs it to rebuild.
#[derive(Debug, Clone)]
pub struct BattleRow {
    /// Id.
    pub id: u64,
    /// Invite code.
    pub code: String,
    /// How it is played.
    pub settings: Settings,
    /// `lobby`, `running` or `finished`.
    pub status: String,
    /// The current fencing token.
    pub lease_epoch: i64,
}

/// A refused write: another owner holds the battle now.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The epoch named is not the battle's any more.
    #[error("fenced out: another instance owns this battle now")]
    Fenced,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A fenced write changed exactly one row, or the epoch it named is stale.
fn fenced(rows: u64) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Fenced)
    }
}

fn id(battle: u64) -> i64 {
    // Ids come from an identity column, so they fit.
    battle as i64
}

/// Creates a battle in its lobby; returns its id.
pub async fn create(
    db: impl PgExecutor<'_>,
    code: &str,
    settings: &Settings,
    created_by: Uuid,
) -> Result<u64, sqlx::Error> {
    let mode = match settings.mode {
        Mode::Duel => "duel",
        Mode::Group => "group",
    };
    let id = sqlx::query_scalar!(
        r#"INSERT INTO battles (code, mode, public, settings, created_by)
           VALUES ($1, $2, $3, $4, $5) RETURNING id"#,
        code,
        mode,
        settings.public,
        sqlx::types::Json(settings) as _,
        created_by,
    )
    .fetch_one(db)
    .await?;
    Ok(id as u64)
}

/// A battle by id.
pub async fn find(db: impl PgExecutor<'_>, battle: u64) -> Result<Option<BattleRow>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, code, settings AS "settings: sqlx::types::Json<Settings>", status, lease_epoch
           FROM battles WHERE id = $1"#,
        id(battle),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| BattleRow {
        id: r.id as u64,
        code: r.code,
        settings: r.settings.0,
        status: r.status,
        lease_epoch: r.lease_epoch,
    }))
}

/// A battle's id by invite code.
pub async fn by_code(db: impl PgExecutor<'_>, code: &str) -> Result<Option<u64>, sqlx::Error> {
    let id = sqlx::query_scalar!("SELECT id FROM battles WHERE code = $1", code)
        .fetch_optional(db)
        .await?;
    Ok(id.map(|i| i as u64))
}

/// Takes the next epoch: the caller holds the lock and is now the only owner
/// whose writes count.
pub async fn bump_epoch(db: impl PgExecutor<'_>, battle: u64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE battles SET lease_epoch = lease_epoch + 1 WHERE id = $1 RETURNING lease_epoch",
        id(battle),
    )
    .fetch_one(db)
    .await
}

/// Whether `epoch` is still the battle's (a fenced write of nothing).
pub async fn still_owner(
    db: impl PgExecutor<'_>,
    battle: u64,
    epoch: i64,
) -> Result<(), StoreError> {
    let rows = sqlx::query!(
        "UPDATE battles SET lease_epoch = lease_epoch WHERE id = $1 AND lease_epoch = $2",
        id(battle),
        epoch,
    )
    .execute(db)
    .await?
    .rows_affected();
    fenced(rows)
}

/// Which of `held` (battle, epoch) still hold their battle's current epoch: the
/// same fenced write of nothing as [`still_owner`], for many battles in one
/// statement.
pub async fn still_owners(
    db: impl PgExecutor<'_>,
    held: &[(u64, i64)],
) -> Result<Vec<u64>, sqlx::Error> {
    let ids: Vec<i64> = held.iter().map(|(b, _)| id(*b)).collect();
    let epochs: Vec<i64> = held.iter().map(|(_, e)| *e).collect();
    let kept = sqlx::query_scalar!(
        "UPDATE battles b SET lease_epoch = b.lease_epoch
         FROM UNNEST($1::bigint[], $2::bigint[]) AS h(id, epoch)
         WHERE b.id = h.id AND b.lease_epoch = h.epoch
         RETURNING b.id",
        &ids,
        &epochs,
    )
    .fetch_all(db)
    .await?;
    Ok(kept.into_iter().map(|b| b as u64).collect())
}

/// Every stored delta of `battle` after `after`, in order.
pub async fn deltas_after(
    db: impl PgExecutor<'_>,
    battle: u64,
    after: u64,
) -> Result<Vec<Delta>, sqlx::Error> {
    let rows = sqlx::query_scalar!(
        "SELECT delta FROM battle_deltas WHERE battle_id = $1 AND seq > $2 ORDER BY seq",
        id(battle),
        after as i64,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|bytes| postcard::from_bytes(bytes).ok())
        .collect())
}

/// One delta waiting to be stored, with the epoch of the owner that made it.
#[derive(Debug, Clone)]
pub struct PendingDelta {
    /// The battle.
    pub battle: u64,
    /// Its seq.
    pub seq: u64,
    /// Encoded.
    pub bytes: Vec<u8>,
    /// The owner's epoch.
    pub epoch: i64,
}

/// Stores a batch of deltas (of any battles) in one statement. A delta whose
/// epoch is no longer its battle's, or whose battle is gone, is left out;
/// returns how many were stored. The join locks the battle rows as a foreign
/// key's check would (`FOR KEY SHARE`), without the check's query per row: see
/// migration `20261203100000_battle_deltas_fenced_without_fk.sql`.
pub async fn store_deltas(db: &PgPool, batch: &[PendingDelta]) -> Result<u64, sqlx::Error> {
    let battles: Vec<i64> = batch.iter().map(|d| id(d.battle)).collect();
    let seqs: Vec<i64> = batch.iter().map(|d| d.seq as i64).collect();
    let epochs: Vec<i64> = batch.iter().map(|d| d.epoch).collect();
    let bytes: Vec<Vec<u8>> = batch.iter().map(|d| d.bytes.clone()).collect();
    let stored = sqlx::query!(
        r#"INSERT INTO battle_deltas (battle_id, seq, delta)
           SELECT d.battle_id, d.seq, d.delta
           FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[])
                AS d(battle_id, seq, epoch, delta)
           JOIN battles b ON b.id = d.battle_id AND b.lease_epoch = d.epoch
           FOR KEY SHARE OF b
           ON CONFLICT (battle_id, seq) DO NOTHING"#,
        &battles,
        &seqs,
        &epochs,
        &bytes,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(stored)
}

/// Marks the battle started with `challenge`, once, under the fencing check.
pub async fn start(
    db: impl PgExecutor<'_>,
    battle: u64,
    epoch: i64,
    challenge: Uuid,
) -> Result<(), StoreError> {
    let rows = sqlx::query!(
        r#"UPDATE battles SET status = 'running', challenge_id = $3, started_at = now()
           WHERE id = $1 AND lease_epoch = $2 AND status = 'lobby'"#,
        id(battle),
        epoch,
        challenge,
    )
    .execute(db)
    .await?
    .rows_affected();
    fenced(rows)
}

/// The challenge a started battle plays (what a new owner reveals again).
pub async fn challenge_of(
    db: impl PgExecutor<'_>,
    battle: u64,
) -> Result<Option<Uuid>, sqlx::Error> {
    let challenge =
        sqlx::query_scalar!("SELECT challenge_id FROM battles WHERE id = $1", id(battle))
            .fetch_one(db)
            .await?;
    Ok(challenge)
}

/// A submission as received; returns its id.
pub async fn record_submission(
    db: impl PgExecutor<'_>,
    battle: u64,
    user: Uuid,
    language: &str,
    source: &str,
    received_ms: u64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO battle_submissions (battle_id, user_id, language, source, received_ms)
           VALUES ($1, $2, $3, $4, $5) RETURNING id"#,
        id(battle),
        user,
        language,
        source,
        received_ms as i64,
    )
    .fetch_one(db)
    .await
}

/// A submission received but not yet judged (a new owner judges them).
#[derive(Debug, Clone)]
pub struct PendingSubmission {
    /// Id.
    pub id: i64,
    /// Who.
    pub user: Uuid,
    /// Language id.
    pub language: String,
    /// Program.
    pub source: String,
    /// When it arrived.
    pub received_ms: u64,
}

/// The battle's submissions still waiting for a verdict, oldest first.
pub async fn pending_submissions(
    db: impl PgExecutor<'_>,
    battle: u64,
) -> Result<Vec<PendingSubmission>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, user_id, language, source, received_ms FROM battle_submissions
           WHERE battle_id = $1 AND outcome IS NULL ORDER BY id"#,
        id(battle),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PendingSubmission {
            id: r.id,
            user: r.user_id,
            language: r.language,
            source: r.source,
            received_ms: r.received_ms as u64,
        })
        .collect())
}

/// Records a submission's verdict and whether it counted, under the fencing check.
pub async fn judge_submission(
    db: impl PgExecutor<'_>,
    battle: u64,
    epoch: i64,
    submission: i64,
    hidden_passed: u16,
    hidden_total: u16,
    counted: bool,
) -> Result<(), StoreError> {
    let rows = sqlx::query!(
        r#"UPDATE battle_submissions s
           SET hidden_passed = $4, hidden_total = $5, outcome = $6, judged_at = now()
           FROM battles b
           WHERE s.id = $3 AND s.battle_id = $1 AND b.id = s.battle_id AND b.lease_epoch = $2
             AND s.outcome IS NULL"#,
        id(battle),
        epoch,
        submission,
        i32::from(hidden_passed),
        i32::from(hidden_total),
        if counted { "counted" } else { "too_late" },
    )
    .execute(db)
    .await?
    .rows_affected();
    fenced(rows)
}

/// A player's rating before a battle: (mu, sigma, shown).
pub async fn rating(
    db: impl PgExecutor<'_>,
    user: Uuid,
) -> Result<Option<(f64, f64, i32)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT mu, sigma, rating FROM ratings WHERE user_id = $1",
        user
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.mu, r.sigma, r.rating)))
}

/// One player's result, as the finishing transaction writes it.
#[derive(Debug, Clone)]
pub struct ResultRow {
    /// Who.
    pub user: Uuid,
    /// Place.
    pub rank: i32,
    /// Percent of hidden tests.
    pub score: i32,
    /// Solve time.
    pub solved_ms: Option<i64>,
    /// Rating before and after, with the new (mu, sigma).
    pub before: i32,
    /// After.
    pub after: i32,
    /// New mu.
    pub mu: f64,
    /// New sigma.
    pub sigma: f64,
}

/// Finishes the battle: status, results and ratings in one transaction, once,
/// under the fencing check. Returns `Fenced` if another owner holds it or it was
/// already finished (so ratings change exactly once).
pub async fn finish(
    db: &PgPool,
    battle: u64,
    epoch: i64,
    reason: &str,
    results: &[ResultRow],
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let rows = sqlx::query!(
        r#"UPDATE battles SET status = 'finished', finished_at = now(), finish_reason = $3
           WHERE id = $1 AND lease_epoch = $2 AND status <> 'finished'"#,
        id(battle),
        epoch,
        reason,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if rows != 1 {
        return Err(StoreError::Fenced);
    }
    for r in results {
        sqlx::query!(
            r#"INSERT INTO battle_results
                   (battle_id, user_id, rank, score, solved_ms, rating_before, rating_after)
               VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
            id(battle),
            r.user,
            r.rank,
            r.score,
            r.solved_ms,
            r.before,
            r.after,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"INSERT INTO ratings (user_id, mu, sigma, rating, battles, wins)
               VALUES ($1, $2, $3, $4, 1, $5)
               ON CONFLICT (user_id) DO UPDATE
               SET mu = $2, sigma = $3, rating = $4, battles = ratings.battles + 1,
                   wins = ratings.wins + $5, updated_at = now()"#,
            r.user,
            r.mu,
            r.sigma,
            r.after,
            i32::from(r.rank == 1),
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Everyone's rating, for rebuilding the leaderboard: (user, rating).
pub async fn all_ratings(db: impl PgExecutor<'_>) -> Result<Vec<(Uuid, i32)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT user_id, rating FROM ratings")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.rating)).collect())
}

/// A public battle still open, for the lobby.
#[derive(Debug, Clone)]
pub struct OpenRoom {
    /// Id.
    pub id: u64,
    /// Invite code.
    pub code: String,
    /// `duel` or `group`.
    pub mode: String,
    /// `lobby` or `running`.
    pub status: String,
    /// Who made it.
    pub host: String,
}

/// Public battles not finished, newest first.
pub async fn open_rooms(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<OpenRoom>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT b.id, b.code, b.mode, b.status, u.display_name
           FROM battles b JOIN users u ON u.id = b.created_by
           WHERE b.public AND b.status <> 'finished'
           ORDER BY b.created_at DESC LIMIT $1"#,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OpenRoom {
            id: r.id as u64,
            code: r.code,
            mode: r.mode,
            status: r.status,
            host: r.display_name,
        })
        .collect())
}

/// A fresh state for `row` (before any delta).
pub fn fresh_state(row: &BattleRow) -> BattleState {
    BattleState::new(row.id, row.settings.clone())
}

/// A battle challenge for players writing `languages`, preferring difficulties
/// `lo..=hi`; random among equals.
pub async fn pick_problem(
    db: impl PgExecutor<'_>,
    lo: i16,
    hi: i16,
    languages: &[String],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id FROM challenges
           WHERE battle AND (languages = '{}' OR languages @> $3)
             AND EXISTS (SELECT 1 FROM challenge_tests t WHERE t.challenge_id = challenges.id AND NOT t.visible)
           ORDER BY (difficulty BETWEEN $1 AND $2) DESC, random()
           LIMIT 1"#,
        lo,
        hi,
        languages,
    )
    .fetch_optional(db)
    .await
}

/// The ratings a finished battle gave: (user, rating after).
pub async fn results(
    db: impl PgExecutor<'_>,
    battle: u64,
) -> Result<Vec<(Uuid, i32)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT user_id, rating_after FROM battle_results WHERE battle_id = $1",
        id(battle),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.user_id, r.rating_after))
        .collect())
}

/// Stores deltas as they come, in batches: whatever is waiting goes in one
/// statement, and a small batch waits at most `every` for company. Up to four
/// statements run at once, so the writer keeps up with a burst instead of
/// making every owner wait on the channel. A failed batch is retried a few
/// times; the Redis log still holds its deltas meanwhile, and a new owner
/// stores what is missing.
pub async fn writer(
    db: PgPool,
    mut rx: tokio::sync::mpsc::Receiver<PendingDelta>,
    every: std::time::Duration,
) {
    const MOST: usize = 2_000;
    let writing = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(MOST);
        batch.push(first);
        let deadline = tokio::time::Instant::now() + every;
        while batch.len() < MOST {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                // A batch worth a statement goes now; a few deltas wait a little.
                Err(_) if batch.len() >= MOST / 8 => break,
                Err(_) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(next)) => batch.push(next),
                    Ok(None) | Err(_) => break,
                },
            }
        }
        let Ok(permit) = writing.clone().acquire_owned().await else {
            break;
        };
        let db = db.clone();
        tokio::spawn(async move {
            for attempt in 0..5u32 {
                match store_deltas(&db, &batch).await {
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "storing battle deltas failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                    }
                }
            }
            drop(permit);
        });
    }
}
