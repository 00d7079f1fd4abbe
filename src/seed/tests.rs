//! The generator without a database: budgets add up, stories have exactly
//! their budget, passes follow prerequisites, and timelines run forward.

use super::catalog::{Catalog, Node, NodeKind, Path};
use super::people::{self, DAY};
use super::story::{self, Kind, Stage};
use super::{SeedOptions, learner, random, timeline};
use std::time::{Duration, SystemTime};

fn node(key: &str, kind: NodeKind, difficulty: u8, skills: &[u16]) -> Node {
    Node {
        id: 100,
        path: 0,
        key: key.to_owned(),
        kind,
        difficulty,
        skills: skills.to_vec(),
        groups: Vec::new(),
        remedial_for: None,
        remedials: Vec::new(),
        remediate_after_failures: 2,
        guards: Vec::new(),
    }
}

/// A lesson, then `a` and `c`; `b` needs `a` or `c`; `r` is remedial for `b`;
/// checkpoint `k` (after the lesson) tests out of `a` and `c`; `hard` needs `b`.
fn catalog() -> Catalog {
    let mut nodes = vec![
        node("intro", NodeKind::Lesson, 1, &[]),
        node("a", NodeKind::Challenge, 1, &[0]),
        node("c", NodeKind::Challenge, 2, &[1]),
        node("b", NodeKind::Challenge, 3, &[0, 1]),
        node("r", NodeKind::Challenge, 1, &[0]),
        node("k", NodeKind::Checkpoint, 2, &[0, 1]),
        node("hard", NodeKind::Challenge, 5, &[2]),
    ];
    for (i, n) in nodes.iter_mut().enumerate() {
        n.id = 100 + i as i64;
    }
    nodes[1].groups = vec![vec![0]];
    nodes[2].groups = vec![vec![0]];
    nodes[3].groups = vec![vec![1, 2]];
    nodes[3].remedials = vec![4];
    nodes[4].remedial_for = Some(3);
    nodes[5].groups = vec![vec![0]];
    nodes[5].guards = vec![1, 2];
    nodes[6].groups = vec![vec![3]];
    Catalog {
        paths: vec![Path {
            id: uuid::Uuid::nil(),
            slug: "basics".into(),
            nodes: (0..nodes.len()).collect(),
        }],
        nodes,
        skills: vec!["loops".into(), "strings".into(), "graphs".into()],
    }
}

fn options(learners: usize, events: u64) -> SeedOptions {
    SeedOptions::new(learners, events, 11)
}

const NOW: i64 = 900 * DAY;

#[test]
fn budgets_add_up_to_the_events_asked_for() {
    let catalog = catalog();
    for (learners, events) in [(1, 0), (1, 7), (13, 1_000), (200, 20_000), (999, 123_457)] {
        let population = people::plan(&catalog, &options(learners, events), NOW);
        let total: u64 = population
            .learners
            .iter()
            .map(|l| u64::from(l.budget))
            .sum();
        assert_eq!(total, events, "{learners} learners");
        assert!(!population.instructors.is_empty() && !population.cohorts.is_empty());
        assert!(
            population
                .learners
                .iter()
                .all(|l| l.end < NOW && l.start < l.end)
        );
    }
}

#[test]
fn a_story_has_its_budget_and_passes_nodes_in_prerequisite_order() {
    let catalog = catalog();
    let population = people::plan(&catalog, &options(60, 30_000), NOW);
    let mixes = story::failure_mixes(&catalog, &mut random::rng_for(11, 0));
    let mut remediated = 0;
    for who in &population.learners {
        let told = learner::simulate(&catalog, &mixes, who);
        assert_eq!(told.events.len(), who.budget as usize);
        let mut done = vec![false; catalog.nodes.len()];
        let mut verdicts = vec![0u32; catalog.nodes.len()];
        for e in &told.events {
            let n = usize::from(e.node);
            match e.kind {
                Kind::Verdict => verdicts[n] += 1,
                Kind::RemediationOpened => remediated += 1,
                Kind::NodePassed => {
                    let groups = &catalog.nodes[n].groups;
                    assert!(
                        groups.iter().all(|g| g.iter().any(|&f| done[f])),
                        "node {n} passed before its prerequisites"
                    );
                    done[n] = true;
                    for &g in &catalog.nodes[n].guards {
                        done[g] = true;
                    }
                }
                _ => {}
            }
        }
        for (n, state) in told.nodes.iter().enumerate() {
            if catalog.nodes[n].kind != NodeKind::Lesson {
                assert_eq!(state.attempts, verdicts[n], "attempts on node {n}");
            }
            assert_eq!(
                state.stage == Stage::Passed,
                done[n] && !matches!(state.stage, Stage::Skipped(_))
            );
        }
    }
    assert!(remediated > 0, "someone was offered the remedial node");
}

#[test]
fn timelines_run_forward_and_end_before_now() {
    let catalog = catalog();
    let population = people::plan(&catalog, &options(40, 8_000), NOW);
    let mixes = story::failure_mixes(&catalog, &mut random::rng_for(11, 0));
    for (i, who) in population.learners.iter().enumerate() {
        let told = learner::simulate(&catalog, &mixes, who);
        let placed = timeline::place(&told, who, i as u32);
        assert_eq!(placed.rows.len(), told.events.len());
        assert!(
            placed.rows.windows(2).all(|w| w[0].at < w[1].at),
            "strictly increasing"
        );
        assert!(placed.rows.last().is_none_or(|r| r.at < who.end));
        for p in &placed.progress {
            assert!(p.first <= p.last && p.failures <= p.attempts);
            assert_eq!(p.passed_at.is_some(), p.stage == "passed");
        }
    }
}

#[test]
fn the_same_seed_draws_the_same_people() {
    let catalog = catalog();
    let a = people::plan(&catalog, &options(50, 5_000), NOW);
    let b = people::plan(&catalog, &options(50, 5_000), NOW);
    let ids = |p: &people::Population| {
        p.learners
            .iter()
            .map(|l| (l.person.id, l.budget))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(a.learners[7].truth, b.learners[7].truth);
    let c = people::plan(&catalog, &SeedOptions::new(50, 5_000, 12), NOW);
    assert_ne!(ids(&a), ids(&c));
    // The clock only matters through `now`.
    let later = SeedOptions {
        now: SystemTime::now() + Duration::from_secs(3600),
        ..options(50, 5_000)
    };
    assert_eq!(ids(&a), ids(&people::plan(&catalog, &later, NOW)));
}
