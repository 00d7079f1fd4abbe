//! The model against data generated from known learners: it recovers what
//! generated them, ranks held-out attempts nearly as well as the truth does, and
//! is deterministic.

use super::*;
use crate::insights::auc::auc;
use proptest::prelude::*;

/// xorshift64*: a reproducible stream without a `rand` dependency in core.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (a sum of uniforms is enough here).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

/// How the generated learners pass.
#[derive(Clone, Copy)]
enum Truth {
    /// Exactly the PFA form with these weights (shared by every skill) and no
    /// hidden ability: the fit should recover them.
    Pfa {
        skill: SkillWeights,
        learner: LearnerWeights,
    },
    /// A hidden ability per learner, per-skill and per-item easiness; practice
    /// moves the log-odds up by `learn` per `ln(1 + attempts)`.
    Ability { spread: f64, learn: f64 },
}

/// One generated data set: examples with the true probability of each.
struct Generated {
    skills: Skills,
    items: Items,
    /// Each item's true easiness, its skills' included.
    item_easiness: Vec<f64>,
    /// Each item's skills.
    item_skills: Vec<Vec<SkillId>>,
    examples: Vec<Example>,
    truth: Vec<f64>,
    /// The learner behind each example.
    learners: Vec<u32>,
}

fn generate(truth: Truth, learners: u32, seed: u64) -> Generated {
    let mut rng = Rng(seed);
    let mut skills = Skills::new();
    let ids: Vec<SkillId> = (0..8)
        .map(|k| skills.intern(&format!("skill-{k}")))
        .collect();
    let easiness: Vec<f64> = (0..8).map(|_| rng.unit() * 2.0 - 1.0).collect();
    let mut names = Items::new();
    let item_ids: Vec<ItemId> = (0..24)
        .map(|i| names.intern(&format!("{}", 100 + i)))
        .collect();
    let item_easiness: Vec<f64> = (0..24).map(|_| rng.unit() * 2.0 - 1.0).collect();
    // 24 items in a fixed order, one or two skills each.
    let items: Vec<Vec<SkillId>> = (0..24usize)
        .map(|i| {
            let mut s = vec![ids[i % 8]];
            if i % 3 == 0 {
                s.push(ids[(i / 3 + 3) % 8]);
            }
            s
        })
        .collect();

    let mut tracer = Tracer::new();
    let mut out = Generated {
        skills: skills.clone(),
        items: names.clone(),
        item_easiness: item_easiness
            .iter()
            .zip(&items)
            .map(|(e, skills)| e + skills.iter().map(|k| easiness[k.0 as usize]).sum::<f64>())
            .collect(),
        item_skills: items.clone(),
        examples: Vec::new(),
        truth: Vec::new(),
        learners: Vec::new(),
    };
    for learner in 0..learners {
        let ability = rng.normal();
        for (i, item) in items.iter().enumerate() {
            // Up to four tries at an item, then on to the next.
            for _ in 0..4 {
                let before = tracer.features(learner, None, item);
                let z = match truth {
                    Truth::Pfa { skill, learner: lw } => {
                        let sum: f64 = before
                            .skills
                            .iter()
                            .map(|c| {
                                easiness[c.skill.0 as usize]
                                    + skill.success * fit::practice(c.successes)
                                    + skill.failure * fit::practice(c.failures)
                            })
                            .sum();
                        sum + lw.success * fit::practice(before.learner_successes)
                            + lw.failure * fit::practice(before.learner_failures)
                    }
                    Truth::Ability { spread, learn } => {
                        let sum: f64 = before
                            .skills
                            .iter()
                            .map(|c| {
                                easiness[c.skill.0 as usize]
                                    + learn * fit::practice(c.successes + c.failures)
                            })
                            .sum();
                        spread * ability + sum + item_easiness[i]
                    }
                };
                let p = fit::sigmoid(z);
                let passed = rng.unit() < p;
                let example = match truth {
                    // The PFA truth has no item term: the fit is not told the item.
                    Truth::Pfa { .. } => tracer.observe(learner, item, passed),
                    Truth::Ability { .. } => {
                        tracer.observe_item(learner, item_ids[i], item, passed)
                    }
                };
                out.examples.push(example);
                out.truth.push(p);
                out.learners.push(learner);
                if passed {
                    break;
                }
            }
        }
    }
    out
}

/// Fits on learners `0..split`, returns the model and the AUCs on the rest
/// (the model's, the truth's).
fn fit_and_score(data: &Generated, split: u32) -> (PfaModel, f64, f64) {
    let train: Vec<Example> = data
        .examples
        .iter()
        .zip(&data.learners)
        .filter(|(_, l)| **l < split)
        .map(|(e, _)| e.clone())
        .collect();
    let model = PfaModel::fit(&train, &data.skills, &data.items, &FitOptions::default());
    let test = || {
        data.examples
            .iter()
            .zip(&data.truth)
            .zip(&data.learners)
            .filter(|(_, l)| **l >= split)
            .map(|(pair, _)| pair)
    };
    let scored: Vec<(f64, bool)> = test()
        .map(|(e, _)| (model.predict(&e.features), e.passed))
        .collect();
    let oracle: Vec<(f64, bool)> = test().map(|(e, p)| (*p, e.passed)).collect();
    let model_auc = auc(&scored).expect("both outcomes");
    let truth_auc = auc(&oracle).expect("both outcomes");
    (model, model_auc, truth_auc)
}

#[test]
fn fitting_pfa_data_recovers_its_weights_and_its_auc() {
    let truth = Truth::Pfa {
        skill: SkillWeights {
            easiness: 0.0,
            success: 0.6,
            failure: -0.3,
        },
        learner: LearnerWeights {
            success: 0.4,
            failure: -0.5,
        },
    };
    let data = generate(truth, 3000, 7);
    let (model, model_auc, truth_auc) = fit_and_score(&data, 2400);
    assert!(
        (model_auc - truth_auc).abs() < 0.01,
        "model {model_auc}, truth {truth_auc}"
    );
    let shared = model.default_skill;
    assert!((shared.success - 0.6).abs() < 0.15, "γ {}", shared.success);
    assert!((shared.failure + 0.3).abs() < 0.15, "ρ {}", shared.failure);
    assert!(
        (model.learner.success - 0.4).abs() < 0.15,
        "γ_L {}",
        model.learner.success
    );
    assert!(
        (model.learner.failure + 0.5).abs() < 0.15,
        "ρ_L {}",
        model.learner.failure
    );
}

#[test]
fn practice_helps_and_held_out_learners_are_ranked_well() {
    let data = generate(
        Truth::Ability {
            spread: 1.2,
            learn: 0.5,
        },
        2500,
        11,
    );
    let (model, model_auc, truth_auc) = fit_and_score(&data, 2000);
    assert!(model_auc >= 0.75, "model AUC {model_auc}");
    assert!(
        truth_auc - model_auc < 0.05,
        "model {model_auc}, truth {truth_auc}"
    );
    assert!(
        model.default_skill.success > 0.0,
        "γ {}",
        model.default_skill.success
    );
    // A learner who has passed a skill five times is more likely to pass again
    // than one who has not tried it, all else equal.
    let fresh = model.predict_counts(&[("skill-2", 0, 0)], 10, 5);
    let practised = model.predict_counts(&[("skill-2", 5, 0)], 10, 5);
    assert!(practised > fresh, "{practised} vs {fresh}");
}

#[test]
fn harder_items_are_found_harder() {
    let data = generate(
        Truth::Ability {
            spread: 1.2,
            learn: 0.5,
        },
        2000,
        13,
    );
    let model = PfaModel::fit(
        &data.examples,
        &data.skills,
        &data.items,
        &FitOptions::default(),
    );
    let pairs: Vec<(f64, f64)> = data
        .items
        .iter()
        .map(|(id, name)| {
            let i = id.0 as usize;
            let skills: f64 = data.item_skills[i]
                .iter()
                .filter_map(|k| data.skills.name(*k))
                .map(|k| model.skill(k).easiness)
                .sum();
            (model.item_easiness(name) + skills, data.item_easiness[i])
        })
        .collect();
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    let r = cov / (vx * vy).sqrt();
    // Not 1: item order and practice go together, and the truth's learning curve
    // is not PFA's, so some of an item's easiness is read as practice.
    assert!(
        r > 0.8,
        "fitted and true item easiness (skills included) correlate {r}"
    );
}

#[test]
fn fitting_twice_gives_identical_weights() {
    let data = generate(
        Truth::Ability {
            spread: 1.0,
            learn: 0.4,
        },
        300,
        3,
    );
    let a = PfaModel::fit(
        &data.examples,
        &data.skills,
        &data.items,
        &FitOptions::default(),
    );
    let b = PfaModel::fit(
        &data.examples,
        &data.skills,
        &data.items,
        &FitOptions::default(),
    );
    assert_eq!(a, b);
}

#[test]
fn a_model_read_back_from_json_is_the_model_written() {
    let data = generate(
        Truth::Ability {
            spread: 1.0,
            learn: 0.4,
        },
        200,
        5,
    );
    let model = PfaModel::fit(
        &data.examples,
        &data.skills,
        &data.items,
        &FitOptions::default(),
    );
    let json = serde_json::to_value(&model).expect("serialise");
    assert!(json["skills"][0]["name"].is_string(), "{json}");
    assert_eq!(json["items"][0]["name"], "100", "{json}");
    let back: PfaModel = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, model);
}

#[test]
fn an_unseen_skill_uses_the_default_weights() {
    let data = generate(
        Truth::Ability {
            spread: 1.0,
            learn: 0.4,
        },
        200,
        9,
    );
    let model = PfaModel::fit(
        &data.examples,
        &data.skills,
        &data.items,
        &FitOptions::default(),
    );
    assert_eq!(model.skill("never-seen"), model.default_skill);
    let p = model.predict_counts(&[("never-seen", 2, 1)], 3, 1);
    assert!(p > 0.0 && p < 1.0);
}

#[test]
fn fitting_nothing_predicts_one_half() {
    let model = PfaModel::fit(&[], &Skills::new(), &Items::new(), &FitOptions::default());
    assert_eq!(model.predict_counts(&[("loops", 0, 0)], 0, 0), 0.5);
}

proptest! {
    #[test]
    fn predictions_stay_strictly_between_zero_and_one(
        weights in prop::array::uniform6(-50.0f64..50.0),
        counts in prop::collection::vec((0u32..5000, 0u32..5000), 0..4),
        learner in (0u32..100_000, 0u32..100_000),
    ) {
        let json = serde_json::json!({
            "intercept": weights[0],
            "learner": { "success": weights[1], "failure": weights[2] },
            "default_skill": { "easiness": weights[3], "success": weights[4], "failure": weights[5] },
            "default_item": { "easiness": weights[3], "success": weights[4], "failure": weights[5] },
            "skills": [],
            "items": [],
        });
        let model: PfaModel = serde_json::from_value(json).expect("model");
        let names: Vec<String> = (0..counts.len()).map(|i| format!("s{i}")).collect();
        let skills: Vec<(&str, u32, u32)> =
            names.iter().zip(&counts).map(|(n, (s, f))| (n.as_str(), *s, *f)).collect();
        let p = model.predict_counts(&skills, learner.0, learner.1);
        prop_assert!(p > 0.0 && p < 1.0, "p = {}", p);
    }
}
