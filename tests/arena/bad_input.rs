//! Bad frames, floods, strangers and spectators: each refused with a clear
//! error, and the battle goes on untouched.

use crate::client::Seat;
use crate::world::{PATIENCE, World, all_until, assert_in_step, code_of, start_battle, watch_all};
use eduscale_core::battle::Refusal;
use eduscale_core::protocol::{ClientMsg, ErrorCode, PlayerAction, ServerMsg};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message;

fn has_error(seat: &Seat, code: ErrorCode) -> bool {
    seat.inbox
        .iter()
        .any(|m| matches!(m, ServerMsg::Error { code: c, .. } if *c == code))
}

fn refused(seat: &Seat, refusal: &Refusal) -> usize {
    seat.inbox
        .iter()
        .filter(|m| matches!(m, ServerMsg::BattleRefused { refusal: r, .. } if r == refusal))
        .count()
}

#[sqlx::test]
async fn bad_frames_strangers_and_spectators_are_refused_and_the_battle_is_untouched(db: PgPool) {
    let world = World::start(db.clone(), 2, 2_000, 300).await;
    let (a, b) = (world.instances[0].addr, world.instances[1].addr);
    let ana = world.person("Ana").await;
    let ben = world.person("Ben").await;
    let eve = world.person("Eve").await;
    let mallory = world.person("Mallory").await;
    let battle = ana.create(a, "duel", true).await;
    let private = ana.create(a, "duel", false).await;
    let mut seats = vec![Seat::open(&ana, a).await, Seat::open(&ben, b).await];
    watch_all(&mut seats, battle).await;
    start_battle(&mut seats, &[0, 1], battle).await;
    let before = seats[0].battle().clone();

    // A spectator sending a player's moves.
    let mut spectator = Seat::open(&eve, b).await;
    spectator.watch(battle).await;
    spectator.until(PATIENCE, |s| s.state.is_some()).await;
    spectator
        .play(battle, PlayerAction::Ready { ready: true })
        .await;
    spectator.play(battle, PlayerAction::Submit).await;
    spectator.type_code(battle, 0, "import os").await;
    spectator
        .until(PATIENCE, |s| refused(s, &Refusal::NotAPlayer) == 3)
        .await;

    // A stranger and a private battle: no watching, no joining.
    let mut stranger = Seat::open(&mallory, a).await;
    stranger
        .send(&ClientMsg::Watch {
            battle: private,
            have: None,
        })
        .await;
    stranger
        .play(
            private,
            PlayerAction::Join {
                language: eduscale_core::code::Language::Python,
            },
        )
        .await;
    stranger
        .send(&ClientMsg::Watch {
            battle: 999_999,
            have: None,
        })
        .await;
    stranger
        .until(PATIENCE, |s| {
            s.inbox
                .iter()
                .filter(|m| {
                    matches!(
                        m,
                        ServerMsg::Error {
                            code: ErrorCode::Forbidden,
                            ..
                        }
                    )
                })
                .count()
                == 2
                && has_error(s, ErrorCode::UnknownBattle)
        })
        .await;
    assert!(
        stranger.state.is_none(),
        "nothing of a private battle leaked"
    );

    // Malformed, oversized and wrongly encoded frames.
    let mut rude = Seat::open(&mallory, b).await;
    rude.send_raw(Message::Text("{\"play\":".into())).await;
    rude.send_raw(Message::Text("x".repeat(20 << 10).into()))
        .await;
    rude.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    rude.until(PATIENCE, |s| {
        has_error(s, ErrorCode::Malformed)
            && has_error(s, ErrorCode::TooLarge)
            && has_error(s, ErrorCode::WrongEncoding)
    })
    .await;

    // A flood: past the burst, refused as rate-limited; refused again and
    // again, closed with a reason (1008).
    let mut flood = Seat::open(&mallory, a).await;
    for nonce in 0..64 {
        flood.send(&ClientMsg::Ping { nonce }).await;
    }
    let limited = |s: &Seat| {
        s.inbox
            .iter()
            .filter(|m| {
                matches!(
                    m,
                    ServerMsg::Error {
                        code: ErrorCode::RateLimited,
                        ..
                    }
                )
            })
            .count()
    };
    flood.until(PATIENCE, |s| limited(s) >= 3).await;
    for nonce in 64..80 {
        if flood.closed.is_some() {
            break;
        }
        flood.send(&ClientMsg::Ping { nonce }).await;
        let before = limited(&flood);
        while flood.closed.is_none() && limited(&flood) == before {
            if flood.next().await.is_none() {
                break;
            }
        }
    }
    assert_eq!(flood.closed, Some(1008), "closed for misbehaving");

    // The battle is untouched, and still going: a move goes through.
    for seat in seats.iter_mut() {
        seat.send(&ClientMsg::Ping { nonce: 7 }).await;
        seat.until(PATIENCE, |s| {
            s.inbox
                .iter()
                .any(|m| matches!(m, ServerMsg::Pong { nonce: 7 }))
        })
        .await;
    }
    let mut now = seats[0].battle().clone();
    now.spectators = before.spectators;
    let mut then = before.clone();
    then.seq = now.seq;
    assert_eq!(
        now.players, then.players,
        "only the spectator count may have moved"
    );
    seats[0].type_code(battle, 0, "print(2)").await;
    let ana_id = ana.id;
    all_until(&mut seats, |s| code_of(s, ana_id) == "print(2)").await;
    assert_in_step(&seats);
    world.cleanup().await;
}
