//! The knowledge-tracing model on generated learners: its AUC on held-out
//! learners, and its agreement with the hidden skills the generator drew.

use crate::views::seeded;
use sqlx::PgPool;

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn the_model_ranks_held_out_attempts_with_an_auc_of_at_least_0_75(db: PgPool) {
    seeded(&db, 400, 80_000).await;
    let evaluation = eduscale_server::insights::model::evaluate(&db, 0.2)
        .await
        .unwrap();
    assert!(evaluation.test_attempts > 1_000, "{evaluation:?}");
    let auc = evaluation
        .auc
        .expect("both outcomes among the held-out attempts");
    assert!(auc >= 0.75, "AUC {auc} on held-out learners");
    let truth = evaluation
        .truth_correlation
        .expect("the seed stores the hidden skills");
    assert!(
        truth > 0.3,
        "predictions follow the hidden skills: r = {truth}"
    );
}
