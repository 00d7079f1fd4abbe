//! Owners that die or freeze: another instance takes the battle over, and the
//! old owner's writes are refused.

use crate::client::{Person, Seat};
use crate::world::{
    PATIENCE, World, all_until, assert_in_step, assert_whole, code_of, solution, start_battle,
    watch_all,
};
use eduscale_core::battle::Phase;
use eduscale_core::battle::TextEdit;
use eduscale_core::protocol::{ClientMsg, PlayerAction, ServerMsg};
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Waits until `battle` has an owner other than `not`; its index.
async fn new_owner(world: &World, battle: u64, not: Option<usize>) -> usize {
    let started = Instant::now();
    loop {
        if let Some(owner) = world.owner(battle).await
            && Some(owner) != not
        {
            return owner;
        }
        assert!(started.elapsed() < PATIENCE, "nobody took the battle over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ana and Ben, each with a socket on both instances (seat i on instance
/// i % 2), following a new public duel of Ana's.
async fn duel_on_both(world: &World) -> (Person, Person, u64, Vec<Seat>) {
    let addrs = [world.instances[0].addr, world.instances[1].addr];
    let ana = world.person("Ana").await;
    let ben = world.person("Ben").await;
    let battle = ana.create(addrs[0], "duel", true).await;
    let mut seats = vec![
        Seat::open(&ana, addrs[0]).await,
        Seat::open(&ana, addrs[1]).await,
        Seat::open(&ben, addrs[0]).await,
        Seat::open(&ben, addrs[1]).await,
    ];
    watch_all(&mut seats, battle).await;
    (ana, ben, battle, seats)
}

/// Two instances with a one-second lease, and Ana's duel with Ben running,
/// each with a seat on both.
async fn running_duel_on_both(db: &PgPool) -> (World, Person, u64, Vec<Seat>) {
    let world = World::start(db.clone(), 2, 1_000, 300).await;
    let (ana, _ben, battle, mut seats) = duel_on_both(&world).await;
    start_battle(&mut seats, &[0, 2], battle).await;
    (world, ana, battle, seats)
}

/// Makes every seat read until it has answered a ping: all sent before is in.
async fn settle(seats: &mut [Seat]) {
    for (i, seat) in seats.iter_mut().enumerate() {
        let nonce = 1000 + i as u64;
        seat.send(&ClientMsg::Ping { nonce }).await;
        seat.until(PATIENCE, |s| {
            s.inbox
                .iter()
                .any(|m| matches!(m, eduscale_core::protocol::ServerMsg::Pong { nonce: n } if *n == nonce))
        })
        .await;
    }
    // A pong overtakes a delta still on its way from the other instance (the
    // spectator's count, once it watches the new owner): wait until every seat
    // holds the newest seq any of them holds.
    let newest = seats.iter().map(|s| s.battle().seq).max().unwrap_or(0);
    all_until(seats, move |s| s.seq >= newest).await;
}

#[sqlx::test]
async fn when_the_owner_is_killed_another_instance_takes_over_and_every_client_ends_in_step(
    db: PgPool,
) {
    let mut world = World::start(db.clone(), 2, 1_000, 300).await;
    let addrs = [world.instances[0].addr, world.instances[1].addr];
    let (ana, _ben, battle, mut seats) = duel_on_both(&world).await;
    // Eve watches, on both instances too.
    let eve = world.person("Eve").await;
    for addr in addrs {
        let mut seat = Seat::open(&eve, addr).await;
        seat.watch(battle).await;
        seats.push(seat);
    }
    start_battle(&mut seats, &[0, 2], battle).await;
    for _ in 0..5 {
        seats[0].type_code(battle, 0, "#").await;
    }
    let ana_id = ana.id;
    all_until(&mut seats, |s| code_of(s, ana_id).len() == 5).await;

    let owner = new_owner(&world, battle, None).await;
    let survivor = 1 - owner;
    eprintln!(
        "killing instance {owner} on {} ({}); the other is {} ({})",
        addrs[owner], world.instances[owner].id, addrs[survivor], world.instances[survivor].id
    );
    world.instances[owner].kill();
    // Sockets on the dead instance reconnect to the survivor, from what they hold.
    for seat in seats.iter_mut() {
        if seat.at == addrs[owner] {
            seat.reconnect(addrs[survivor]).await;
            seat.watch(battle).await;
        }
    }
    assert_eq!(new_owner(&world, battle, Some(owner)).await, survivor);

    let problem = seats[1].battle().problem.clone().unwrap();
    seats[1]
        .type_code(battle, 5, &solution(&problem.challenge))
        .await;
    seats[1]
        .play(battle, eduscale_core::protocol::PlayerAction::Submit)
        .await;
    all_until(&mut seats, |s| {
        s.is_finished() && s.players.iter().all(|p| p.rating_after.is_some())
    })
    .await;
    settle(&mut seats).await;
    for seat in &seats {
        assert!(
            seat.seqs_contiguous(),
            "a seq was skipped or repeated: {:?}",
            seat.applied
        );
        assert_eq!(
            seat.snapshots, 1,
            "caught up from the log, not from a snapshot"
        );
    }
    assert_in_step(&seats);
    assert_eq!(
        seats[0].battle().players[seats[0].battle().player_index(&ana.id.to_string()).unwrap()]
            .standing
            .rank,
        1,
        "Ana solved it"
    );
    let stored: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM battle_deltas WHERE battle_id = $1 ORDER BY seq")
            .bind(battle as i64)
            .fetch_all(&db)
            .await
            .unwrap();
    let expected: Vec<i64> = (1..=seats[0].battle().seq as i64).collect();
    let started = Instant::now();
    let mut stored = stored;
    while stored != expected && started.elapsed() < Duration::from_secs(10) {
        // The last deltas are stored in a batch a moment after they are sent.
        tokio::time::sleep(Duration::from_millis(200)).await;
        stored =
            sqlx::query_scalar("SELECT seq FROM battle_deltas WHERE battle_id = $1 ORDER BY seq")
                .bind(battle as i64)
                .fetch_all(&db)
                .await
                .unwrap();
    }
    assert_eq!(stored, expected, "every delta stored once, none lost");
    world.cleanup().await;
}

#[sqlx::test]
async fn an_owner_paused_past_its_lease_is_fenced_out_when_it_wakes(db: PgPool) {
    // A long countdown, so the pause starts while the old owner still has a
    // write ahead of it (revealing the problem).
    let world = World::start(db.clone(), 2, 1_000, 4_000).await;
    let (ana, _ben, battle, mut seats) = duel_on_both(&world).await;
    let addrs = [world.instances[0].addr, world.instances[1].addr];
    for &p in &[0, 2] {
        seats[p].join(battle).await;
    }
    all_until(&mut seats, |s| s.players.len() == 2).await;
    for &p in &[0, 2] {
        seats[p]
            .play(
                battle,
                eduscale_core::protocol::PlayerAction::Ready { ready: true },
            )
            .await;
    }
    all_until(&mut seats, |s| matches!(s.phase, Phase::Countdown { .. })).await;

    let owner = new_owner(&world, battle, None).await;
    let other = 1 - owner;
    let fenced_before = world.instances[owner]
        .counter("arena_fenced_writes_total")
        .await;
    eprintln!(
        "{:?} pausing instance {owner} ({}), fenced so far {fenced_before}",
        std::time::SystemTime::now(),
        world.instances[owner].id
    );
    world.instances[owner].pause();
    // The other instance takes over after the lease and starts the battle.
    assert_eq!(new_owner(&world, battle, Some(owner)).await, other);
    for seat in seats.iter_mut().filter(|s| s.at == addrs[other]) {
        seat.until(PATIENCE, |s| {
            s.state
                .as_ref()
                .is_some_and(|b| matches!(b.phase, Phase::Running { .. }))
        })
        .await;
    }
    world.instances[owner].resume();
    eprintln!("{:?} resumed", std::time::SystemTime::now());

    let started = Instant::now();
    while world.instances[owner]
        .counter("arena_fenced_writes_total")
        .await
        <= fenced_before
    {
        assert!(
            started.elapsed() < PATIENCE,
            "the old owner was never fenced out: {}",
            world.instances[owner].metrics().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (epoch, status): (i64, String) =
        sqlx::query_as("SELECT lease_epoch, status FROM battles WHERE id = $1")
            .bind(battle as i64)
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(epoch >= 2, "the successor bumped the epoch");
    assert_eq!(status, "running");

    // Play on: the battle is whole and every socket, on both instances, agrees.
    seats[1].type_code(battle, 0, "print(1)").await;
    let ana_id = ana.id;
    all_until(&mut seats, |s| code_of(s, ana_id) == "print(1)").await;
    settle(&mut seats).await;
    assert_whole(&seats);
    world.cleanup().await;
}

/// Moves that reach an owner frozen past its lease are played by its
/// successor, in order, when it wakes: none is lost, and none is refused as
/// misplaced by the old owner's copy, which never saw the moves played
/// meanwhile.
#[sqlx::test]
async fn moves_sent_to_a_frozen_owner_are_handed_on_to_its_successor(db: PgPool) {
    let (world, ana, battle, mut seats) = running_duel_on_both(&db).await;
    let addrs = [world.instances[0].addr, world.instances[1].addr];

    let owner = new_owner(&world, battle, None).await;
    let other = 1 - owner;
    world.instances[owner].pause();
    assert_eq!(new_owner(&world, battle, Some(owner)).await, other);
    // The successor plays Ana's first word...
    let ana_id = ana.id;
    seats[other].type_code(battle, 0, "one").await;
    for seat in seats.iter_mut().filter(|s| s.at == addrs[other]) {
        seat.until(PATIENCE, |s| {
            s.state
                .as_ref()
                .is_some_and(|b| code_of(b, ana_id) == "one")
        })
        .await;
    }
    // ...and the next two reach the frozen owner, whose copy is still empty.
    seats[owner].type_code(battle, 3, "one two").await;
    seats[owner].type_code(battle, 7, "one two three").await;
    world.instances[owner].resume();

    all_until(&mut seats, move |s| code_of(s, ana_id) == "one two three").await;
    settle(&mut seats).await;
    for seat in &seats {
        let refused: Vec<_> = seat
            .inbox
            .iter()
            .filter(|m| matches!(m, ServerMsg::BattleRefused { .. }))
            .collect();
        assert!(refused.is_empty(), "refused: {refused:?}");
    }
    assert_whole(&seats);
    world.cleanup().await;
}

/// An owner whose append the log refuses (as out of order here: its seq was
/// moved behind its back) stops, and the moves waiting in its mailbox are
/// played by the battle's next owner, in order. The refused move itself is
/// not played again: after a failure other than a fence its write may have
/// happened.
#[sqlx::test]
async fn moves_waiting_behind_a_failed_write_are_played_by_the_next_owner(db: PgPool) {
    let (world, ana, battle, mut seats) = running_duel_on_both(&db).await;
    let ana_id = ana.id;
    // The owner stores Ana's submission while a lock holds the table: its
    // actor waits, and her next words wait in its mailbox.
    let mut lock = db.begin().await.unwrap();
    sqlx::query("LOCK TABLE battle_submissions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    seats[0].play(battle, PlayerAction::Submit).await;
    let waiting = Instant::now();
    while sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO battle_submissions%'",
    )
    .fetch_one(&db)
    .await
    .unwrap()
        == 0
    {
        assert!(waiting.elapsed() < PATIENCE, "the submission never waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    world.skew_seq(battle, 5).await;
    let words = [
        "zero", "one", "two", "three", "four", "five", "six", "seven",
    ];
    for word in words {
        let edits = vec![TextEdit {
            at: 0,
            delete: 0,
            insert: format!("{word} "),
        }];
        seats[0].play(battle, PlayerAction::Edit { edits }).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Stored, the submission makes no delta; the first word's is refused.
    lock.rollback().await.unwrap();

    let played: String = words[1..].iter().rev().map(|w| format!("{w} ")).collect();
    let played = played.as_str();
    all_until(&mut seats, move |s| code_of(s, ana_id) == played).await;
    settle(&mut seats).await;
    assert_whole(&seats);
    world.cleanup().await;
}

/// How many leases the instances have taken, all together.
async fn leases_taken(world: &World) -> f64 {
    let mut sum = 0.0;
    for instance in &world.instances {
        sum += instance.counter("arena_leases_taken_total").await;
    }
    sum
}

/// One of the three lock nodes freezes (it holds its connections and answers
/// nothing) for five lease TTLs: every renewal round waits out its timeout on
/// it, and the leases must still be renewed in time by the other two, with no
/// lapse, no new owner, and the battle going on.
#[sqlx::test]
async fn a_frozen_lock_node_costs_no_owner_its_battles(db: PgPool) {
    let (world, ana, battle, mut seats) = running_duel_on_both(&db).await;
    let owner = new_owner(&world, battle, None).await;
    let taken_before = leases_taken(&world).await;
    let missed = "arena_lease_renewals_missed_total";
    let missed_before = world.instances[owner].counter(missed).await;

    world.nodes.pause(0);
    let mut typed = String::new();
    for word in ["one", "two", "three", "four", "five"] {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let edits = vec![TextEdit {
            at: 0,
            delete: 0,
            insert: format!("{word} "),
        }];
        seats[0].play(battle, PlayerAction::Edit { edits }).await;
        typed.insert_str(0, &format!("{word} "));
    }
    let missed_after = world.instances[owner].counter(missed).await;
    let owner_after = world.owner(battle).await;
    let taken_after = leases_taken(&world).await;
    world.nodes.resume(0);

    assert_eq!(missed_after, missed_before, "leases lapsed");
    assert_eq!(owner_after, Some(owner));
    assert_eq!(taken_after, taken_before, "a battle changed hands");
    let (ana_id, typed) = (ana.id, typed.as_str());
    all_until(&mut seats, move |s| code_of(s, ana_id) == typed).await;
    settle(&mut seats).await;
    assert_whole(&seats);
    world.cleanup().await;
}
