//! The roll-ups and the materialized views over them hold exactly what the same
//! aggregates computed directly from the events give, round after round; an
//! event whose transaction is still open during a round is counted by a later
//! one, once; and a refresh never blocks a reader.

use eduscale::seed::{SeedOptions, seed};
use eduscale_server::insights::views;
use sqlx::{Connection, PgPool};
use std::time::Duration;

/// Imports the shipped content and seeds a small history.
pub async fn seeded(db: &PgPool, learners: usize, events: u64) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content");
    let loaded = eduscale_server::paths::content::load(&root).unwrap_or_else(|e| panic!("{e}"));
    eduscale_server::paths::import::import(db, &loaded)
        .await
        .unwrap();
    seed(db, &SeedOptions::new(learners, events, 7))
        .await
        .unwrap();
}

/// Rows of `a` not in `b` and of `b` not in `a`, both empty when they are equal.
async fn differ(db: &PgPool, a: &str, b: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT (SELECT count(*) FROM (({a}) EXCEPT ALL ({b})) x) + (SELECT count(*) FROM (({b}) EXCEPT ALL ({a})) y)"
    ))
    .fetch_one(db)
    .await
    .unwrap()
}

/// More history on top of what is there: a copy of every tenth event, a day
/// earlier or an hour later (never in the future), so that a round adds to
/// existing roll-up rows (and moves first and last times both ways) as well as
/// making new ones.
async fn more_events(db: &PgPool) -> u64 {
    sqlx::query(
        "INSERT INTO events (at, user_id, kind, node_id, battle_id, passed, verdict, page)
         SELECT CASE WHEN id % 20 = 0 THEN LEAST(at + interval '1 hour', now())
                     ELSE at - interval '1 day' END,
                user_id, kind, node_id, battle_id, passed, verdict, page
         FROM events WHERE id % 10 = 0",
    )
    .execute(db)
    .await
    .unwrap()
    .rows_affected()
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn every_view_equals_its_aggregate_computed_directly(db: PgPool) {
    seeded(&db, 120, 20_000).await;
    views::refresh_all(&db).await.unwrap();
    // A second round on top of the first: the roll-ups add up, not start over.
    let added = more_events(&db).await;
    let round = views::refresh_all(&db).await.unwrap();
    assert_eq!(
        round.events, added as i64,
        "the second round took exactly the new events"
    );
    assert_eq!(
        views::refresh_all(&db).await.unwrap().events,
        0,
        "and a third none"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM insights_daily_activity")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        rows > 100,
        "the seed gave the views something to hold ({rows} rows)"
    );

    let checks = [
        (
            "SELECT user_id, day, events, runs, attempts, successes, passes FROM insights_daily_activity",
            "SELECT user_id, (at AT TIME ZONE 'UTC')::date, count(*), count(*) FILTER (WHERE kind = 'run'),
                    count(*) FILTER (WHERE kind = 'verdict'), count(*) FILTER (WHERE kind = 'verdict' AND passed),
                    count(*) FILTER (WHERE kind = 'node_passed')
             FROM events GROUP BY 1, 2",
        ),
        (
            "SELECT node_id, user_id, attempts, failures, first_at, passed_at, last_at, last_attempt_at
             FROM insights_node_learners",
            "SELECT node_id, user_id, count(*) FILTER (WHERE kind = 'verdict'),
                    count(*) FILTER (WHERE kind = 'verdict' AND NOT passed), min(at),
                    min(at) FILTER (WHERE kind = 'node_passed'), max(at),
                    max(at) FILTER (WHERE kind = 'verdict')
             FROM events WHERE node_id IS NOT NULL GROUP BY 1, 2",
        ),
        (
            "SELECT scope, node_id, verdict, n FROM insights_node_verdicts",
            "SELECT s.scope, e.node_id, e.verdict, count(*)
             FROM events e JOIN (SELECT cohort_id AS scope, user_id FROM cohort_members
                                 UNION ALL SELECT '00000000-0000-0000-0000-000000000000'::uuid, id
                                 FROM users WHERE role = 'learner') s USING (user_id)
             WHERE e.kind = 'verdict' AND e.node_id IS NOT NULL AND e.verdict IS NOT NULL
             GROUP BY 1, 2, 3",
        ),
        (
            "SELECT scope, node_id, learners, attempts, passed FROM insights_node_difficulty",
            "SELECT s.scope, e.node_id, count(DISTINCT e.user_id), count(*) FILTER (WHERE e.kind = 'verdict'),
                    count(DISTINCT e.user_id) FILTER (WHERE e.kind = 'node_passed')
             FROM events e JOIN (SELECT cohort_id AS scope, user_id FROM cohort_members
                                 UNION ALL SELECT '00000000-0000-0000-0000-000000000000'::uuid, id
                                 FROM users WHERE role = 'learner') s USING (user_id)
             WHERE e.node_id IS NOT NULL GROUP BY 1, 2",
        ),
        (
            "SELECT scope, week, nodes_passed, active_learners FROM insights_weekly_velocity",
            "SELECT s.scope, date_trunc('week', e.at AT TIME ZONE 'UTC')::date,
                    count(*) FILTER (WHERE e.kind = 'node_passed'), count(DISTINCT e.user_id)
             FROM events e JOIN (SELECT cohort_id AS scope, user_id FROM cohort_members
                                 UNION ALL SELECT '00000000-0000-0000-0000-000000000000'::uuid, id
                                 FROM users WHERE role = 'learner') s USING (user_id)
             GROUP BY 1, 2",
        ),
        (
            "SELECT scope, day, dau FROM insights_engagement WHERE dau > 0",
            "SELECT s.scope, (e.at AT TIME ZONE 'UTC')::date, count(DISTINCT e.user_id)
             FROM events e JOIN (SELECT cohort_id AS scope, user_id FROM cohort_members
                                 UNION ALL SELECT '00000000-0000-0000-0000-000000000000'::uuid, id
                                 FROM users WHERE role = 'learner') s USING (user_id)
             WHERE (e.at AT TIME ZONE 'UTC')::date > (now() AT TIME ZONE 'UTC')::date - 90
             GROUP BY 1, 2",
        ),
        (
            "SELECT user_id, skill, successes, failures, last_at FROM insights_skill_attempts",
            "SELECT e.user_id, s, count(*) FILTER (WHERE e.passed), count(*) FILTER (WHERE NOT e.passed), max(e.at)
             FROM events e JOIN path_nodes n ON n.id = e.node_id JOIN challenges c ON c.id = n.challenge_id
             CROSS JOIN LATERAL unnest(c.skills) s
             WHERE e.kind = 'verdict' GROUP BY 1, 2",
        ),
        (
            "SELECT user_id, active_days, events, passes FROM insights_learners",
            "SELECT user_id, count(DISTINCT (at AT TIME ZONE 'UTC')::date), count(*),
                    count(*) FILTER (WHERE kind = 'node_passed')
             FROM events GROUP BY 1",
        ),
    ];
    for (view, direct) in checks {
        assert_eq!(
            differ(&db, view, direct).await,
            0,
            "{view}\n  differs from\n{direct}"
        );
    }

    // A streak, checked by hand for one learner: consecutive days up to the last.
    let (user, longest): (uuid::Uuid, i64) = sqlx::query_as(
        "SELECT user_id, longest_streak FROM insights_learners ORDER BY active_days DESC, user_id LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let days: Vec<time::Date> = sqlx::query_scalar(
        "SELECT DISTINCT (at AT TIME ZONE 'UTC')::date d FROM events WHERE user_id = $1 ORDER BY d",
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    let (mut best, mut run) = (0, 0);
    for (i, d) in days.iter().enumerate() {
        run = if i > 0 && days[i - 1].next_day() == Some(*d) {
            run + 1
        } else {
            1
        };
        best = best.max(run);
    }
    assert_eq!(longest, best);
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_refresh_in_progress_blocks_no_reader(db: PgPool) {
    seeded(&db, 30, 3_000).await;
    // A refresh held open: every view refreshed inside one transaction that has
    // not committed. A plain REFRESH would hold an exclusive lock on each view
    // until then; CONCURRENTLY lets readers through.
    let url = crate::support::database_url(&db);
    let mut refresher = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut open = refresher.begin().await.unwrap();
    more_events(&db).await;
    assert!(views::roll_up(&mut open).await.unwrap() > 0);
    for view in views::VIEWS {
        sqlx::query(&format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"))
            .execute(&mut *open)
            .await
            .unwrap();
    }
    for view in views::ROLLUPS.iter().chain(views::VIEWS) {
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {view}")).fetch_one(&db),
        )
        .await;
        assert!(
            matches!(read, Ok(Ok(_))),
            "reading {view} waited for the refresh"
        );
    }
    open.commit().await.unwrap();

    // And the proof that the test can tell: a plain refresh does block.
    let mut open = refresher.begin().await.unwrap();
    sqlx::query("REFRESH MATERIALIZED VIEW insights_learners")
        .execute(&mut *open)
        .await
        .unwrap();
    let blocked = tokio::time::timeout(
        Duration::from_millis(500),
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM insights_learners").fetch_one(&db),
    )
    .await;
    assert!(
        blocked.is_err(),
        "a plain REFRESH should have blocked the reader"
    );
    open.rollback().await.unwrap();
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_event_committed_after_a_round_began_is_counted_by_the_next_once(db: PgPool) {
    let url = crate::support::database_url(&db);
    let user = uuid::Uuid::new_v4();
    let attempts = |db: PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT coalesce(sum(attempts), 0)::bigint FROM insights_node_learners WHERE user_id = $1")
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let verdict = "INSERT INTO events (user_id, kind, node_id, passed, verdict) VALUES ($1, 'verdict', 7, false, 'wrong_answer')";
    // One batch is still open (its id comes first) while a later one commits.
    let mut slow = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut open = slow.begin().await.unwrap();
    sqlx::query(verdict)
        .bind(user)
        .execute(&mut *open)
        .await
        .unwrap();
    sqlx::query(verdict).bind(user).execute(&db).await.unwrap();
    let mut conn = db.acquire().await.unwrap();
    assert_eq!(
        views::roll_up(&mut conn).await.unwrap(),
        1,
        "only the committed one"
    );
    assert_eq!(attempts(db.clone()).await, 1);
    open.commit().await.unwrap();
    assert_eq!(
        views::roll_up(&mut conn).await.unwrap(),
        1,
        "the late one, now"
    );
    assert_eq!(
        views::roll_up(&mut conn).await.unwrap(),
        0,
        "and nothing twice"
    );
    assert_eq!(attempts(db.clone()).await, 2);
    // An aborted batch is never counted.
    let mut open = slow.begin().await.unwrap();
    sqlx::query(verdict)
        .bind(user)
        .execute(&mut *open)
        .await
        .unwrap();
    assert_eq!(views::roll_up(&mut conn).await.unwrap(), 0);
    open.rollback().await.unwrap();
    assert_eq!(views::roll_up(&mut conn).await.unwrap(), 0);
    assert_eq!(attempts(db.clone()).await, 2);
    // Rebuilt from nothing, the same totals.
    views::rebuild(&mut conn).await.unwrap();
    assert_eq!(views::roll_up(&mut conn).await.unwrap(), 2);
    assert_eq!(attempts(db.clone()).await, 2);
}

/// Runs `sql`, an advisory-lock call, on the refresher's lock; its answer.
async fn refresher_lock(conn: &mut sqlx::PgConnection, sql: &'static str) -> bool {
    sqlx::query_scalar(sql)
        .bind(eduscale_server::insights::refresher::LOCK_KEY)
        .fetch_one(conn)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn only_one_instance_refreshes_at_a_time(db: PgPool) {
    seeded(&db, 20, 2_000).await;
    let redis = crate::support::redis().await;
    // Hold the refresher's lock as another instance would.
    let url = crate::support::database_url(&db);
    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    assert!(refresher_lock(&mut other, "SELECT pg_try_advisory_lock($1)").await);
    let round =
        eduscale_server::insights::refresher::round(&db, &redis, false, Duration::from_secs(300))
            .await
            .unwrap();
    assert!(matches!(
        round,
        eduscale_server::insights::refresher::Round::Skipped
    ));
    // Unlocked explicitly: a closed connection's backend releases its locks
    // as it exits, which may be after the next round has already tried.
    assert!(refresher_lock(&mut other, "SELECT pg_advisory_unlock($1)").await);
    other.close().await.unwrap();
    let round =
        eduscale_server::insights::refresher::round(&db, &redis, false, Duration::from_secs(300))
            .await
            .unwrap();
    assert!(
        matches!(
            round,
            eduscale_server::insights::refresher::Round::Refreshed { generation: 1, .. }
        ),
        "{round:?}"
    );
    redis.quit().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_round_with_nothing_new_leaves_the_views_alone_and_any_change_refreshes_them(db: PgPool) {
    use eduscale_server::insights::refresher::{self, Round};
    seeded(&db, 20, 2_000).await;
    let redis = crate::support::redis().await;
    let round = |unchanged_for: u64| {
        let (db, redis) = (db.clone(), redis.clone());
        async move {
            refresher::round(&db, &redis, false, Duration::from_secs(unchanged_for))
                .await
                .unwrap()
        }
    };
    let generation = |round: Round| match round {
        Round::Refreshed { generation, .. } => Some(generation),
        _ => None,
    };
    assert_eq!(generation(round(300).await), Some(1));
    let (_, first_at) = refresher::current(&redis).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(matches!(round(300).await, Round::Unchanged));
    let (kept, at) = refresher::current(&redis).await.unwrap();
    assert_eq!(kept, 1, "cached answers stay valid");
    assert!(
        at > first_at,
        "the views are as fresh as the round that checked them"
    );

    // Each kind of change the views read refreshes them, once.
    let changes: [(&str, &str); 5] = [
        ("an event", "INSERT INTO events (user_id, kind) SELECT id, 'log_in' FROM users WHERE role = 'learner' LIMIT 1"),
        ("a new learner", "INSERT INTO users (email, display_name, password_hash) VALUES ('new@x.test', 'New', 'none')"),
        ("a cohort's new member", "INSERT INTO cohort_members (cohort_id, user_id)
             SELECT c.id, u.id FROM cohorts c, users u
             WHERE u.email = 'new@x.test' LIMIT 1"),
        ("a challenge's skills", "UPDATE challenges SET skills = skills || '{extra-skill}'
             WHERE id = (SELECT challenge_id FROM path_nodes WHERE challenge_id IS NOT NULL LIMIT 1)"),
        ("a learner who became an instructor", "UPDATE users SET role = 'instructor' WHERE email = 'new@x.test'"),
    ];
    let mut expected = 1;
    for (what, sql) in changes {
        let changed = sqlx::query(sql).execute(&db).await.unwrap().rows_affected();
        assert_eq!(changed, 1, "{what}: the change was made");
        expected += 1;
        assert_eq!(generation(round(300).await), Some(expected), "{what}");
        assert!(matches!(round(300).await, Round::Unchanged), "after {what}");
    }
    // Emptied roll-ups (a rebuild) refresh even with no event to add back.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("DELETE FROM events")
        .execute(&mut *tx)
        .await
        .unwrap();
    views::rebuild(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    expected += 1;
    assert_eq!(generation(round(300).await), Some(expected), "a rebuild");
    let learners: i64 = sqlx::query_scalar("SELECT count(*) FROM insights_learners")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(learners, 0, "the views follow the emptied log");
    // Unchanged for longer than allowed: refreshed anyway (what moves with the clock).
    expected += 1;
    assert_eq!(
        generation(round(0).await),
        Some(expected),
        "too long unrefreshed"
    );

    use fred::prelude::*;
    let keys: Vec<String> = ["generation", "refreshed_at", "refreshed_inputs"]
        .iter()
        .map(|k| redis.prefix.key(&format!("insights:{k}")))
        .collect();
    let _: i64 = redis.pool.del(keys).await.unwrap();
    redis.quit().await;
}
