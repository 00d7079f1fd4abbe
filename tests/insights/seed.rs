//! `eduscale seed`'s history: the same seed gives the same rows, and the rows
//! obey the platform's rules (exact size, nothing in the future, verdicts with
//! their outcome, prerequisites passed first, progress that matches the events).

use eduscale::seed::{SeedOptions, Summary, seed};
use sqlx::PgPool;
use std::time::{Duration, SystemTime};

const LEARNERS: usize = 200;
const EVENTS: u64 = 20_000;

async fn import_content(db: &PgPool) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content");
    let loaded = eduscale_server::paths::content::load(&root).unwrap_or_else(|e| panic!("{e}"));
    eduscale_server::paths::import::import(db, &loaded)
        .await
        .unwrap();
}

async fn seeded(db: &PgPool, seed_value: u64, now: SystemTime) -> Summary {
    let options = SeedOptions {
        now,
        ..SeedOptions::new(LEARNERS, EVENTS, seed_value)
    };
    seed(db, &options).await.unwrap()
}

async fn scalar_i64(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Everything that should repeat: events per kind, a digest of every event and
/// of every hidden level, and the seeded accounts.
async fn fingerprint(db: &PgPool) -> (Vec<(String, i64)>, String, String, String) {
    let kinds = sqlx::query_as("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind")
        .fetch_all(db)
        .await
        .unwrap();
    let digest = |sql: &'static str| async move {
        sqlx::query_scalar::<_, String>(sql)
            .fetch_one(db)
            .await
            .unwrap()
    };
    let events = digest(
        "SELECT md5(string_agg(concat_ws('|', at, user_id, kind, node_id, battle_id, passed, verdict, page),
                               ',' ORDER BY at, user_id, kind))
         FROM events",
    )
    .await;
    let truth = digest(
        "SELECT md5(string_agg(concat_ws('|', user_id, skill, initial, mastered, learn_rate),
                               ',' ORDER BY user_id, skill))
         FROM insights_seed_truth",
    )
    .await;
    let people = digest(
        "SELECT md5(string_agg(concat_ws('|', id, email, display_name, role, created_at), ',' ORDER BY email))
         FROM users",
    )
    .await;
    (kinds, events, truth, people)
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn the_same_seed_gives_the_same_history_and_reseeding_replaces_it(db: PgPool) {
    import_content(&db).await;
    let now = SystemTime::now() - Duration::from_secs(60);
    let first = seeded(&db, 42, now).await;
    let before = fingerprint(&db).await;
    let truth_rows = scalar_i64(&db, "SELECT count(*) FROM insights_seed_truth").await;
    assert!(truth_rows > 0, "hidden levels are stored");
    assert_eq!(truth_rows as u64, first.truth_rows);

    let second = seeded(&db, 42, now).await;
    assert_eq!(
        second.replaced_accounts,
        (first.learners + first.instructors) as u64,
        "re-seeding removes the previous seed's accounts first"
    );
    assert_eq!(fingerprint(&db).await, before, "same seed, same rows");
    let rolled = scalar_i64(
        &db,
        "SELECT (SELECT sum(events)::bigint FROM insights_daily_activity) - (SELECT count(*) FROM events)",
    )
    .await;
    assert_eq!(rolled, 0, "the roll-ups hold the new history, not both");
    let users = scalar_i64(&db, "SELECT count(*) FROM users").await;
    assert_eq!(
        users as usize,
        first.learners + first.instructors,
        "nothing doubled"
    );

    seeded(&db, 43, now).await;
    let other = fingerprint(&db).await;
    assert_ne!(other.1, before.1, "another seed, another history");
    assert_ne!(other.2, before.2);
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_seeded_history_keeps_the_platform_rules(db: PgPool) {
    import_content(&db).await;
    let summary = seeded(&db, 7, SystemTime::now()).await;
    assert_eq!(summary.learners, LEARNERS);
    assert!(
        summary.instructors >= 1 && summary.cohorts >= 1,
        "{summary:?}"
    );

    let events = scalar_i64(&db, "SELECT count(*) FROM events").await;
    assert!(
        (events as f64 - EVENTS as f64).abs() <= EVENTS as f64 * 0.01,
        "{events} events for {EVENTS} asked"
    );
    assert_eq!(events as u64, summary.events);
    let future = scalar_i64(&db, "SELECT count(*) FROM events WHERE at >= now()").await;
    assert_eq!(future, 0, "no event is in the future");
    let verdicts = scalar_i64(
        &db,
        "SELECT count(*) FROM events WHERE kind = 'verdict' AND passed IS NOT NULL
           AND verdict IN ('accepted', 'wrong_answer', 'runtime_error', 'time_limit',
                           'memory_limit', 'output_limit', 'compile_error')
           AND (verdict = 'accepted') = passed",
    )
    .await;
    let all_verdicts = scalar_i64(&db, "SELECT count(*) FROM events WHERE kind = 'verdict'").await;
    assert!(
        all_verdicts > 500,
        "learners submitted ({all_verdicts} verdicts)"
    );
    assert_eq!(
        verdicts, all_verdicts,
        "every verdict says whether it passed, and by which name"
    );

    // Every group of a passed node's prerequisites had one node passed before it
    // (or tested out of by a checkpoint passed before it).
    let early = scalar_i64(
        &db,
        "WITH passes AS (SELECT user_id, node_id, min(at) AS at FROM events
                         WHERE kind = 'node_passed' GROUP BY 1, 2),
              done AS (SELECT * FROM passes
                       UNION ALL
                       SELECT p.user_id, g.node, p.at FROM passes p JOIN path_guards g ON g.checkpoint = p.node_id)
         SELECT count(*) FROM passes p
         WHERE EXISTS (
             SELECT 1 FROM (SELECT DISTINCT grp FROM path_edges WHERE to_node = p.node_id) g
             WHERE NOT EXISTS (
                 SELECT 1 FROM path_edges e
                 JOIN done d ON d.node_id = e.from_node AND d.user_id = p.user_id AND d.at < p.at
                 WHERE e.to_node = p.node_id AND e.grp = g.grp))",
    )
    .await;
    assert_eq!(early, 0, "no node is passed before its prerequisites");
    let passes = scalar_i64(
        &db,
        "SELECT count(*) FROM events WHERE kind = 'node_passed'",
    )
    .await;
    assert!(passes > 200, "learners got somewhere ({passes} passes)");

    // Progress says what the events say: a passed row per pass, and as many
    // attempts on a challenge as it got verdicts.
    let passed_rows = scalar_i64(&db, "SELECT count(*) FROM progress WHERE stage = 'passed'").await;
    assert_eq!(passed_rows, passes);
    let mismatched = scalar_i64(
        &db,
        "SELECT count(*) FROM progress p
         JOIN path_nodes n ON n.id = p.node_id AND n.kind <> 'lesson'
         WHERE p.attempts <> (SELECT count(*) FROM events e
                              WHERE e.user_id = p.user_id AND e.node_id = p.node_id AND e.kind = 'verdict')
            OR p.failures <> (SELECT count(*) FROM events e
                              WHERE e.user_id = p.user_id AND e.node_id = p.node_id
                                AND e.kind = 'verdict' AND NOT e.passed)",
    )
    .await;
    assert_eq!(mismatched, 0, "progress counters match the verdicts");

    // The story has its dropouts, strugglers and remediation.
    let quiet = scalar_i64(
        &db,
        "SELECT count(*) FROM (SELECT user_id FROM events GROUP BY user_id
                               HAVING max(at) < now() - interval '4 days') q",
    )
    .await;
    assert!(quiet >= 10, "some learners stopped coming ({quiet})");
    let remediation = scalar_i64(
        &db,
        "SELECT count(*) FROM events WHERE kind = 'remediation_opened'",
    )
    .await;
    assert!(
        remediation > 0,
        "someone struggled enough to be offered remediation"
    );
}
