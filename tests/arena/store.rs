//! Storing deltas: under the owner's current epoch only, never for a battle
//! that is not there, each once, and gone with their battle.

use eduscale_core::battle::{Mode, Settings};
use eduscale_server::arena::store::{self, PendingDelta};
use sqlx::PgPool;

#[sqlx::test]
async fn deltas_are_stored_under_the_current_epoch_once_and_go_with_their_battle(db: PgPool) {
    let owner: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash)
         VALUES ('owner@store.test', 'Owner', 'none') RETURNING id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let settings = Settings::standard(Mode::Duel, true);
    let battle = store::create(&db, "STORE1", &settings, owner)
        .await
        .unwrap();
    let other = store::create(&db, "STORE2", &settings, owner)
        .await
        .unwrap();
    let epoch = store::bump_epoch(&db, battle).await.unwrap();
    let other_epoch = store::bump_epoch(&db, other).await.unwrap();
    let delta = |battle, seq: u64, epoch| PendingDelta {
        battle,
        seq,
        bytes: vec![seq as u8],
        epoch,
    };
    let stored = store::store_deltas(
        &db,
        &[
            delta(battle, 1, epoch),
            delta(battle, 2, epoch),
            delta(other, 1, other_epoch),
            // A fenced-out owner's write, and a battle that does not exist.
            delta(battle, 3, epoch - 1),
            delta(other + 1_000, 1, epoch),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        stored, 3,
        "the stale epoch and the unknown battle are left out"
    );
    let again = store::store_deltas(&db, &[delta(battle, 2, epoch)])
        .await
        .unwrap();
    assert_eq!(again, 0, "a delta stored twice is stored once");
    let count = |battle: u64| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM battle_deltas WHERE battle_id = $1")
                .bind(battle as i64)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count(battle).await, 2);
    assert_eq!(count(other + 1_000).await, 0);

    // Deleting a battle takes its deltas.
    sqlx::query("DELETE FROM battles WHERE id = $1")
        .bind(battle as i64)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        count(battle).await,
        0,
        "the deleted battle's deltas are gone"
    );
    assert_eq!(count(other).await, 1, "another battle's are kept");
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(owner)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        count(other).await,
        0,
        "and so are a deleted account's battles'"
    );
}
