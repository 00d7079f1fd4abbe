//! Knowledge tracing: the probability that a learner passes their next attempt
//! at an item, from what they did before on the skills it needs.
//!
//! In: attempts replayed in time order ([`Tracer`]) into [`Example`]s. Out: a
//! fitted [`PfaModel`] that turns counts into a probability, and serialises to
//! the JSON stored in `insights_models.params`.
//!
//! # The model: Performance Factors Analysis
//!
//! ```text
//! logit p = b + Σ_{k ∈ skills(i)} (β_k + γ_k·f(s_k) + ρ_k·f(f_k))
//!             + β_i + γ_I·f(s_i) + ρ_I·f(f_i)
//!             + γ_L·f(S) + ρ_L·f(F)
//! f(x)    = ln(1 + x)
//! ```
//!
//! `s_k`/`f_k` are the learner's earlier successes and failures on skill `k`;
//! `s_i`/`f_i` those at this very item `i` (a path node), with `γ_I`, `ρ_I`
//! shared by every item, and `β_i` the item's own easiness: two challenges on
//! the same skills can differ by several log-odds (a difficulty-5 challenge
//! against a difficulty-1), and without it that difference is noise to the
//! skill terms. `S`/`F` are the learner's successes and failures over everything
//! (each attempt once), a learner-level ability term which separates strong from
//! weak learners long before any one skill has much history. `f` gives practice diminishing
//! returns: the tenth success on a skill says less than the first. Each skill's
//! weights and each item's easiness are a shared value plus the skill's (item's)
//! own deviation, and only the deviations are pulled towards 0, so a skill with
//! little data stays close to the shared weights and one the fit never saw uses
//! them exactly ([`PfaModel::default_skill`], [`PfaModel::default_item`]). A
//! prediction that names no item is for a typical item never attempted.
//!
//! Why PFA and not Bayesian Knowledge Tracing fitted with EM:
//! - its fit is a convex problem (a regularised logistic regression): there is
//!   one optimum, reached deterministically, where EM for BKT's hidden states
//!   depends on its starting point and gets stuck in local optima (and in
//!   degenerate ones, such as "guess" above "known");
//! - an item that needs several skills is natural: their terms add up, where
//!   BKT traces one skill per item and needs conjunctive extensions;
//! - in published comparisons (Pavlik, Cen & Koedinger 2009; Gong, Beck &
//!   Heffernan 2010) it predicts as well as BKT or better.
//!
//! Why hand-written and not a crate: the fit is a few hundred weights and a
//! Newton loop (`fit.rs`). linfa's logistic regression brings ndarray and
//! argmin (and BLAS for speed); core builds for wasm32 and must stay small,
//! pure Rust and free of IO. Here the fit is ~250 lines, bit-for-bit
//! reproducible, and its speed is known: two million examples fit in under two
//! seconds (figures in `fit.rs` and `eduscale_server::insights::model`).

mod fit;
#[cfg(test)]
mod tests;
mod trace;

pub use trace::{Id, Interner, ItemId, Items, SkillId, Skills, Tally, Tracer};

use serde::{Deserialize, Serialize};

/// A learner's record on one skill, before an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkillCounts {
    /// The skill.
    pub skill: SkillId,
    /// Earlier attempts needing it that passed.
    pub successes: u32,
    /// Earlier attempts needing it that did not.
    pub failures: u32,
}

/// A learner's record at one item, before an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemCounts {
    /// The item.
    pub item: ItemId,
    /// Earlier attempts at it that passed.
    pub successes: u32,
    /// Earlier attempts at it that did not.
    pub failures: u32,
}

/// What the model sees of a learner about to attempt an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// The item's skills, each once, with the learner's record on each.
    pub skills: Vec<SkillCounts>,
    /// The item and the learner's record at it; `None` for a typical item never attempted.
    pub item: Option<ItemCounts>,
    /// Earlier attempts on anything that passed.
    pub learner_successes: u32,
    /// Earlier attempts on anything that did not.
    pub learner_failures: u32,
}

/// One replayed attempt: the features before it and whether it passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The learner's record before the attempt.
    pub features: Features,
    /// Whether the attempt passed.
    pub passed: bool,
}

/// How hard the fit pulls weights towards their shared values, and when it stops.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// L2 penalty on each skill's deviation from the shared skill weights.
    pub skill_l2: f64,
    /// L2 penalty on each item's deviation from the shared item easiness.
    pub item_l2: f64,
    /// L2 penalty on the shared weights, the learner weights and the intercept;
    /// tiny, it only keeps the problem strictly convex when data is scarce.
    pub shared_l2: f64,
    /// Newton steps at most (it converges in well under 20).
    pub max_iterations: u32,
    /// Stop once no weight moves by more than this in a step.
    pub tolerance: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            skill_l2: 2.0,
            item_l2: 2.0,
            shared_l2: 0.01,
            max_iterations: 50,
            tolerance: 1e-7,
        }
    }
}

/// The weights of one skill's term (or the shared ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SkillWeights {
    /// `β`: the skill's easiness before any practice (log-odds).
    pub easiness: f64,
    /// `γ`: what each earlier success on it adds, through `ln(1 + s)`.
    pub success: f64,
    /// `ρ`: what each earlier failure on it adds, through `ln(1 + f)`.
    pub failure: f64,
}

/// The weights of the learner-level term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerWeights {
    /// `γ_L`, on `ln(1 + S)`.
    pub success: f64,
    /// `ρ_L`, on `ln(1 + F)`.
    pub failure: f64,
}

/// The largest |logit| a prediction reaches: p stays within about 2e-9 of 0
/// and 1, so no learner is ever shown as certain to pass or to fail.
pub const LOGIT_LIMIT: f64 = 20.0;

/// A fitted PFA model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct PfaModel {
    /// `b`.
    pub intercept: f64,
    /// `γ_L`, `ρ_L`.
    pub learner: LearnerWeights,
    /// The weights of a skill the fit never saw.
    pub default_skill: SkillWeights,
    /// The easiness of an item the fit never saw, and `γ_I`, `ρ_I` for every item.
    pub default_item: SkillWeights,
    skills: Skills,
    /// Indexed by `SkillId`, parallel to `skills`.
    skill_weights: Vec<SkillWeights>,
    items: Items,
    /// Indexed by `ItemId`, parallel to `items`.
    item_easiness: Vec<f64>,
}

/// An item and the learner's record at it, by name, for [`PfaModel::predict_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemRecord<'a> {
    /// The item's name (a path node's id, as text).
    pub item: &'a str,
    /// Earlier attempts at it that passed.
    pub successes: u32,
    /// Earlier attempts at it that did not.
    pub failures: u32,
}

impl PfaModel {
    /// Fits the model to `examples`, whose ids come from `skills` and `items`.
    pub fn fit(examples: &[Example], skills: &Skills, items: &Items, options: &FitOptions) -> Self {
        let w = fit::newton(examples, skills.len(), items.len(), options);
        let d = &w.dense;
        let shared = SkillWeights {
            easiness: d[fit::SHARED_SKILL],
            success: d[fit::SHARED_SKILL + 1],
            failure: d[fit::SHARED_SKILL + 2],
        };
        let default_item = SkillWeights {
            easiness: d[fit::SHARED_ITEM],
            success: d[fit::SHARED_ITEM + 1],
            failure: d[fit::SHARED_ITEM + 2],
        };
        Self {
            intercept: d[fit::INTERCEPT],
            learner: LearnerWeights {
                success: d[fit::LEARNER_SUCCESS],
                failure: d[fit::LEARNER_FAILURE],
            },
            default_skill: shared,
            default_item,
            skills: skills.clone(),
            skill_weights: d[fit::SKILLS..]
                .chunks_exact(3)
                .map(|d| SkillWeights {
                    easiness: shared.easiness + d[0],
                    success: shared.success + d[1],
                    failure: shared.failure + d[2],
                })
                .collect(),
            items: items.clone(),
            item_easiness: w.items.iter().map(|d| default_item.easiness + d).collect(),
        }
    }

    /// The skills the model knows; [`Features`] given to [`Self::predict`] use its ids.
    pub fn skills(&self) -> &Skills {
        &self.skills
    }

    /// The items the model knows, as [`Self::skills`].
    pub fn items(&self) -> &Items {
        &self.items
    }

    /// A skill's weights, or the default ones for a skill the model never saw.
    pub fn skill(&self, name: &str) -> SkillWeights {
        self.skills
            .id(name)
            .map_or(self.default_skill, |id| self.skill_weights_of(id))
    }

    /// An item's easiness (`β_i`), or the default for an item the model never saw.
    pub fn item_easiness(&self, name: &str) -> f64 {
        self.items
            .id(name)
            .map_or(self.default_item.easiness, |id| self.item_easiness_of(id))
    }

    fn skill_weights_of(&self, id: SkillId) -> SkillWeights {
        self.skill_weights
            .get(id.0 as usize)
            .copied()
            .unwrap_or(self.default_skill)
    }

    fn item_easiness_of(&self, id: ItemId) -> f64 {
        self.item_easiness
            .get(id.0 as usize)
            .copied()
            .unwrap_or(self.default_item.easiness)
    }

    /// The probability from the terms: skills as `(weights, successes, failures)`,
    /// the item as `(easiness, successes, failures)`, the learner's totals.
    fn probability(
        &self,
        skills: impl Iterator<Item = (SkillWeights, u32, u32)>,
        item: (f64, u32, u32),
        (s, f): (u32, u32),
    ) -> f64 {
        let p = fit::practice;
        let skills: f64 = skills
            .map(|(w, s, f)| w.easiness + w.success * p(s) + w.failure * p(f))
            .sum();
        let (easiness, is, if_) = item;
        let item =
            easiness + self.default_item.success * p(is) + self.default_item.failure * p(if_);
        let learner = self.learner.success * p(s) + self.learner.failure * p(f);
        let z = self.intercept + skills + item + learner;
        fit::sigmoid(z.clamp(-LOGIT_LIMIT, LOGIT_LIMIT))
    }

    /// The probability that the next attempt passes, strictly between 0 and 1.
    pub fn predict(&self, features: &Features) -> f64 {
        let skills = features
            .skills
            .iter()
            .map(|c| (self.skill_weights_of(c.skill), c.successes, c.failures));
        let item = features
            .item
            .map_or((self.default_item.easiness, 0, 0), |i| {
                (self.item_easiness_of(i.item), i.successes, i.failures)
            });
        let totals = (features.learner_successes, features.learner_failures);
        self.probability(skills, item, totals)
    }

    /// [`Self::predict`] from counts by name, as the server reads them from the
    /// views: `(skill, successes, failures)` for each skill of the item (list a
    /// skill once), the item and the learner's record at it if known (`None`: a
    /// typical item never attempted), and the learner's totals over all attempts.
    pub fn predict_at<S: AsRef<str>>(
        &self,
        item: Option<ItemRecord<'_>>,
        skills: &[(S, u32, u32)],
        learner_successes: u32,
        learner_failures: u32,
    ) -> f64 {
        let skills = skills
            .iter()
            .map(|(name, s, f)| (self.skill(name.as_ref()), *s, *f));
        let item = item.map_or((self.default_item.easiness, 0, 0), |i| {
            (self.item_easiness(i.item), i.successes, i.failures)
        });
        self.probability(skills, item, (learner_successes, learner_failures))
    }

    /// [`Self::predict_at`] a typical item never attempted: the learner's chance
    /// on the skills themselves.
    pub fn predict_counts<S: AsRef<str>>(
        &self,
        skills: &[(S, u32, u32)],
        learner_successes: u32,
        learner_failures: u32,
    ) -> f64 {
        self.predict_at(None, skills, learner_successes, learner_failures)
    }
}

/// One skill's weights under its name, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct NamedSkill {
    name: String,
    #[serde(flatten)]
    weights: SkillWeights,
}

/// One item's easiness under its name, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct NamedItem {
    name: String,
    easiness: f64,
}

/// The stored JSON: skills and items by name, in id order, so a model read back
/// has the ids of the one written.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    intercept: f64,
    learner: LearnerWeights,
    default_skill: SkillWeights,
    default_item: SkillWeights,
    skills: Vec<NamedSkill>,
    items: Vec<NamedItem>,
}

impl From<PfaModel> for Stored {
    fn from(m: PfaModel) -> Self {
        let skills = m
            .skills
            .iter()
            .map(|(id, name)| NamedSkill {
                name: name.to_owned(),
                weights: m.skill_weights_of(id),
            })
            .collect();
        let items = m
            .items
            .iter()
            .map(|(id, name)| NamedItem {
                name: name.to_owned(),
                easiness: m.item_easiness_of(id),
            })
            .collect();
        Self {
            intercept: m.intercept,
            learner: m.learner,
            default_skill: m.default_skill,
            default_item: m.default_item,
            skills,
            items,
        }
    }
}

impl TryFrom<Stored> for PfaModel {
    type Error = String;

    fn try_from(s: Stored) -> Result<Self, Self::Error> {
        let (skill_names, skill_weights): (Vec<String>, Vec<SkillWeights>) =
            s.skills.into_iter().map(|n| (n.name, n.weights)).unzip();
        let (item_names, item_easiness): (Vec<String>, Vec<f64>) =
            s.items.into_iter().map(|n| (n.name, n.easiness)).unzip();
        Ok(Self {
            intercept: s.intercept,
            learner: s.learner,
            default_skill: s.default_skill,
            default_item: s.default_item,
            skills: Skills::try_from(skill_names)?,
            skill_weights,
            items: Items::try_from(item_names)?,
            item_easiness,
        })
    }
}
