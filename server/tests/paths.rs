//! Learning paths against a real PostgreSQL: the recursive CTEs give the same
//! answers as core's reference rules on random graphs; content import is all or
//! nothing and idempotent; an attempt unlocks exactly what the rules say.

use eduscale_core::code::{Checker, Limits, TestCase};
use eduscale_core::paths::testing::{arb_graph, arb_progress};
use eduscale_core::paths::{self as rules, NodeKind, NodeStatus, PathGraph, Progress};
use eduscale_server::paths::content::{self, NodeBody, PathContent};
use eduscale_server::paths::{import, progress, queries};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use uuid::Uuid;

async fn learner(db: &PgPool) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'Ada', 'x') RETURNING id",
    )
    .bind(format!("{}@example.com", Uuid::new_v4()))
    .fetch_one(db)
    .await
    .expect("user")
}

async fn dummy_challenge(db: &PgPool) {
    eduscale_server::challenges::create(
        db,
        &eduscale_server::challenges::NewChallenge {
            slug: "dummy".into(),
            title: "Dummy".into(),
            statement: String::new(),
            checker: Checker::Exact,
            limits: Limits::default(),
            tests: vec![TestCase {
                stdin: String::new(),
                expected: "x".into(),
                visible: false,
            }],
        },
    )
    .await
    .expect("challenge");
}

/// Stores `graph` as a path (every non-lesson node judged by the dummy challenge).
async fn store_graph(db: &PgPool, slug: &str, graph: &PathGraph) -> Uuid {
    let bodies = graph
        .nodes
        .iter()
        .map(|n| match n.kind {
            NodeKind::Lesson => NodeBody::Lesson {
                html: String::new(),
            },
            _ => NodeBody::Challenge {
                slug: "dummy".into(),
            },
        })
        .collect();
    let path = PathContent {
        slug: slug.into(),
        title: slug.into(),
        summary: String::new(),
        language: eduscale_core::code::Language::Python,
        order: 0,
        graph: graph.clone(),
        bodies,
        hash: Uuid::new_v4().to_string(),
    };
    let content = content::Content {
        challenges: Vec::new(),
        paths: vec![path],
    };
    import::import(db, &content).await.expect("import");
    queries::find(db, slug)
        .await
        .expect("find")
        .expect("path")
        .id
}

async fn store_progress(db: &PgPool, user: Uuid, path: Uuid, progress: &[Option<Progress>]) {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM path_nodes WHERE path_id = $1 ORDER BY position")
            .bind(path)
            .fetch_all(db)
            .await
            .expect("ids");
    for (id, p) in ids.iter().zip(progress) {
        let Some(p) = p else { continue };
        sqlx::query(
            "INSERT INTO progress (user_id, node_id, path_id, stage, best_score, attempts, failures)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user)
        .bind(id)
        .bind(path)
        .bind(p.stage.as_str())
        .bind(i16::from(p.best_score))
        .bind(p.attempts as i32)
        .bind(p.failures.min(p.attempts) as i32)
        .execute(db)
        .await
        .expect("progress");
    }
}

async fn node_id(db: &PgPool, path: Uuid, position: usize) -> i64 {
    sqlx::query_scalar("SELECT id FROM path_nodes WHERE path_id = $1 AND position = $2")
        .bind(path)
        .bind(position as i32)
        .fetch_one(db)
        .await
        .expect("node")
}

/// The next random graph with random progress on it, as the table stores it
/// (failures never above attempts, so the reference sees what is stored).
fn random_case(runner: &mut TestRunner) -> (PathGraph, Vec<Option<Progress>>) {
    let cases = arb_graph(14).prop_flat_map(|g| {
        let p = arb_progress(&g);
        (proptest::strategy::Just(g), p)
    });
    let (graph, mut progress) = cases.new_tree(runner).expect("case").current();
    for p in progress.iter_mut().flatten() {
        p.failures = p.failures.min(p.attempts);
    }
    (graph, progress)
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn the_sql_gives_the_reference_answers_on_random_graphs(db: PgPool) {
    dummy_challenge(&db).await;
    let mut runner = TestRunner::deterministic();
    for case in 0..60 {
        let (graph, progress) = random_case(&mut runner);
        let user = learner(&db).await;
        let path = store_graph(&db, &format!("random-{case}"), &graph).await;
        store_progress(&db, user, path, &progress).await;
        let context = || format!("case {case}\ngraph: {graph:#?}\nprogress: {progress:#?}");

        let sql = queries::statuses(&db, user, path).await.expect("statuses");
        assert_eq!(
            sql,
            rules::statuses(&graph, &progress),
            "statuses differ\n{}",
            context()
        );

        let open = queries::open_nodes(&db, user, path).await.expect("open");
        assert_eq!(open, rules::open_nodes(&graph, &progress), "{}", context());

        for n in 0..graph.nodes.len() {
            let id = node_id(&db, path, n).await;
            let up: Vec<usize> = {
                let mut v: Vec<usize> = queries::ancestors(&db, user, id)
                    .await
                    .expect("up")
                    .iter()
                    .map(|r| r.position)
                    .collect();
                v.sort_unstable();
                v
            };
            assert_eq!(
                up,
                rules::ancestors(&graph, n),
                "ancestors of {n}\n{}",
                context()
            );
            let down: Vec<usize> = {
                let mut v: Vec<usize> = queries::descendants(&db, user, id)
                    .await
                    .expect("down")
                    .iter()
                    .map(|r| r.position)
                    .collect();
                v.sort_unstable();
                v
            };
            assert_eq!(
                down,
                rules::descendants(&graph, n),
                "descendants of {n}\n{}",
                context()
            );
            let left: Vec<usize> = queries::remaining(&db, user, id)
                .await
                .expect("remaining")
                .iter()
                .map(|r| r.position)
                .collect();
            assert_eq!(
                left,
                rules::remaining(&graph, &progress, n),
                "remaining to {n}\n{}",
                context()
            );
        }
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn attempts_unlock_what_the_reference_says_on_random_graphs(db: PgPool) {
    dummy_challenge(&db).await;
    let mut runner = TestRunner::deterministic();
    let mut rng = eduscale_core::paths::SplitMix64::new(11);
    for case in 0..40 {
        let (graph, mut progress) = random_case(&mut runner);
        let user = learner(&db).await;
        let path = store_graph(&db, &format!("attempts-{case}"), &graph).await;
        store_progress(&db, user, path, &progress).await;
        // A few attempts in a row, each on an open node with a random score, and
        // one on a locked node when there is one.
        for step in 0..4 {
            let open = rules::open_nodes(&graph, &progress);
            let shown =
                format!("case {case} step {step}\ngraph: {graph:#?}\nprogress: {progress:#?}");
            let context = || shown.clone();
            if let Some(locked) = (0..graph.nodes.len()).find(|n| open.binary_search(n).is_err()) {
                let refused =
                    progress::attempt(&db, user, path, node_id(&db, path, locked).await, 100).await;
                assert!(
                    matches!(refused, Err(progress::ProgressError::Locked)),
                    "{}",
                    context()
                );
            }
            let Some(&n) = open.get(rng.below(open.len().max(1))) else {
                break;
            };
            let score = [0, 40, 79, 80, 100][rng.below(5)];
            let attempt = progress::attempt(&db, user, path, node_id(&db, path, n).await, score)
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", context()));
            let rows = rules::record_attempt(&graph, &progress, n, score);
            let skipped: Vec<usize> = rows.iter().map(|(i, _)| *i).filter(|i| *i != n).collect();
            for (i, row) in rows {
                progress[i] = Some(row);
            }
            let after = rules::open_nodes(&graph, &progress);
            let unlocked: Vec<usize> = after
                .iter()
                .filter(|a| open.binary_search(a).is_err())
                .copied()
                .collect();
            assert_eq!(
                attempt.open,
                after,
                "open after node {n} scored {score}\n{}",
                context()
            );
            assert_eq!(
                attempt.unlocked,
                unlocked,
                "unlocked by node {n} scored {score}\n{}",
                context()
            );
            assert_eq!(attempt.skipped, skipped, "{}", context());
            assert_eq!(attempt.passed, score >= graph.nodes[n].pass_score);
        }
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_attempt_follows_the_graph_after_a_re_import(db: PgPool) {
    dummy_challenge(&db).await;
    let first = PathGraph {
        nodes: vec![node("a", NodeKind::Lesson), node("b", NodeKind::Lesson)],
        edges: Vec::new(),
    };
    let path = store_graph(&db, "changing", &first).await;
    let user = learner(&db).await;
    let b = node_id(&db, path, 1).await;
    // Both are roots: b is open, and an attempt there (which reads the graph) passes.
    let (a_id, b_passed) = (
        node_id(&db, path, 0).await,
        progress::attempt(&db, user, path, b, 100)
            .await
            .expect("b is open"),
    );
    assert!(b_passed.passed);
    // Re-imported with a third node behind a: the same ids, a new edge. The
    // graph held in memory from the first attempt must not answer for it.
    let mut second = first.clone();
    second.nodes.push(node("c", NodeKind::Lesson));
    second.edges.push(eduscale_core::paths::Edge {
        from: 0,
        to: 2,
        min_score: 100,
        group: 0,
    });
    assert_eq!(store_graph(&db, "changing", &second).await, path);
    let c = node_id(&db, path, 2).await;
    assert!(matches!(
        progress::attempt(&db, user, path, c, 100).await,
        Err(progress::ProgressError::Locked)
    ));
    let read = progress::attempt(&db, user, path, a_id, 100)
        .await
        .expect("a");
    assert_eq!(read.unlocked, vec![2], "c opens behind a");
}

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content")
}

async fn counts(db: &PgPool) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM challenges), (SELECT count(*) FROM challenge_tests),
                (SELECT count(*) FROM paths), (SELECT count(*) FROM path_edges)",
    )
    .fetch_one(db)
    .await
    .expect("counts")
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn importing_the_shipped_content_twice_writes_it_once(db: PgPool) {
    let content = content::load(&shipped()).unwrap_or_else(|e| panic!("{e}"));
    let first = import::import(&db, &content).await.expect("import");
    assert_eq!(first.challenges_created, content.challenges.len());
    assert_eq!(first.paths_created, content.paths.len());
    let before = counts(&db).await;
    let again = import::import(&db, &content::load(&shipped()).expect("load"))
        .await
        .expect("import");
    assert_eq!(
        again.challenges_unchanged,
        content.challenges.len(),
        "{again:?}"
    );
    assert_eq!(again.paths_unchanged, content.paths.len(), "{again:?}");
    assert_eq!(counts(&db).await, before);
}

/// A copy of the shipped content in a fresh folder, changed by `edit`.
fn broken_copy(edit: impl FnOnce(&Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eduscale-content-{}", Uuid::new_v4()));
    copy_dir(&shipped(), &dir);
    edit(&dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn first_challenge_dir(root: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("challenges"))
        .expect("challenges")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    dirs.remove(0)
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).expect("write");
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn broken_content_fails_with_a_pointed_message_and_changes_nothing(db: PgPool) {
    import::import(&db, &content::load(&shipped()).expect("load"))
        .await
        .expect("import");
    let before = counts(&db).await;

    let bad_toml = broken_copy(|root| {
        let file = first_challenge_dir(root).join("challenge.toml");
        let text = std::fs::read_to_string(&file).expect("read");
        std::fs::write(&file, format!("{text}\n[[tests]\ninput = 1\n")).expect("write");
    });
    let unknown_language = broken_copy(|root| {
        let file = first_challenge_dir(root).join("challenge.toml");
        let text = std::fs::read_to_string(&file).expect("read");
        let fixed = text.replacen("languages = [", "languages = [\"cobol\", ", 1);
        std::fs::write(&file, fixed).expect("write");
    });
    let missing_file = broken_copy(|root| {
        std::fs::remove_file(first_challenge_dir(root).join("statement.md")).expect("rm");
    });
    let cycle = broken_copy(|root| {
        let file = root.join("paths/python-foundations.toml");
        let text = std::fs::read_to_string(&file).expect("read");
        // The first node requires the last one: every path's last node depends on its first.
        let last_key = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("key = "))
            .next_back()
            .expect("a key")
            .trim_matches('"')
            .to_owned();
        let first = text.find("[[nodes]]").expect("nodes");
        let key_line = text[first..].find("key = ").expect("key") + first;
        let end = text[key_line..].find('\n').expect("eol") + key_line;
        let with_cycle = format!(
            "{}\nrequires = [\"{last_key}\"]{}",
            &text[..end],
            &text[end..]
        );
        std::fs::write(&file, with_cycle).expect("write");
    });

    for (dir, file_part, words) in [
        (&bad_toml, "challenge.toml:", "invalid"),
        (
            &unknown_language,
            "challenge.toml:",
            "unknown language \"cobol\"",
        ),
        (&missing_file, "statement.md", "missing file"),
        (&cycle, "python-foundations.toml", "cycle"),
    ] {
        let errors = content::load(dir).expect_err("broken content must not load");
        let shown = errors.to_string();
        assert!(shown.contains(file_part), "{shown}");
        assert!(
            shown.to_lowercase().contains(&words.to_lowercase()),
            "{shown}"
        );
        std::fs::remove_dir_all(dir).ok();
    }
    assert_eq!(counts(&db).await, before);
    // The line is pointed at, not just the file.
    let unknown_language = broken_copy(|root| {
        let file = first_challenge_dir(root).join("challenge.toml");
        replace_in(&file, "languages = [", "languages = [\"cobol\", ");
    });
    let errors = content::load(&unknown_language).expect_err("broken");
    assert!(errors.0.iter().any(|e| e.line.is_some()), "{errors}");
    std::fs::remove_dir_all(unknown_language).ok();
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn the_database_refuses_a_cycle_that_slipped_past_the_checks(db: PgPool) {
    dummy_challenge(&db).await;
    let graph = PathGraph {
        nodes: (0..3)
            .map(|i| eduscale_core::paths::Node {
                key: format!("n{i}"),
                kind: NodeKind::Challenge,
                title: format!("N{i}"),
                remedial_for: None,
                guards: Vec::new(),
                pass_score: 100,
                remediate_after_failures: 3,
                remediate_below_score: 50,
            })
            .collect(),
        edges: [(0, 1), (1, 2), (2, 0)]
            .into_iter()
            .enumerate()
            .map(|(g, (from, to))| eduscale_core::paths::Edge {
                from,
                to,
                min_score: 0,
                group: g as u32,
            })
            .collect(),
    };
    let path = PathContent {
        slug: "loop".into(),
        title: "Loop".into(),
        summary: String::new(),
        language: eduscale_core::code::Language::Python,
        order: 0,
        graph,
        bodies: vec![
            NodeBody::Challenge {
                slug: "dummy".into()
            };
            3
        ],
        hash: "h".into(),
    };
    let err = import::import(
        &db,
        &content::Content {
            challenges: Vec::new(),
            paths: vec![path],
        },
    )
    .await
    .expect_err("a cycle");
    assert!(matches!(err, import::ImportError::Cycle { .. }), "{err}");
    assert_eq!(counts(&db).await.2, 0, "nothing half-imported");
}

fn node(key: &str, kind: NodeKind) -> eduscale_core::paths::Node {
    eduscale_core::paths::Node {
        key: key.into(),
        kind,
        title: key.into(),
        remedial_for: None,
        guards: Vec::new(),
        pass_score: 100,
        remediate_after_failures: 2,
        remediate_below_score: 30,
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn attempts_unlock_remediate_and_test_out_as_the_rules_say(db: PgPool) {
    use eduscale_core::paths::Edge;
    dummy_challenge(&db).await;
    // 0 intro -> 1 a -> 3 c (needs a with 80) ; 0 -> 2 b ; 4 help (remedial for a) ;
    // 5 check (checkpoint after intro, guards a and b) ; 6 end needs c or b (any of).
    let mut nodes = vec![
        node("intro", NodeKind::Lesson),
        node("a", NodeKind::Challenge),
        node("b", NodeKind::Challenge),
        node("c", NodeKind::Challenge),
        node("help", NodeKind::Challenge),
        node("check", NodeKind::Checkpoint),
        node("end", NodeKind::Challenge),
    ];
    nodes[4].remedial_for = Some(1);
    nodes[5].guards = vec![1, 2];
    let e = |from, to, min_score, group| Edge {
        from,
        to,
        min_score,
        group,
    };
    let graph = PathGraph {
        nodes,
        edges: vec![
            e(0, 1, 100, 0),
            e(0, 2, 100, 0),
            e(1, 3, 80, 0),
            e(0, 5, 100, 0),
            e(3, 6, 100, 0),
            e(2, 6, 100, 0),
        ],
    };
    graph.validate().expect("valid");
    let path = store_graph(&db, "hand-made", &graph).await;
    let user = learner(&db).await;
    let id = |i| node_id(&db, path, i);

    // Locked nodes refuse attempts.
    let a = id(1).await;
    assert!(matches!(
        progress::attempt(&db, user, path, a, 100).await,
        Err(progress::ProgressError::Locked)
    ));

    // Reading the lesson opens a, b and the checkpoint.
    let read = progress::attempt(&db, user, path, id(0).await, 100)
        .await
        .expect("read");
    assert!(read.passed);
    assert_eq!(read.unlocked, vec![1, 2, 5]);

    // Two failures on a open its remedial node.
    let first = progress::attempt(&db, user, path, a, 50)
        .await
        .expect("try");
    assert!(!first.passed && first.unlocked.is_empty());
    let second = progress::attempt(&db, user, path, a, 60)
        .await
        .expect("try");
    assert_eq!(second.unlocked, vec![4], "remedial opens after 2 failures");
    assert!(second.open.contains(&4));
    let now = |db: &PgPool| {
        let db = db.clone();
        async move { queries::statuses(&db, user, path).await.expect("statuses") }
    };
    assert_eq!(now(&db).await[4], NodeStatus::Open);

    // Passing the checkpoint tests out of a and b: c and end follow the rules.
    let check = progress::attempt(&db, user, path, id(5).await, 100)
        .await
        .expect("check");
    assert!(check.passed);
    assert_eq!(check.skipped, vec![1, 2]);
    let statuses = now(&db).await;
    assert_eq!(statuses[1], NodeStatus::Skipped);
    // c opens (a skipped satisfies its 80); end opens through b (any of b or c).
    assert_eq!(check.unlocked, vec![3, 6]);

    // The database agrees with the reference on the final state.
    let (g, _) = queries::graph(&mut db.acquire().await.expect("conn"), path)
        .await
        .expect("graph");
    let stored = queries::progress(&db, user, path, g.nodes.len())
        .await
        .expect("progress");
    assert_eq!(statuses, rules::statuses(&g, &stored));
    assert_eq!(check.open, rules::open_nodes(&g, &stored));
    // a no longer struggles (tested out), so its untouched remedial node closes again;
    // the next thing to do is c, the open node nearest the start.
    assert_eq!(statuses[4], NodeStatus::Locked);
    let next = rules::recommend(&g, &stored).expect("something to do");
    assert_eq!(next.node, 3, "{next:?}");
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn opening_a_node_starts_its_progress_only_when_it_is_open(db: PgPool) {
    dummy_challenge(&db).await;
    let graph = PathGraph {
        nodes: vec![
            node("first", NodeKind::Challenge),
            node("second", NodeKind::Challenge),
        ],
        edges: vec![eduscale_core::paths::Edge {
            from: 0,
            to: 1,
            min_score: 100,
            group: 0,
        }],
    };
    let path = store_graph(&db, "two", &graph).await;
    let user = learner(&db).await;
    let (first, second) = (node_id(&db, path, 0).await, node_id(&db, path, 1).await);
    assert!(matches!(
        progress::open(&db, user, path, second).await,
        Err(progress::ProgressError::Locked)
    ));
    assert_eq!(
        progress::open(&db, user, path, first).await.expect("open"),
        NodeStatus::InProgress
    );
    let statuses = queries::statuses(&db, user, path).await.expect("statuses");
    assert_eq!(statuses, vec![NodeStatus::InProgress, NodeStatus::Locked]);
}
