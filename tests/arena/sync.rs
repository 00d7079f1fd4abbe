//! Catching up: a socket that missed deltas gets them from the log, or a
//! snapshot once the log no longer reaches back that far.

use crate::client::{Person, Seat};
use crate::world::{PATIENCE, World, all_until, assert_in_step, code_of, start_battle, watch_all};
use eduscale_core::battle::TextEdit;
use eduscale_core::protocol::PlayerAction;
use futures_util::future::join_all;
use sqlx::PgPool;

/// Makes `n` deltas: `who` types one character per message over several
/// sockets (each socket is rate-limited on its own).
async fn type_many(who: &Person, at: std::net::SocketAddr, battle: u64, n: usize) {
    let sockets = n.div_ceil(50);
    let mut seats = Vec::new();
    for _ in 0..sockets {
        seats.push(Seat::open(who, at).await);
    }
    let per = n.div_ceil(sockets);
    let mut left = n;
    let mut sends = Vec::new();
    for seat in seats.iter_mut() {
        let mine = per.min(left);
        left -= mine;
        sends.push(async move {
            for _ in 0..mine {
                let edits = vec![TextEdit {
                    at: 0,
                    delete: 0,
                    insert: "x".into(),
                }];
                seat.play(battle, PlayerAction::Edit { edits }).await;
            }
        });
    }
    join_all(sends).await;
    for seat in seats.iter_mut() {
        seat.close().await;
    }
}

#[sqlx::test]
async fn a_socket_that_missed_500_deltas_catches_up_from_the_log_and_after_a_trim_gets_a_snapshot(
    db: PgPool,
) {
    let world = World::start(db.clone(), 2, 2_000, 300).await;
    let (a, b) = (world.instances[0].addr, world.instances[1].addr);
    let ana = world.person("Ana").await;
    let ben = world.person("Ben").await;
    let eve = world.person("Eve").await;
    let battle = ana.create(a, "duel", true).await;
    let mut seats = vec![Seat::open(&ana, a).await, Seat::open(&ben, b).await];
    watch_all(&mut seats, battle).await;
    start_battle(&mut seats, &[0, 1], battle).await;
    let mut eve_seat = Seat::open(&eve, b).await;
    eve_seat.watch(battle).await;
    eve_seat.until(PATIENCE, |s| s.state.is_some()).await;
    eve_seat.close().await;
    let missed_from = eve_seat.battle().seq;

    type_many(&ana, a, battle, 500).await;
    let ana_id = ana.id;
    all_until(&mut seats, |s| code_of(s, ana_id).len() == 500).await;
    eve_seat.reconnect(b).await;
    eve_seat.watch(battle).await;
    eve_seat
        .until(PATIENCE, |s| code_of(s.battle(), ana_id).len() == 500)
        .await;
    assert_eq!(eve_seat.snapshots, 1, "caught up with deltas, no snapshot");
    assert!(eve_seat.applied.len() > 500);
    assert!(eve_seat.seqs_contiguous());
    assert!(eve_seat.battle().seq >= missed_from + 500);
    assert_in_step(&seats);
    assert_eq!(eve_seat.battle(), seats[0].battle());

    // More than the log keeps: the next catch-up is a snapshot.
    eve_seat.close().await;
    type_many(&ana, a, battle, 1_100).await;
    all_until(&mut seats, |s| code_of(s, ana_id).len() == 1_600).await;
    eve_seat.reconnect(b).await;
    eve_seat.watch(battle).await;
    eve_seat
        .until(PATIENCE, |s| code_of(s.battle(), ana_id).len() == 1_600)
        .await;
    assert_eq!(eve_seat.snapshots, 2, "the log was trimmed: a snapshot");
    assert_eq!(eve_seat.battle(), seats[0].battle());
    world.cleanup().await;
}
