//! `eduscale bench insights`: dashboards under load, on a seeded platform.
//!
//! The database (`--database`, beside the configured one) is seeded once with
//! `--learners` learners and `--events` events by `eduscale seed`, and kept:
//! seeding 5,000,000 events takes minutes, so a later run that finds the same
//! seed there reuses it. Then, for `--seconds`:
//! - ingestion runs at `--rate` events per second through the real buffer and
//!   writer (page views, runs and verdicts of seeded learners on real nodes);
//! - the refresher runs as on a server (every 20 s by default, elected by its lock);
//! - dashboards are read as instructors read them, each query timed as served
//!   (`queries_ms`), and every one also computed with the cache bypassed
//!   (`uncached_ms`), so both the cache and the views are measured;
//! - staleness (now minus the time the views' data was read) is sampled every
//!   second after the first refresh; its maximum is reported.
//!
//! Last, `ingest_events_per_s`: as many events as 8 producers can push, timed
//! from the first send to the commit of the last. The events the benchmark
//! added are deleted at the end (and the roll-ups added up again without them),
//! so runs stay comparable.

use super::{P95, round3};
use crate::config::Config;
use eduscale_server::insights::event::{Event, Kind};
use eduscale_server::insights::{Insights, InsightsConfig, refresher};
use eduscale_server::redis::{KeyPrefix, Redis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::{Connection, Executor, PgPool};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// `eduscale bench insights`'s options.
#[derive(Debug, clap::Args)]
pub struct InsightsBenchArgs {
    /// Print one JSON object (the only output format).
    #[arg(long)]
    pub json: bool,
    /// Learners to seed.
    #[arg(long, default_value_t = 10_000)]
    pub learners: usize,
    /// Events to seed.
    #[arg(long, default_value_t = 5_000_000)]
    pub events: u64,
    /// Events per second ingested while dashboards are read.
    #[arg(long, default_value_t = 2_000)]
    pub rate: u32,
    /// How long dashboards are read under ingestion.
    #[arg(long, default_value_t = 90)]
    pub seconds: u64,
    /// The (kept) database to seed and measure in.
    #[arg(long, default_value = "eduscale_insights_bench")]
    pub database: String,
}

/// Runs the benchmark and prints the JSON object.
pub async fn run(config: &Config, args: &InsightsBenchArgs) -> anyhow::Result<()> {
    let url = super::with_database(&config.database_url, &args.database)?;
    let db = prepare(config, &url, args).await?;
    let redis = Redis::connect(
        &config.redis_url,
        4,
        KeyPrefix::new(&format!("bench-insights-{}:", std::process::id())),
    )
    .await?;
    let first_new: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM events")
        .fetch_one(&db)
        .await?;
    let result = measure(&db, &redis, args).await;
    // Leave the seeded history as it was found. A roll-up cannot subtract, so
    // the roll-ups are added up again from the log (here, not in the next run).
    let mut tx = db.begin().await?;
    tx.execute(sqlx::query("DELETE FROM events WHERE id >= $1").bind(first_new))
        .await?;
    eduscale_server::insights::views::rebuild(&mut tx).await?;
    tx.commit().await?;
    eduscale_server::insights::views::refresh_all(&db).await?;
    clear(&redis).await;
    redis.quit().await;
    println!("{}", result?);
    Ok(())
}

/// The seeded database: made, migrated and seeded unless it already holds this seed.
async fn prepare(config: &Config, url: &str, args: &InsightsBenchArgs) -> anyhow::Result<PgPool> {
    let admin = super::with_database(&config.database_url, "postgres")?;
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&args.database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        conn.execute(format!("CREATE DATABASE {}", args.database).as_str())
            .await?;
    }
    let db = eduscale_server::db::connect(url, 16).await?;
    eduscale_server::db::migrate(&db, url).await?;
    let (learners, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM insights_seed_truth WHERE skill = (SELECT min(skill) FROM insights_seed_truth)),
                (SELECT count(*) FROM events)",
    )
    .fetch_one(&db)
    .await?;
    let wanted = args.events as f64;
    if learners as usize != args.learners
        || (events as f64) < wanted * 0.99
        || (events as f64) > wanted * 1.01
    {
        eprintln!(
            "seeding {} learners and {} events into {}",
            args.learners, args.events, args.database
        );
        let root = std::path::Path::new("content");
        let loaded =
            eduscale_server::paths::content::load(root).map_err(|e| anyhow::anyhow!("{e}"))?;
        eduscale_server::paths::import::import(&db, &loaded).await?;
        let mut options = crate::seed::SeedOptions::new(args.learners, args.events, 1);
        options.progress = true;
        crate::seed::seed(&db, &options).await?;
    }
    db.execute("ANALYZE").await?;
    Ok(db)
}

/// What the readers pick from.
struct Targets {
    cohorts: Vec<Uuid>,
    learners: Vec<(Uuid, Uuid)>,
    nodes: Vec<i64>,
    platform: Uuid,
}

async fn targets(db: &PgPool) -> anyhow::Result<Targets> {
    let cohorts: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM cohorts ORDER BY id")
        .fetch_all(db)
        .await?;
    let learners: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT cohort_id, user_id FROM cohort_members ORDER BY 1, 2")
            .fetch_all(db)
            .await?;
    let nodes: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT node_id FROM insights_node_learners ORDER BY 1")
            .fetch_all(db)
            .await?;
    anyhow::ensure!(
        !cohorts.is_empty() && !learners.is_empty() && !nodes.is_empty(),
        "nothing seeded"
    );
    Ok(Targets {
        cohorts,
        learners,
        nodes,
        platform: Uuid::nil(),
    })
}

async fn measure(
    db: &PgPool,
    redis: &Redis,
    args: &InsightsBenchArgs,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let first = refresher::round(db, redis, true, Duration::ZERO).await?;
    let first_refresh_s = round3(started.elapsed().as_secs_f64());
    let refreshed_views = match first {
        refresher::Round::Refreshed { views, .. } => views
            .views
            .iter()
            .map(|(v, d)| (v.to_string(), round3(d.as_secs_f64())))
            .collect::<BTreeMap<_, _>>(),
        refresher::Round::Skipped => anyhow::bail!("another process holds the refresher's lock"),
        // Never, with no time allowed unrefreshed.
        refresher::Round::Unchanged => anyhow::bail!("the first round refreshed nothing"),
    };
    let insights = Insights::start(
        db.clone(),
        redis.clone(),
        InsightsConfig {
            refresh: Some(refresher::RefreshConfig::default()),
            ..Default::default()
        },
    );
    let targets = targets(db).await?;
    let ingest = tokio::spawn(ingest_at(
        insights.clone(),
        targets.learners.clone(),
        targets.nodes.clone(),
        args.rate,
        args.seconds,
    ));

    let mut served: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut uncached: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut staleness: f64 = 0.0;
    // The slowest of the rounds made while dashboards were read (the first round,
    // above, may add up the whole log after a rebuild).
    let mut slowest: Option<eduscale_server::insights::views::Refreshed> = None;
    let mut next_sample = Instant::now();
    let mut rng = StdRng::seed_from_u64(7);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    while Instant::now() < deadline {
        let cohort = targets.cohorts[rng.gen_range(0..targets.cohorts.len())];
        let (scope, learner) = targets.learners[rng.gen_range(0..targets.learners.len())];
        let node = targets.nodes[rng.gen_range(0..targets.nodes.len())];
        let scope_any = if rng.gen_bool(0.05) {
            targets.platform
        } else {
            cohort
        };
        time(&mut served, "dashboard", insights.dashboard(scope_any)).await?;
        time(&mut served, "learner", insights.learner(scope, learner)).await?;
        // A node nobody in the cohort reached is an answer too (404 on the page).
        let t = Instant::now();
        let _ = insights.node(cohort, node).await;
        served.entry("node").or_default().push(t.elapsed());
        time(&mut served, "health", insights.health()).await?;
        time(&mut served, "pulse", insights.pulse.read(cohort)).await?;
        // The same queries with the cache out of the way, now and then.
        if rng.gen_bool(0.1) {
            time(
                &mut uncached,
                "dashboard",
                insights.dashboard_uncached(cohort),
            )
            .await?;
            time(
                &mut uncached,
                "learner",
                insights.learner_uncached(scope, learner),
            )
            .await?;
            let t = Instant::now();
            let _ = insights.node_uncached(cohort, node).await;
            uncached.entry("node").or_default().push(t.elapsed());
        }
        if Instant::now() >= next_sample {
            next_sample += Duration::from_secs(1);
            if let Some(at_ms) = refresher::refreshed_at_ms(redis).await? {
                let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
                staleness = staleness.max((now_ms as f64 - at_ms as f64) / 1000.0);
            }
            if let Some(round) = insights.last_round()
                && slowest.as_ref().is_none_or(|s| round.took > s.took)
            {
                slowest = Some(round);
            }
        }
    }
    let ingested = ingest.await??;
    let ingest_rate = ingest_flat_out(&insights, &targets).await?;
    let summarise = |m: BTreeMap<&str, Vec<Duration>>| {
        m.into_iter()
            .map(|(k, mut v)| (k.to_owned(), P95::of(&mut v, 1e-3)))
            .collect::<BTreeMap<_, _>>()
    };
    let counts: BTreeMap<&str, usize> = served.iter().map(|(k, v)| (*k, v.len())).collect();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(db)
        .await?;
    Ok(json!({
        "learners": args.learners,
        "events": events,
        "queries_ms": summarise(served),
        "uncached_ms": summarise(uncached),
        "samples": counts,
        "staleness_s": round3(staleness),
        "ingest_events_per_s": round3(ingest_rate),
        "ingested_during_reads": ingested,
        "first_refresh_s": first_refresh_s,
        "refresh_s": refreshed_views,
        "slowest_round_while_reading": slowest.map(|r| json!({
            "total_s": round3(r.took.as_secs_f64()),
            "events": r.events,
            "parts_s": r.views.iter()
                .map(|(v, d)| (v.to_string(), round3(d.as_secs_f64())))
                .collect::<BTreeMap<_, _>>(),
        })),
    }))
}

async fn time<T, E: Into<anyhow::Error>>(
    into: &mut BTreeMap<&'static str, Vec<Duration>>,
    name: &'static str,
    f: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<()> {
    let t = Instant::now();
    f.await.map_err(Into::into)?;
    into.entry(name).or_default().push(t.elapsed());
    Ok(())
}

/// A mix of what learners do, for random seeded learners on real nodes.
fn event(rng: &mut StdRng, learners: &[(Uuid, Uuid)], nodes: &[i64]) -> Event {
    let (_, user) = learners[rng.gen_range(0..learners.len())];
    let node = nodes[rng.gen_range(0..nodes.len())];
    match rng.gen_range(0..10) {
        0..=3 => Event::page_view(user, "/paths/python-foundations"),
        4..=5 => Event::new(user, Kind::Run),
        6 => Event::new(user, Kind::NodeViewed).on_node(node),
        7 => Event::new(user, Kind::Submitted).on_node(node),
        _ => {
            let passed = rng.gen_bool(0.6);
            Event::verdict(
                user,
                node,
                passed,
                if passed { "accepted" } else { "wrong_answer" },
            )
        }
    }
}

/// Sends `rate` events per second for `seconds`, in 10 ms slices; how many.
async fn ingest_at(
    insights: Insights,
    learners: Vec<(Uuid, Uuid)>,
    nodes: Vec<i64>,
    rate: u32,
    seconds: u64,
) -> anyhow::Result<u64> {
    let mut rng = StdRng::seed_from_u64(11);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let per_tick = (f64::from(rate) / 100.0).max(1.0) as usize;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut sent = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        for _ in 0..per_tick {
            insights
                .events
                .send(event(&mut rng, &learners, &nodes))
                .await?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// Events per second from 8 producers pushing as fast as the writer takes them.
async fn ingest_flat_out(insights: &Insights, targets: &Targets) -> anyhow::Result<f64> {
    const PRODUCERS: u64 = 8;
    const EACH: u64 = 25_000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..PRODUCERS {
        let insights = insights.clone();
        let learners = targets.learners.clone();
        let nodes = targets.nodes.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + p);
            for _ in 0..EACH - 1 {
                insights
                    .events
                    .send(event(&mut rng, &learners, &nodes))
                    .await?;
            }
            // The last one waits for its commit: the writer is in order, so all are in.
            insights
                .events
                .record(event(&mut rng, &learners, &nodes))
                .await?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((PRODUCERS * EACH) as f64 / started.elapsed().as_secs_f64())
}

async fn clear(redis: &Redis) {
    use fred::prelude::*;
    let pattern = format!("{}*", redis.prefix.as_str());
    let keys: Vec<String> = match redis
        .pool
        .next()
        .custom(fred::cmd!("KEYS"), vec![pattern])
        .await
    {
        Ok(keys) => keys,
        Err(_) => return,
    };
    if !keys.is_empty() {
        let _: Result<i64, _> = redis.pool.del(keys).await;
    }
}
