//! The battle's promises: a client that starts from any snapshot and applies
//! the deltas after it holds the server's state; re-delivered, missing or
//! tampered deltas are caught; refused commands change nothing; results never
//! change once final.

use super::*;
use crate::code::Language;
use proptest::prelude::*;

const USERS: [&str; 4] = ["ana", "ben", "cy", "dee"];

fn problem() -> Problem {
    Problem {
        challenge: "two-sum".into(),
        title: "Two sum".into(),
        visible: 2,
        hidden: 5,
    }
}

fn join(user: &str) -> Command {
    Command::Join {
        user: user.into(),
        name: user.to_uppercase(),
        language: Language::Python,
        rating: 1000,
    }
}

fn ready(user: &str, now_ms: u64) -> Command {
    Command::Ready {
        user: user.into(),
        ready: true,
        now_ms,
    }
}

fn judged(user: &str, hidden_passed: u16, at: u64) -> Command {
    Command::Judged {
        user: user.into(),
        hidden_passed,
        received_at_ms: at,
        now_ms: at,
    }
}

/// A battle of `users` that has just started at t = 10 000.
fn running(mode: Mode, users: &[&str]) -> (BattleState, Vec<Delta>) {
    let mut state = BattleState::new(1, Settings::standard(mode, true));
    let mut deltas = Vec::new();
    let mut run = |state: &mut BattleState, cmd: Command| {
        deltas.extend(state.advance(&cmd).expect("allowed"));
    };
    for user in users {
        run(&mut state, join(user));
    }
    for user in users {
        run(&mut state, ready(user, 1_000));
    }
    assert_eq!(
        state.phase,
        Phase::Countdown {
            starts_at_ms: 6_000
        }
    );
    run(
        &mut state,
        Command::Reveal {
            problem: problem(),
            now_ms: 10_000,
        },
    );
    (state, deltas)
}

#[test]
fn a_duel_is_won_by_the_first_full_pass_and_then_closes() {
    let (mut state, _) = running(Mode::Duel, &["ana", "ben"]);
    state.advance(&judged("ben", 3, 20_000)).expect("partial");
    assert!(!state.is_finished());
    state.advance(&judged("ana", 5, 30_000)).expect("full pass");
    assert!(matches!(
        state.phase,
        Phase::Finished {
            reason: FinishReason::Solved,
            ..
        }
    ));
    let ana = &state.players[0];
    assert_eq!((ana.standing.rank, ana.solved_ms), (1, Some(20_000)));
    assert_eq!(state.players[1].standing.rank, 2);

    let before = state.clone();
    assert_eq!(
        state.advance(&judged("ben", 5, 29_000)),
        Err(Refusal::TooLate)
    );
    assert_eq!(state, before, "a late verdict changes nothing");
}

#[test]
fn a_group_ranks_by_solve_time_then_tests_then_join_order() {
    let (mut state, _) = running(Mode::Group, &["ana", "ben", "cy", "dee"]);
    state.advance(&judged("cy", 5, 40_000)).expect("cy solves");
    state
        .advance(&judged("ben", 5, 30_000))
        .expect("ben solves");
    state
        .advance(&judged("dee", 4, 31_000))
        .expect("dee nearly");
    state
        .advance(&judged("ana", 4, 32_000))
        .expect("ana nearly");
    let ranks: Vec<u16> = state.players.iter().map(|p| p.standing.rank).collect();
    // ben (solved first), cy, then ana and dee tied on tests: ana joined first.
    assert_eq!(ranks, [3, 1, 2, 4]);
    assert!(!state.is_finished(), "not everyone has solved");
    state
        .advance(&Command::Tick {
            now_ms: 10_000 + 15 * 60_000,
        })
        .expect("time up");
    assert!(matches!(
        state.phase,
        Phase::Finished {
            reason: FinishReason::TimeUp,
            ..
        }
    ));
}

#[test]
fn a_submission_received_after_time_up_is_too_late() {
    let (mut state, _) = running(Mode::Duel, &["ana", "ben"]);
    let ends = 10_000 + 15 * 60_000;
    assert_eq!(
        state.advance(&judged("ana", 5, ends)),
        Err(Refusal::TooLate)
    );
}

#[test]
fn a_player_away_past_the_grace_period_forfeits() {
    let (mut state, _) = running(Mode::Duel, &["ana", "ben"]);
    state
        .advance(&Command::Away {
            user: "ben".into(),
            now_ms: 11_000,
        })
        .expect("away");
    state
        .advance(&Command::Tick { now_ms: 20_000 })
        .expect("tick");
    assert!(!state.is_finished(), "still within grace");
    state
        .advance(&Command::Tick { now_ms: 41_000 })
        .expect("tick");
    assert!(state.players[1].forfeited);
    assert!(matches!(
        state.phase,
        Phase::Finished {
            reason: FinishReason::Forfeit,
            ..
        }
    ));
    assert_eq!(state.players[0].standing.rank, 1);
}

#[test]
fn strangers_and_wrong_phases_are_refused() {
    let (mut state, _) = running(Mode::Duel, &["ana", "ben"]);
    let before = state.clone();
    assert_eq!(
        state.advance(&judged("mallory", 5, 11_000)),
        Err(Refusal::NotAPlayer)
    );
    assert_eq!(
        state.advance(&Command::Edit {
            user: "mallory".into(),
            edits: vec![],
        }),
        Err(Refusal::NotAPlayer)
    );
    assert!(matches!(
        state.advance(&join("cy")),
        Err(Refusal::WrongPhase(_))
    ));
    assert_eq!(state, before);
}

/// Stored deltas carry hashes made by earlier builds, and a battle rebuilt
/// from them checks each one: the hash stays xxh3 over postcard's encoding of
/// the state, however that encoding is produced.
#[test]
fn the_hash_is_xxh3_of_the_postcard_encoding() {
    let (mut state, _) = running(Mode::Duel, &["ana", "ben"]);
    state
        .advance(&Command::Edit {
            user: "ana".into(),
            edits: vec![TextEdit {
                at: 0,
                delete: 0,
                insert: "print(sum(map(int, input().split())))\n".repeat(40),
            }],
        })
        .expect("allowed");
    let encoded = postcard::to_allocvec(&state).expect("encodes");
    assert!(encoded.len() > 1_000, "the document is in the encoding");
    assert_eq!(
        StateHash::of(&state),
        StateHash(xxhash_rust::xxh3::xxh3_64(&encoded))
    );
}

#[test]
fn an_edit_batch_applies_entirely_or_not_at_all() {
    let (mut state, _) = running(Mode::Duel, &["ana", "ben"]);
    let edit = |at, delete, insert: &str| TextEdit {
        at,
        delete,
        insert: insert.into(),
    };
    let good = Command::Edit {
        user: "ana".into(),
        edits: vec![edit(0, 0, "print(1)"), edit(6, 1, "2")],
    };
    state.advance(&good).expect("fits");
    assert_eq!(state.players[0].code, "print(2)");
    let before = state.clone();
    let bad = Command::Edit {
        user: "ana".into(),
        edits: vec![edit(0, 0, "x"), edit(100, 0, "y")],
    };
    assert!(matches!(state.advance(&bad), Err(Refusal::BadEdit(_))));
    assert_eq!(state, before);
}

#[test]
fn deltas_are_json_for_bots_with_the_hash_as_hex() {
    let (_, deltas) = running(Mode::Duel, &["ana", "ben"]);
    let json = serde_json::to_string(&deltas[0]).expect("json");
    let hash = format!("\"state_hash\":\"{}\"", deltas[0].state_hash);
    assert!(json.contains(&hash), "{json}");
    let back: Delta = serde_json::from_str(&json).expect("back");
    assert_eq!(back, deltas[0]);
    let binary: Delta =
        postcard::from_bytes(&postcard::to_allocvec(&deltas[0]).expect("postcard")).expect("back");
    assert_eq!(binary, deltas[0]);
}

/// One random step, turned into a command against the battle as it is.
#[derive(Debug, Clone)]
enum Step {
    Join(usize),
    Leave(usize),
    Ready(usize, bool),
    Away(usize),
    Back(usize),
    Reveal,
    Tick(u64),
    Edit(usize, u16, u16, String),
    Ran(usize, u16),
    Judged(usize, u16, u64),
    Spectators(u32),
    Rate,
}

fn step() -> impl Strategy<Value = Step> {
    let user = 0..USERS.len();
    // Weighted so that most runs get past the lobby to scoring and the end.
    prop_oneof![
        3 => user.clone().prop_map(Step::Join),
        1 => user.clone().prop_map(Step::Leave),
        5 => (user.clone(), prop::bool::weighted(0.9)).prop_map(|(u, r)| Step::Ready(u, r)),
        1 => user.clone().prop_map(Step::Away),
        2 => user.clone().prop_map(Step::Back),
        3 => Just(Step::Reveal),
        1 => (0u64..120_000).prop_map(Step::Tick),
        4 => (user.clone(), any::<u16>(), 0u16..8, "[a-zé(){}\n ]{0,12}")
            .prop_map(|(u, at, del, text)| Step::Edit(u, at, del, text)),
        2 => (user.clone(), 0u16..4).prop_map(|(u, n)| Step::Ran(u, n)),
        4 => (user, 0u16..7, 0u64..5_000).prop_map(|(u, n, ago)| Step::Judged(u, n, ago)),
        1 => (0u32..50).prop_map(Step::Spectators),
        1 => Just(Step::Rate),
    ]
}

fn command(step: &Step, state: &BattleState, now: &mut u64) -> Command {
    *now += 250;
    let user = |u: &usize| USERS[*u].to_owned();
    match step {
        Step::Join(u) => join(USERS[*u]),
        Step::Leave(u) => Command::Leave {
            user: user(u),
            now_ms: *now,
        },
        Step::Ready(u, r) => Command::Ready {
            user: user(u),
            ready: *r,
            now_ms: *now,
        },
        Step::Away(u) => Command::Away {
            user: user(u),
            now_ms: *now,
        },
        Step::Back(u) => Command::Back { user: user(u) },
        Step::Reveal => {
            if let Phase::Countdown { starts_at_ms } = state.phase {
                *now = (*now).max(starts_at_ms);
            }
            Command::Reveal {
                problem: problem(),
                now_ms: *now,
            }
        }
        Step::Tick(dt) => {
            *now += dt;
            Command::Tick { now_ms: *now }
        }
        Step::Edit(u, at, delete, insert) => {
            // Mostly edits that fit (an offset on a boundary), sometimes not.
            let doc = state
                .player_index(USERS[*u])
                .map(|i| state.players[i].code.as_str())
                .unwrap_or("");
            let mut at = usize::from(*at) % (doc.len() + 2);
            if !at.is_multiple_of(5) {
                while at > 0 && !doc.is_char_boundary(at.min(doc.len())) {
                    at -= 1;
                }
                at = at.min(doc.len());
            }
            Command::Edit {
                user: user(u),
                edits: vec![TextEdit {
                    at: at as u32,
                    delete: u32::from(*delete),
                    insert: insert.clone(),
                }],
            }
        }
        Step::Ran(u, n) => Command::Ran {
            user: user(u),
            visible_passed: *n,
        },
        Step::Judged(u, n, ago) => Command::Judged {
            user: user(u),
            hidden_passed: *n,
            received_at_ms: now.saturating_sub(*ago),
            now_ms: *now,
        },
        Step::Spectators(n) => Command::Spectators { count: *n },
        Step::Rate => Command::Rate {
            ratings: state
                .players
                .iter()
                .map(|p| (p.user.clone(), p.rating + 7))
                .collect(),
        },
    }
}

/// Runs `steps` on a fresh battle: the states after each delta (the first
/// before any) and the deltas.
fn play(mode: Mode, steps: &[Step]) -> (Vec<BattleState>, Vec<Delta>) {
    let mut state = BattleState::new(9, Settings::standard(mode, true));
    let mut now = 1_000_000;
    let mut snapshots = vec![state.clone()];
    let mut deltas = Vec::new();
    for step in steps {
        let cmd = command(step, &state, &mut now);
        let before = state.clone();
        let was_finished = state.is_finished();
        match state.advance(&cmd) {
            Ok(Some(delta)) => {
                assert_eq!(delta.seq, before.seq + 1);
                if was_finished {
                    // Only spectators, presence and ratings move after the end.
                    assert!(delta.ops.iter().all(|op| matches!(
                        op,
                        Op::Spectators(_) | Op::Rated { .. } | Op::Away { .. }
                    )));
                }
                snapshots.push(state.clone());
                deltas.push(delta);
            }
            Ok(None) => assert_eq!(state, before, "{cmd:?} changed the state silently"),
            Err(_) => assert_eq!(state, before, "refused {cmd:?} changed the state"),
        }
        check_standings(&state);
    }
    (snapshots, deltas)
}

fn check_standings(state: &BattleState) {
    if state.problem.is_none() {
        return;
    }
    let mut ranks: Vec<u16> = state.players.iter().map(|p| p.standing.rank).collect();
    ranks.sort_unstable();
    let expected: Vec<u16> = (1..=state.players.len() as u16).collect();
    assert_eq!(ranks, expected, "ranks are a total order");
    if let (
        Mode::Duel,
        Phase::Finished {
            reason: FinishReason::Solved,
            ..
        },
    ) = (state.settings.mode, state.phase)
    {
        let winners: Vec<_> = state
            .players
            .iter()
            .filter(|p| p.standing.rank == 1)
            .collect();
        assert!(winners.len() == 1 && winners[0].solved_ms.is_some());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_client_from_any_snapshot_ends_with_the_servers_state(
        group in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..120),
        pick in any::<proptest::sample::Index>(),
    ) {
        let mode = if group { Mode::Group } else { Mode::Duel };
        let (snapshots, deltas) = play(mode, &steps);
        let server = snapshots.last().expect("at least the start").clone();
        let from = pick.index(snapshots.len());
        let mut client = snapshots[from].clone();
        for delta in &deltas[from..] {
            apply(&mut client, delta).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        prop_assert_eq!(&client, &server);
        prop_assert_eq!(StateHash::of(&client), StateHash::of(&server));
    }

    #[test]
    fn repeated_missing_foreign_or_tampered_deltas_are_caught(
        steps in proptest::collection::vec(step(), 1..120),
        pick in any::<proptest::sample::Index>(),
    ) {
        let (snapshots, deltas) = play(Mode::Group, &steps);
        prop_assume!(!deltas.is_empty());
        let at = pick.index(deltas.len());
        let after = snapshots[at + 1].clone();

        let mut client = after.clone();
        let again = apply(&mut client, &deltas[at]);
        prop_assert!(matches!(again, Err(ApplyError::Duplicate { have: _, got: _ })), "{:?}", again);
        prop_assert_eq!(&client, &after);

        if at + 1 < deltas.len() {
            let mut client = snapshots[at].clone();
            let skipped = apply(&mut client, &deltas[at + 1]);
            prop_assert!(matches!(skipped, Err(ApplyError::Gap { have: _, got: _ })), "{:?}", skipped);
            prop_assert_eq!(&client, &snapshots[at]);
        }

        let mut foreign = deltas[at].clone();
        foreign.battle += 1;
        let mut client = snapshots[at].clone();
        let foreign = apply(&mut client, &foreign);
        prop_assert!(matches!(foreign, Err(ApplyError::WrongBattle { expected: _, got: _ })), "{:?}", foreign);

        let mut tampered = deltas[at].clone();
        tampered.state_hash = StateHash(tampered.state_hash.0 ^ 1);
        let mut client = snapshots[at].clone();
        let wrong = apply(&mut client, &tampered);
        prop_assert!(matches!(wrong, Err(ApplyError::HashMismatch { seq: _, expected: _, got: _ })), "{:?}", wrong);
    }

    #[test]
    fn a_tick_before_the_next_deadline_changes_nothing(
        group in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let mode = if group { Mode::Group } else { Mode::Duel };
        let (snapshots, _) = play(mode, &steps);
        for state in &snapshots {
            let before = state
                .next_deadline_ms()
                .map_or(u64::MAX / 2, |due| due.saturating_sub(1));
            let mut ticked = state.clone();
            let tick = ticked.advance(&Command::Tick { now_ms: before });
            prop_assert!(matches!(tick, Ok(None)), "{:?} at {} in {:?}", tick, before, state.phase);
        }
    }
}

/// Guards the properties above against testing only lobbies: random steps
/// must reach running and finished battles often.
#[test]
fn random_steps_reach_running_and_finished_battles() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let steps = proptest::collection::vec(step(), 1..120);
    let (mut ran, mut finished) = (0, 0);
    for _ in 0..200 {
        let tree = steps.new_tree(&mut runner).expect("steps");
        let (snapshots, _) = play(Mode::Duel, &tree.current());
        ran += usize::from(snapshots.iter().any(|s| s.problem.is_some()));
        finished += usize::from(snapshots.last().is_some_and(BattleState::is_finished));
    }
    assert!(
        ran >= 60 && finished >= 30,
        "ran {ran}, finished {finished} of 200"
    );
}
