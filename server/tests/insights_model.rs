//! The knowledge-tracing model against a real PostgreSQL: learners generated from
//! known learning curves are ranked well on held-out learners, the model agrees
//! with the hidden truth, and a stored model reads back as fitted.

use eduscale_core::insights::auc::auc;
use eduscale_core::insights::pfa::PfaModel;
use eduscale_server::insights::model::{self, ModelError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const SKILLS: [&str; 8] = [
    "loops",
    "strings",
    "arrays",
    "recursion",
    "sorting",
    "graphs",
    "hashing",
    "dynamic-programming",
];

/// A challenge node: its id, its skills' indices, and how much easier (in
/// log-odds) it is than its skills alone say.
struct Node {
    id: i64,
    skills: Vec<usize>,
    easiness: f64,
}

/// One path of 16 challenge nodes, each needing one or two skills, of
/// difficulty 1 to 5, in path order.
async fn path(db: &PgPool) -> Vec<Node> {
    let path: Uuid = sqlx::query_scalar(
        "INSERT INTO paths (slug, title, language) VALUES ('tracing', 'Tracing', 'python') RETURNING id",
    )
    .fetch_one(db)
    .await
    .expect("path");
    let mut nodes = Vec::new();
    for i in 0..16usize {
        let mut skills = vec![i % SKILLS.len()];
        if i % 3 == 2 {
            skills.push((i / 3 + 4) % SKILLS.len());
        }
        let names: Vec<&str> = skills.iter().map(|k| SKILLS[*k]).collect();
        let difficulty = (i * 7 % 5 + 1) as i16;
        let challenge: Uuid = sqlx::query_scalar(
            "INSERT INTO challenges (slug, title, skills, difficulty) VALUES ($1, $1, $2, $3) RETURNING id",
        )
        .bind(format!("challenge-{i}"))
        .bind(&names)
        .bind(difficulty)
        .fetch_one(db)
        .await
        .expect("challenge");
        let node: i64 = sqlx::query_scalar(
            "INSERT INTO path_nodes (path_id, key, position, kind, title, challenge_id)
             VALUES ($1, $2, $3, 'challenge', $2, $4) RETURNING id",
        )
        .bind(path)
        .bind(format!("node-{i}"))
        .bind(i as i32)
        .bind(challenge)
        .fetch_one(db)
        .await
        .expect("node");
        nodes.push(Node {
            id: node,
            skills,
            easiness: 0.7 * f64::from(3 - difficulty),
        });
    }
    nodes
}

/// A learner's hidden curve on one skill, as `eduscale seed` stores it.
struct Curve {
    initial: f64,
    mastered: f64,
    learn_rate: f64,
}

impl Curve {
    fn p(&self, practice: u32) -> f64 {
        self.mastered
            - (self.mastered - self.initial) * (-self.learn_rate * f64::from(practice)).exp()
    }
}

/// What [`generate`] stored.
struct Generated {
    /// Verdicts in all.
    attempts: usize,
    /// The AUC of the true probabilities on the attempts of the learners
    /// `evaluate` holds out at [`HOLDOUT`]: the best any model could do there.
    truth_auc: f64,
}

/// The held-out share the tests evaluate with.
const HOLDOUT: f64 = 0.25;

/// `learners` learners of varied ability work through the path in order, up to
/// six attempts a node; an attempt passes with the product of its skills'
/// current probabilities, shifted by the node's difficulty. Stores the users,
/// their verdicts and the truth.
async fn generate(db: &PgPool, learners: usize, seed: u64) -> Generated {
    let nodes = path(db).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let difficulty: Vec<f64> = SKILLS.iter().map(|_| rng.gen_range(-1.0..1.0)).collect();
    let start = OffsetDateTime::now_utc() - Duration::days(60);

    // Ids from the seeded generator: the held-out split hashes them, so random
    // ids would make the split, and the AUC, differ from run to run.
    let ids: Vec<Uuid> = (0..learners)
        .map(|_| uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid())
        .collect();
    sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash)
         SELECT id, id || '@example.com', 'Learner', 'x' FROM unnest($1::uuid[]) AS u (id)",
    )
    .bind(&ids)
    .execute(db)
    .await
    .expect("users");

    let (mut users, mut node_ids, mut passed, mut at) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut t_users, mut t_skills, mut t_initial, mut t_mastered, mut t_rate) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut held_out_truth = Vec::new();
    for user in &ids {
        // A sum of uniforms: bell-shaped, standard deviation 1.5 log-odds.
        let ability: f64 = (0..4).map(|_| rng.gen_range(-1.3..1.3)).sum();
        let curves: Vec<Curve> = difficulty
            .iter()
            .map(|d| Curve {
                initial: sigmoid(ability - d - 0.5),
                mastered: rng.gen_range(0.85..0.98),
                learn_rate: rng.gen_range(0.1..0.5),
            })
            .collect();
        let mut practice = [0u32; SKILLS.len()];
        let mut clock = start + Duration::minutes(rng.gen_range(0..10_000));
        let held_out = model::held_out(user, HOLDOUT);
        'path: for node in &nodes {
            for _ in 0..6 {
                let skills: f64 = node
                    .skills
                    .iter()
                    .map(|k| curves[*k].p(practice[*k]))
                    .product();
                let p = sigmoid(logit(skills) + node.easiness);
                let ok = rng.gen_bool(p);
                if held_out {
                    held_out_truth.push((p, ok));
                }
                users.push(*user);
                node_ids.push(node.id);
                passed.push(ok);
                at.push(clock);
                clock += Duration::minutes(rng.gen_range(1..120));
                for k in &node.skills {
                    practice[*k] += 1;
                }
                if ok {
                    continue 'path;
                }
            }
            // Six failures: this learner gives up here.
            break;
        }
        for (k, c) in curves.iter().enumerate() {
            t_users.push(*user);
            t_skills.push(SKILLS[k]);
            t_initial.push(c.initial);
            t_mastered.push(c.mastered);
            t_rate.push(c.learn_rate);
        }
    }

    sqlx::query(
        "INSERT INTO events (user_id, kind, node_id, passed, verdict, at)
         SELECT u, 'verdict', n, p, CASE WHEN p THEN 'accepted' ELSE 'wrong_answer' END, t
         FROM unnest($1::uuid[], $2::bigint[], $3::bool[], $4::timestamptz[]) AS x (u, n, p, t)",
    )
    .bind(&users)
    .bind(&node_ids)
    .bind(&passed)
    .bind(&at)
    .execute(db)
    .await
    .expect("events");
    sqlx::query(
        "INSERT INTO insights_seed_truth (user_id, skill, initial, mastered, learn_rate)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::float8[], $5::float8[])",
    )
    .bind(&t_users)
    .bind(&t_skills)
    .bind(&t_initial)
    .bind(&t_mastered)
    .bind(&t_rate)
    .execute(db)
    .await
    .expect("truth");
    Generated {
        attempts: users.len(),
        truth_auc: auc(&held_out_truth).expect("both outcomes"),
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn held_out_learners_are_ranked_well_and_the_truth_is_tracked(db: PgPool) {
    let generated = generate(&db, 1000, 42).await;
    let e = model::evaluate(&db, HOLDOUT).await.expect("evaluate");
    assert_eq!(e.model, "pfa");
    assert_eq!(e.attempts, generated.attempts as u64);
    assert_eq!(e.train_attempts + e.test_attempts, e.attempts);
    assert!(e.test_learners > 200 && e.test_learners < 300, "{e:?}");

    let auc = e.auc.expect("both outcomes among held-out attempts");
    assert!(auc >= 0.75, "AUC {auc}: {e:?}");
    // The truth knows each learner's hidden ability; the model only sees attempts.
    assert!(
        generated.truth_auc - auc < 0.06,
        "AUC {auc}, the truth's {}",
        generated.truth_auc
    );
    let r = e.truth_correlation.expect("seeded truth");
    assert!(r > 0.6, "correlation with the truth {r}: {e:?}");
    assert_eq!(e.truth_pairs, e.test_learners * SKILLS.len() as u64);

    let json = serde_json::to_value(&e).expect("json");
    assert_eq!(json["model"], "pfa");
    assert_eq!(json["attempts"], generated.attempts as u64);
    assert!(json["auc"].is_f64());
}

/// Equal up to the last digits JSON keeps.
fn assert_close(a: &PfaModel, b: &PfaModel) {
    assert_eq!(a.skills(), b.skills());
    assert_eq!(a.items(), b.items());
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
    assert!(close(a.intercept, b.intercept));
    assert!(close(a.learner.success, b.learner.success));
    assert!(close(a.learner.failure, b.learner.failure));
    for (_, skill) in a.skills().iter() {
        let (x, y) = (a.skill(skill), b.skill(skill));
        assert!(
            close(x.easiness, y.easiness)
                && close(x.success, y.success)
                && close(x.failure, y.failure)
        );
    }
    for (_, item) in a.items().iter() {
        assert!(close(a.item_easiness(item), b.item_easiness(item)));
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_stored_model_reads_back_as_fitted(db: PgPool) {
    assert!(
        model::load(&db).await.expect("load").is_none(),
        "nothing fitted yet"
    );
    let generated = generate(&db, 150, 7).await;

    let fitted = model::fit_and_store(&db).await.expect("fit");
    assert_eq!(fitted.attempts, generated.attempts as u64);
    let loaded = model::load(&db).await.expect("load").expect("stored");
    assert_close(&loaded, &fitted.model);
    let counts = [("loops", 3, 1), ("graphs", 0, 2)];
    let (p, q) = (
        loaded.predict_counts(&counts, 20, 6),
        fitted.model.predict_counts(&counts, 20, 6),
    );
    assert!((p - q).abs() < 1e-12, "{p} vs {q}");
    let (stored_attempts, auc): (i64, Option<f64>) =
        sqlx::query_as("SELECT attempts, auc FROM insights_models WHERE name = 'pfa'")
            .fetch_one(&db)
            .await
            .expect("row");
    assert_eq!(stored_attempts, generated.attempts as i64);
    assert_eq!(auc, fitted.auc);

    // A refit of the same data replaces the row with the very same model.
    let again = model::fit_and_store(&db).await.expect("refit");
    assert_eq!(again, fitted);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM insights_models")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(rows, 1);
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn attempts_stored_out_of_order_are_replayed_in_time_order(db: PgPool) {
    let nodes = path(&db).await;
    let learner = Uuid::new_v4();
    let now = OffsetDateTime::now_utc();
    // Stored last-first: ids and physical order disagree with time.
    for (minutes_ago, passed) in [(1, true), (3, false), (2, false)] {
        sqlx::query(
            "INSERT INTO events (user_id, kind, node_id, passed, verdict, at)
             VALUES ($1, 'verdict', $2, $3, 'x', $4)",
        )
        .bind(learner)
        .bind(nodes[0].id)
        .bind(passed)
        .bind(now - Duration::minutes(minutes_ago))
        .execute(&db)
        .await
        .expect("event");
    }
    let attempts = model::load_attempts(&db).await.expect("load");
    assert_eq!(attempts.learners, vec![learner]);
    let outcomes: Vec<bool> = attempts.rows.iter().map(|a| a.passed).collect();
    assert_eq!(outcomes, vec![false, false, true]);
    let (examples, _, _) = model::replay(&attempts, |_| true);
    let failures_before: Vec<u32> = examples
        .iter()
        .map(|e| e.features.learner_failures)
        .collect();
    assert_eq!(failures_before, vec![0, 1, 2]);
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn evaluating_without_attempts_says_so(db: PgPool) {
    assert!(matches!(
        model::evaluate(&db, 0.2).await,
        Err(ModelError::NoAttempts)
    ));
    assert!(matches!(
        model::fit_and_store(&db).await,
        Err(ModelError::NoAttempts)
    ));
    assert!(matches!(
        model::evaluate(&db, 1.0).await,
        Err(ModelError::BadHoldout(_))
    ));
}
