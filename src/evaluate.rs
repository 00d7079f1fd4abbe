//! `eduscale insights evaluate`: fit the knowledge-tracing model on most
//! learners and report how well it predicts the held-out rest.
//!
//! In: the attempts in the database (`eduscale seed` makes some). Out: one JSON
//! line with `--json` (`{"model":"pfa","attempts":N,"auc":0.xx,...}`, for scripts
//! and CI), otherwise a few lines for a person. The work itself is
//! `eduscale_server::insights::model::evaluate`; this only wires and prints.

use crate::cli::EvaluateArgs;
use crate::config::Config;
use anyhow::Context;
use eduscale_server::db;
use eduscale_server::insights::model::{self, Evaluation, ModelError};

/// PostgreSQL's `undefined_table` error code.
const UNDEFINED_TABLE: &str = "42P01";

/// Fits on all but `--holdout` of the learners, scores the rest, prints the result.
pub async fn run(config: &Config, args: &EvaluateArgs) -> anyhow::Result<()> {
    // No migration here: evaluating only reads, and must not change the schema
    // of the database it is pointed at.
    let pool = db::connect(&config.database_url, 4).await?;
    let evaluation = match model::evaluate(&pool, args.holdout).await {
        Err(ModelError::NoAttempts) => {
            anyhow::bail!("no attempts recorded: run `eduscale seed` first")
        }
        Err(ModelError::Db(sqlx::Error::Database(e)))
            if e.code().as_deref() == Some(UNDEFINED_TABLE) =>
        {
            anyhow::bail!(
                "the database at {} has no insights tables: run `eduscale migrate` first",
                db::redact(&config.database_url)
            )
        }
        other => other.context("evaluating the knowledge-tracing model")?,
    };
    if args.json {
        println!("{}", serde_json::to_string(&evaluation)?);
    } else {
        print!("{}", summary(&evaluation));
    }
    Ok(())
}

/// The evaluation in words.
fn summary(e: &Evaluation) -> String {
    let auc = e.auc.map_or_else(
        || "undefined (one outcome only)".to_owned(),
        |a| format!("{a:.3}"),
    );
    let mut out = format!(
        "model {}: AUC {auc} on {} held-out attempts ({} of {} learners), fitted on {} attempts\n",
        e.model, e.test_attempts, e.test_learners, e.learners, e.train_attempts,
    );
    if let Some(r) = e.truth_correlation {
        out += &format!(
            "agreement with the seeded truth: r = {r:.3} over {} (learner, skill) pairs\n",
            e.truth_pairs
        );
    }
    out += &format!(
        "{} attempts loaded in {:.1} s, replayed and fitted in {:.1} s\n",
        e.attempts, e.seconds_loading, e.seconds_fitting
    );
    out
}
