//! `eduscale bench paths`: the unlock queries at scale.
//!
//! A scratch database (made beside the configured one, dropped at the end)
//! gets one 1,000-node path from core's generator and 10,000 learners with
//! varied progress (loaded with COPY), then:
//! - `open_nodes_ms`: the recursive CTE answering "what is open" for a random
//!   learner, one at a time;
//! - `unlocks_after_pass_ms`: a whole passing attempt at an open node of a random
//!   learner: lock, statuses before, the new rows, statuses after, commit.
//!
//! Progress here is made by a fast layered rule (every node above a learner's
//! frontier layer passed, some of the frontier tried), not by replaying
//! `generate_progress` (which replays every attempt through the rules and is
//! too slow for 10,000 learners on 1,000 nodes); the queries do not care how the
//! rows came about.

use super::P95;
use crate::cli::BenchArgs;
use crate::config::Config;
use eduscale_core::code::{Checker, Limits, TestCase};
use eduscale_core::paths::{NodeKind, PathGraph, SplitMix64, generate_graph};
use eduscale_server::paths::content::{Content, NodeBody, PathContent};
use eduscale_server::paths::{import, progress, queries};
use serde_json::json;
use sqlx::{Connection, Executor, PgPool};
use std::time::{Duration, Instant};
use uuid::Uuid;

const NODES: usize = 1_000;
const LEARNERS: usize = 10_000;

/// Runs the benchmark and prints the JSON object.
pub async fn run(config: &Config, args: &BenchArgs) -> anyhow::Result<()> {
    let samples = if args.quick { 100 } else { 500 };
    let scratch = format!("eduscale_bench_paths_{}", std::process::id());
    let url = super::with_database(&config.database_url, &scratch)?;
    let admin = super::with_database(&config.database_url, "postgres")?;
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)").as_str())
        .await?;
    conn.execute(format!("CREATE DATABASE {scratch}").as_str())
        .await?;
    let result = measure(&url, samples).await;
    if args.keep_db {
        eprintln!("kept the scratch database {scratch}");
    } else if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
        let _ = c
            .execute(format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)").as_str())
            .await;
    }
    println!("{}", result?);
    Ok(())
}

async fn measure(url: &str, samples: usize) -> anyhow::Result<serde_json::Value> {
    let db = eduscale_server::db::connect(url, 4).await?;
    eduscale_server::db::migrate(&db, url).await?;
    let graph = generate_graph(42, NODES);
    let path = store_path(&db, &graph).await?;
    let learners = store_learners(&db, &graph, path).await?;
    sqlx::query("VACUUM ANALYZE").execute(&db).await?;

    let mut rng = SplitMix64::new(7);
    // Warm-up: plans cached, pages in memory.
    for _ in 0..20 {
        queries::open_nodes(&db, learners[rng.below(learners.len())], path).await?;
    }
    let mut open_times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let learner = learners[rng.below(learners.len())];
        let started = Instant::now();
        queries::open_nodes(&db, learner, path).await?;
        open_times.push(started.elapsed());
    }

    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM path_nodes WHERE path_id = $1 ORDER BY position")
            .bind(path)
            .fetch_all(&db)
            .await?;
    let mut unlock_times: Vec<Duration> = Vec::with_capacity(samples);
    let mut unlocked_total = 0usize;
    while unlock_times.len() < samples {
        let learner = learners[rng.below(learners.len())];
        let open = queries::open_nodes(&db, learner, path).await?;
        let Some(&node) = open.get(rng.below(open.len().max(1))) else {
            continue;
        };
        let started = Instant::now();
        let attempt = progress::attempt(&db, learner, path, ids[node], 100).await?;
        unlock_times.push(started.elapsed());
        unlocked_total += attempt.unlocked.len();
    }
    db.close().await;
    Ok(json!({
        "nodes": NODES,
        "edges": graph.edges.len(),
        "learners": LEARNERS,
        "progress_rows": PROGRESS_ROWS.load(std::sync::atomic::Ordering::Relaxed),
        "open_nodes_ms": P95::of(&mut open_times, 1e-3),
        "unlocks_after_pass_ms": P95::of(&mut unlock_times, 1e-3),
        "unlocked_per_pass": super::round3(unlocked_total as f64 / samples as f64),
    }))
}

static PROGRESS_ROWS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn store_path(db: &PgPool, graph: &PathGraph) -> anyhow::Result<Uuid> {
    eduscale_server::challenges::create(
        db,
        &eduscale_server::challenges::NewChallenge {
            slug: "bench".into(),
            title: "Bench".into(),
            statement: String::new(),
            checker: Checker::Exact,
            limits: Limits::default(),
            tests: vec![TestCase {
                stdin: String::new(),
                expected: "ok".into(),
                visible: false,
            }],
        },
    )
    .await?;
    let bodies = graph
        .nodes
        .iter()
        .map(|n| match n.kind {
            NodeKind::Lesson => NodeBody::Lesson {
                html: String::new(),
            },
            _ => NodeBody::Challenge {
                slug: "bench".into(),
            },
        })
        .collect();
    let content = Content {
        challenges: Vec::new(),
        paths: vec![PathContent {
            slug: "bench".into(),
            title: "Bench".into(),
            summary: String::new(),
            language: eduscale_core::code::Language::Python,
            order: 0,
            graph: graph.clone(),
            bodies,
            hash: "bench".into(),
        }],
    };
    import::import(db, &content).await?;
    Ok(queries::find(db, "bench")
        .await?
        .ok_or_else(|| anyhow::anyhow!("bench path missing"))?
        .id)
}

/// Inserts the learners and their progress with COPY; returns their ids.
async fn store_learners(db: &PgPool, graph: &PathGraph, path: Uuid) -> anyhow::Result<Vec<Uuid>> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM path_nodes WHERE path_id = $1 ORDER BY position")
            .bind(path)
            .fetch_all(db)
            .await?;
    let layers = graph.layers();
    let depth = layers.iter().copied().max().unwrap_or(0) as usize + 1;
    let learners: Vec<Uuid> = (0..LEARNERS).map(|_| Uuid::new_v4()).collect();
    let mut conn = db.acquire().await?;
    let mut users = conn
        .copy_in_raw("COPY users (id, email, display_name, password_hash) FROM STDIN")
        .await?;
    let mut chunk = String::new();
    for (i, id) in learners.iter().enumerate() {
        chunk.push_str(&format!("{id}\tlearner{i}@bench.example\tLearner {i}\tx\n"));
    }
    users.send(chunk.as_bytes()).await?;
    users.finish().await?;

    let mut rng = SplitMix64::new(99);
    let mut copy = conn
        .copy_in_raw("COPY progress (user_id, node_id, path_id, stage, best_score, attempts, failures) FROM STDIN")
        .await?;
    let mut rows = 0usize;
    for learner in &learners {
        // Frontier layer: spread over the whole path, a few learners at the very start.
        let frontier = rng.below(depth + 1);
        let mut buf = String::new();
        for (n, node) in graph.nodes.iter().enumerate() {
            let layer = layers[n] as usize;
            let (stage, best, attempts, failures) = if node.remedial_for.is_some() {
                if layer < frontier && rng.below(4) == 0 {
                    ("passed", 100, 1, 0)
                } else {
                    continue;
                }
            } else if layer < frontier {
                let extra = rng.below(3);
                ("passed", 100 - rng.below(15), 1 + extra, extra)
            } else if layer == frontier && rng.below(3) == 0 {
                let tries = 1 + rng.below(4);
                ("in_progress", rng.below(90), tries, tries)
            } else {
                continue;
            };
            buf.push_str(&format!(
                "{learner}\t{}\t{path}\t{stage}\t{best}\t{attempts}\t{failures}\n",
                ids[n]
            ));
            rows += 1;
        }
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await?;
    PROGRESS_ROWS.store(rows, std::sync::atomic::Ordering::Relaxed);
    Ok(learners)
}
