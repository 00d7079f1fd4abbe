//! The knowledge-tracing model against the database: load every attempt, fit,
//! measure, store.
//!
//! In: every verdict on a path node, with its node's skills ([`load_attempts`]).
//! Out: an [`Evaluation`] (AUC on held-out learners, and agreement with the
//! seeded truth when there is one), and the fitted model upserted into
//! `insights_models` under [`MODEL_NAME`] for the dashboards to [`load`]. The
//! model itself (PFA, with skill, item and learner terms) and why it was chosen
//! is in [`eduscale_core::insights::pfa`]; a path node is its item.
//!
//! The split is by learner, by a fixed hash of their id: a held-out learner's
//! attempts never reach the fit, and the split is the same on every run. The
//! features of a held-out attempt still use that learner's own earlier attempts,
//! as a live prediction would.
//!
//! A prediction from the views uses the same counts as the fit: per skill from
//! `insights_skill_attempts`, at the node from `insights_node_learners`
//! (`attempts − failures`, `failures`), and the learner's totals over all their
//! verdicts.
//!
//! Speed, measured on the 2-core CI machine with 2 000 000 attempts by 20 000
//! learners over 40 skills and 100 nodes, release build: `evaluate` 4.3 s
//! (loading 1.4 s, replaying and fitting 2.8 s), `fit_and_store` 5.5 s (it fits
//! twice: once on the training split for the AUC it stores, once on all), at
//! most 280 MB resident. A debug build is about ten times slower (50 s), most of
//! it in core's fit. Fitting runs on a blocking thread.

mod attempts;

pub use attempts::{Attempt, Attempts, held_out, load_attempts, replay};

use eduscale_core::insights::auc::auc;
use eduscale_core::insights::pfa::{Example, FitOptions, PfaModel, Tracer};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use std::collections::HashMap;
use std::time::Instant;
use uuid::Uuid;

/// The row name of the fitted model in `insights_models`.
pub const MODEL_NAME: &str = "pfa";
/// The share of learners held out when `fit_and_store` measures the AUC it stores.
pub const STORED_HOLDOUT: f64 = 0.2;

/// Why the model could not be fitted or read; logged or printed, never shown to learners.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No verdict on any path node yet.
    #[error("no attempts recorded")]
    NoAttempts,
    /// A held-out share outside (0, 1).
    #[error("the held-out share must be strictly between 0 and 1, not {0}")]
    BadHoldout(f64),
    /// PostgreSQL failed, or a stored model did not parse.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The fitting thread panicked or was cancelled.
    #[error("fitting: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What `eduscale insights evaluate` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Always `"pfa"`.
    pub model: &'static str,
    /// Every attempt loaded.
    pub attempts: u64,
    /// ROC AUC on the held-out learners' attempts; `None` if they all passed or all failed.
    pub auc: Option<f64>,
    /// Attempts the model was fitted on.
    pub train_attempts: u64,
    /// Attempts it was scored on.
    pub test_attempts: u64,
    /// Learners in all.
    pub learners: u64,
    /// Held-out learners.
    pub test_learners: u64,
    /// Pearson correlation, over held-out seeded (learner, skill) pairs, between
    /// the predicted chance of passing at the end of their history and the
    /// seeded truth's mastery then; `None` on a real platform.
    pub truth_correlation: Option<f64>,
    /// The pairs that correlation is over.
    pub truth_pairs: u64,
    /// Reading the attempts from PostgreSQL.
    pub seconds_loading: f64,
    /// Replaying them and fitting.
    pub seconds_fitting: f64,
}

/// Fits on all but `holdout` of the learners and scores the rest.
pub async fn evaluate(db: &PgPool, holdout: f64) -> Result<Evaluation, ModelError> {
    if !(holdout > 0.0 && holdout < 1.0) {
        return Err(ModelError::BadHoldout(holdout));
    }
    let started = Instant::now();
    let attempts = load_attempts(db).await?;
    if attempts.rows.is_empty() {
        return Err(ModelError::NoAttempts);
    }
    let seconds_loading = started.elapsed().as_secs_f64();
    let (attempts, split, model, auc, seconds_fitting) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let split = Split::new(&attempts, holdout);
        let model = Split::fit(split.train(), &attempts);
        let auc = split.auc(&model);
        (attempts, split, model, auc, started.elapsed().as_secs_f64())
    })
    .await?;
    let (truth_correlation, truth_pairs) = truth_correlation(db, &attempts, &split, &model).await?;
    Ok(Evaluation {
        model: MODEL_NAME,
        attempts: attempts.rows.len() as u64,
        auc,
        train_attempts: split.train().len() as u64,
        test_attempts: split.test().len() as u64,
        learners: attempts.learners.len() as u64,
        test_learners: split.test_learner.iter().filter(|t| **t).count() as u64,
        truth_correlation,
        truth_pairs,
        seconds_loading,
        seconds_fitting,
    })
}

/// Pearson's r between the model and the seeded truth over the held-out seeded
/// learners who attempted something, for each skill the truth has for them, and
/// how many (learner, skill) pairs that is. The model predicts a typical node
/// never attempted that needs only the skill, from the learner's final counts;
/// the truth's mastery after `practice` attempts needing the skill is
/// `mastered − (mastered − initial)·e^(−learn_rate·practice)`.
async fn truth_correlation(
    db: &PgPool,
    attempts: &Attempts,
    split: &Split,
    model: &PfaModel,
) -> Result<(Option<f64>, u64), sqlx::Error> {
    let index: HashMap<&Uuid, u32> = (0u32..)
        .zip(&attempts.learners)
        .map(|(i, l)| (l, i))
        .collect();
    // Streamed: a seeded platform has a row per learner and skill.
    let mut truth = sqlx::query_as::<_, (Uuid, String, f64, f64, f64)>(
        "SELECT user_id, skill, initial, mastered, learn_rate FROM insights_seed_truth",
    )
    .fetch(db);
    let mut pairs = Vec::new();
    while let Some((user, skill, initial, mastered, learn_rate)) = truth.try_next().await? {
        let Some(&learner) = index.get(&user) else {
            continue;
        };
        if !split.test_learner[learner as usize] {
            continue;
        }
        let own = attempts
            .skills
            .id(&skill)
            .map(|id| split.tracer.skill(learner, id))
            .unwrap_or_default();
        let total = split.tracer.learner(learner);
        let predicted = model.predict_counts(
            &[(skill.as_str(), own.successes, own.failures)],
            total.successes,
            total.failures,
        );
        let practice = f64::from(own.successes) + f64::from(own.failures);
        let mastery = mastered - (mastered - initial) * (-learn_rate * practice).exp();
        pairs.push((predicted, mastery));
    }
    Ok((pearson(&pairs), pairs.len() as u64))
}

/// The replayed attempts, divided by learner.
struct Split {
    /// The training learners' examples, then the held-out learners'.
    examples: Vec<Example>,
    /// Where the held-out learners' examples start.
    split: usize,
    /// By learner index.
    test_learner: Vec<bool>,
    tracer: Tracer,
}

impl Split {
    fn new(attempts: &Attempts, holdout: f64) -> Self {
        let test_learner: Vec<bool> = attempts
            .learners
            .iter()
            .map(|l| held_out(l, holdout))
            .collect();
        // Replayed train-first, so training on all of them needs no copy.
        let (examples, split, tracer) = replay(attempts, |learner| !test_learner[learner as usize]);
        Self {
            examples,
            split,
            test_learner,
            tracer,
        }
    }

    fn train(&self) -> &[Example] {
        &self.examples[..self.split]
    }

    fn test(&self) -> &[Example] {
        &self.examples[self.split..]
    }

    fn fit(examples: &[Example], attempts: &Attempts) -> PfaModel {
        PfaModel::fit(
            examples,
            &attempts.skills,
            &attempts.items,
            &FitOptions::default(),
        )
    }

    fn auc(&self, model: &PfaModel) -> Option<f64> {
        let scored: Vec<(f64, bool)> = self
            .test()
            .iter()
            .map(|e| (model.predict(&e.features), e.passed))
            .collect();
        auc(&scored)
    }
}

/// Pearson's r, or `None` with fewer than two pairs or no spread in either.
fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// A model fitted on every attempt, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedModel {
    /// The model.
    pub model: PfaModel,
    /// The attempts it was fitted on.
    pub attempts: u64,
    /// The AUC of the same fit on all but [`STORED_HOLDOUT`] of the learners, on the rest.
    pub auc: Option<f64>,
}

/// Fits on every attempt, measures the AUC on a held-out split, and stores both.
pub async fn fit_and_store(db: &PgPool) -> Result<FittedModel, ModelError> {
    let attempts = load_attempts(db).await?;
    if attempts.rows.is_empty() {
        return Err(ModelError::NoAttempts);
    }
    let fitted = tokio::task::spawn_blocking(move || {
        let split = Split::new(&attempts, STORED_HOLDOUT);
        let auc = split.auc(&Split::fit(split.train(), &attempts));
        FittedModel {
            model: Split::fit(&split.examples, &attempts),
            attempts: attempts.rows.len() as u64,
            auc,
        }
    })
    .await?;
    store(db, &fitted).await?;
    tracing::info!(attempts = fitted.attempts, auc = ?fitted.auc, "knowledge-tracing model refitted");
    Ok(fitted)
}

/// Upserts the model under [`MODEL_NAME`].
pub async fn store(db: impl PgExecutor<'_>, fitted: &FittedModel) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO insights_models (name, params, attempts, auc, fitted_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (name) DO UPDATE
         SET params = EXCLUDED.params, attempts = EXCLUDED.attempts,
             auc = EXCLUDED.auc, fitted_at = EXCLUDED.fitted_at",
    )
    .bind(MODEL_NAME)
    .bind(Json(&fitted.model))
    .bind(i64::try_from(fitted.attempts).unwrap_or(i64::MAX))
    .bind(fitted.auc)
    .execute(db)
    .await?;
    Ok(())
}

/// The stored model, if one was ever fitted.
pub async fn load(db: impl PgExecutor<'_>) -> Result<Option<PfaModel>, sqlx::Error> {
    let params: Option<Json<PfaModel>> =
        sqlx::query_scalar("SELECT params FROM insights_models WHERE name = $1")
            .bind(MODEL_NAME)
            .fetch_optional(db)
            .await?;
    Ok(params.map(|Json(m)| m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_is_one_for_a_line_and_none_without_spread() {
        let line: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), 2.0 * f64::from(i) + 1.0))
            .collect();
        assert!((pearson(&line).expect("r") - 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[(1.0, 2.0), (1.0, 3.0)]), None);
        assert_eq!(pearson(&[(1.0, 2.0)]), None);
    }
}
