//! Scoring under a storm: many correct submissions at once, on both instances.

use crate::client::Seat;
use crate::world::{
    PATIENCE, World, all_until, assert_in_step, assert_whole, solution, start_battle, watch_all,
};
use eduscale_core::battle::{FinishReason, Phase, Refusal};
use eduscale_core::protocol::{PlayerAction, ServerMsg};
use futures_util::future::join_all;
use sqlx::PgPool;

/// Sends `n` submissions from each seat in `from`, all at once.
async fn storm(seats: &mut [Seat], from: &[usize], battle: u64, n: usize) {
    let mut sends = Vec::new();
    for (i, seat) in seats.iter_mut().enumerate() {
        if from.contains(&i) {
            sends.push(async move {
                for _ in 0..n {
                    seat.play(battle, PlayerAction::Submit).await;
                }
            });
        }
    }
    join_all(sends).await;
}

/// Once all `sent` submissions of `battle` are stored and have an outcome:
/// (counted, too late). The storm's sends return when the frames are written;
/// the battle can be decided and rated while later ones are still on their way
/// in (judging a snapshot takes under a millisecond), and each of those must
/// still be stored, too late.
async fn outcomes(db: &PgPool, battle: u64, sent: i64) -> (i64, i64) {
    for _ in 0..600 {
        let (pending, counted, late): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE outcome IS NULL),
                    count(*) FILTER (WHERE outcome = 'counted'),
                    count(*) FILTER (WHERE outcome = 'too_late')
             FROM battle_submissions WHERE battle_id = $1",
        )
        .bind(battle as i64)
        .fetch_one(db)
        .await
        .unwrap();
        if pending == 0 && counted + late == sent {
            return (counted, late);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("not every submission was stored with an outcome within a minute");
}

async fn ratings_changed(db: &PgPool) -> Vec<i32> {
    sqlx::query_scalar("SELECT battles FROM ratings ORDER BY user_id")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_hundred_correct_submissions_on_two_instances_make_one_duel_winner_and_a_late_one_changes_nothing(
    db: PgPool,
) {
    let world = World::start(db.clone(), 2, 2_000, 300).await;
    let (a, b) = (world.instances[0].addr, world.instances[1].addr);
    let ana = world.person("Ana").await;
    let ben = world.person("Ben").await;
    let battle = ana.create(a, "duel", true).await;
    // Each player has a socket on each instance.
    let mut seats = vec![
        Seat::open(&ana, a).await,
        Seat::open(&ana, b).await,
        Seat::open(&ben, a).await,
        Seat::open(&ben, b).await,
    ];
    watch_all(&mut seats, battle).await;
    start_battle(&mut seats, &[0, 3], battle).await;
    let problem = seats[0].battle().problem.clone().unwrap();
    let code = solution(&problem.challenge);
    seats[1].type_code(battle, 0, &code).await;
    seats[2].type_code(battle, 0, &code).await;
    all_until(&mut seats, |s| s.players.iter().all(|p| !p.code.is_empty())).await;

    storm(&mut seats, &[0, 1, 2, 3], battle, 25).await;
    all_until(&mut seats, |s| {
        s.is_finished() && s.players.iter().all(|p| p.rating_after.is_some())
    })
    .await;
    let (counted, late) = outcomes(&db, battle, 100).await;
    assert_eq!(
        (counted, late),
        (1, 99),
        "one submission decided it, every other was too late"
    );

    let state = seats[0].battle().clone();
    assert!(matches!(
        state.phase,
        Phase::Finished {
            reason: FinishReason::Solved,
            ..
        }
    ));
    let winners: Vec<_> = state
        .players
        .iter()
        .filter(|p| p.standing.rank == 1)
        .collect();
    assert_eq!(winners.len(), 1);
    assert!(winners[0].solved_ms.is_some());
    assert_eq!(
        ratings_changed(&db).await,
        [1, 1],
        "each rating changed exactly once"
    );
    let winner = &winners[0];
    assert!(winner.rating_after.unwrap() > winner.rating);

    // A submission after the close: recorded, answered too late, nothing moves.
    let loser = if winner.user == ana.id.to_string() {
        2
    } else {
        0
    };
    let before = seats[loser].battle().clone();
    // Its earlier submissions were answered too late as well: hear only this one.
    seats[loser].inbox.clear();
    seats[loser].play(battle, PlayerAction::Submit).await;
    // Stored and answered: answers to the storm may still be on their way, so
    // the database says when this one is in.
    assert_eq!(outcomes(&db, battle, 101).await, (1, 100));
    seats[loser]
        .until(PATIENCE, |s| {
            s.inbox
                .iter()
                .any(|m| matches!(m, ServerMsg::BattleVerdict { too_late: true, .. }))
                && s.inbox.iter().any(|m| {
                    matches!(
                        m,
                        ServerMsg::BattleRefused {
                            refusal: Refusal::TooLate,
                            ..
                        }
                    )
                })
        })
        .await;
    // Let anything it could have caused arrive, then compare.
    seats[loser]
        .send(&eduscale_core::protocol::ClientMsg::Ping { nonce: 1 })
        .await;
    seats[loser]
        .until(PATIENCE, |s| {
            s.inbox
                .iter()
                .any(|m| matches!(m, ServerMsg::Pong { nonce: 1 }))
        })
        .await;
    assert_eq!(seats[loser].battle(), &before);
    assert_eq!(ratings_changed(&db).await, [1, 1]);

    assert_whole(&seats);
    world.cleanup().await;
}

#[sqlx::test]
async fn a_group_storm_on_two_instances_ends_in_a_total_order_rated_once(db: PgPool) {
    let world = World::start(db.clone(), 2, 2_000, 300).await;
    let addrs = [world.instances[0].addr, world.instances[1].addr];
    let mut people = Vec::new();
    for name in ["Ana", "Ben", "Cy", "Dee"] {
        people.push(world.person(name).await);
    }
    let battle = people[0].create(addrs[0], "group", true).await;
    let mut seats = Vec::new();
    for (i, person) in people.iter().enumerate() {
        seats.push(Seat::open(person, addrs[i % 2]).await);
    }
    watch_all(&mut seats, battle).await;
    start_battle(&mut seats, &[0, 1, 2, 3], battle).await;
    let problem = seats[0].battle().problem.clone().unwrap();
    let code = solution(&problem.challenge);
    for seat in seats.iter_mut() {
        seat.type_code(battle, 0, &code).await;
    }
    all_until(&mut seats, |s| s.players.iter().all(|p| !p.code.is_empty())).await;

    storm(&mut seats, &[0, 1, 2, 3], battle, 25).await;
    all_until(&mut seats, |s| {
        s.is_finished() && s.players.iter().all(|p| p.rating_after.is_some())
    })
    .await;
    let (counted, late) = outcomes(&db, battle, 100).await;
    assert_eq!(counted + late, 100);

    let state = seats[0].battle().clone();
    let mut ranks: Vec<u16> = state.players.iter().map(|p| p.standing.rank).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, [1, 2, 3, 4], "a total order");
    let mut by_rank = state.players.clone();
    by_rank.sort_by_key(|p| p.standing.rank);
    assert!(
        by_rank.windows(2).all(|w| w[0].solved_ms <= w[1].solved_ms),
        "ranked by solve time"
    );
    assert_eq!(ratings_changed(&db).await, [1, 1, 1, 1]);
    let results: i64 =
        sqlx::query_scalar("SELECT count(*) FROM battle_results WHERE battle_id = $1")
            .bind(battle as i64)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(results, 4);
    assert_in_step(&seats);
    world.cleanup().await;
}
