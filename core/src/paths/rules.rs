//! The unlock rules: from a path and one learner's stored progress, what the
//! learner sees on every node.
//!
//! This is the reference implementation. The server answers the same question
//! in SQL (`server/src/paths/sql/statuses.sql`) and a property test holds the two
//! equal, so each function below is one statement the SQL mirrors; a condition
//! added here must be added there too.
//!
//! `progress` has one entry per node (`None`: never touched); a missing entry
//! counts as `None`.

use super::graph::{Adjacency, Edge, Node, PathGraph};
use super::progress::{NodeStatus, Progress, Stage};

/// The stored record of node `i`, if any.
pub(crate) fn entry(progress: &[Option<Progress>], i: usize) -> Option<&Progress> {
    progress.get(i).and_then(Option::as_ref)
}

/// A node is done when it was passed or skipped.
pub fn done(progress: Option<&Progress>) -> bool {
    progress.is_some_and(|p| matches!(p.stage, Stage::Passed | Stage::Skipped))
}

/// An edge is satisfied when its prerequisite is done: skipped, or passed with
/// a best score of at least the edge's `min_score`.
pub fn satisfied(edge: &Edge, progress: &[Option<Progress>]) -> bool {
    let from = entry(progress, edge.from);
    done(from) && from.is_some_and(|p| p.stage == Stage::Skipped || p.best_score >= edge.min_score)
}

/// A learner struggles on a touched, unfinished node after
/// `remediate_after_failures` failures, or once an attempt was made and the best
/// score is below `remediate_below_score`.
pub fn struggling(node: &Node, progress: Option<&Progress>) -> bool {
    progress.is_some_and(|p| {
        !done(Some(p))
            && (p.failures >= node.remediate_after_failures
                || (p.attempts >= 1 && p.best_score < node.remediate_below_score))
    })
}

/// The nodes the learner can get to, as the least set where: (a) every
/// non-remedial node without prerequisites is in; (b) the end of a satisfied
/// edge from a node in the set is in; (c) a remedial node is in when its target
/// is in and either the learner struggles on the target or has touched the
/// remedial node.
pub fn reach(graph: &PathGraph, progress: &[Option<Progress>]) -> Vec<bool> {
    reach_with(graph, &graph.adjacency(), progress)
}

pub(crate) fn reach_with(
    graph: &PathGraph,
    adjacency: &Adjacency,
    progress: &[Option<Progress>],
) -> Vec<bool> {
    let n = graph.nodes.len();
    let mut reached = vec![false; n];
    let mut todo: Vec<usize> = (0..n)
        .filter(|&i| !graph.nodes[i].is_remedial() && adjacency.groups[i].is_empty())
        .collect();
    for &i in &todo {
        reached[i] = true;
    }
    while let Some(node) = todo.pop() {
        let through_edges = adjacency.outgoing[node]
            .iter()
            .map(|&e| &graph.edges[e])
            .filter(|e| satisfied(e, progress))
            .map(|e| e.to);
        let struggles = struggling(&graph.nodes[node], entry(progress, node));
        let into_remedial = adjacency.remedials[node]
            .iter()
            .copied()
            .filter(|&r| struggles || entry(progress, r).is_some());
        let next: Vec<usize> = through_edges.chain(into_remedial).collect();
        for to in next {
            if !reached[to] {
                reached[to] = true;
                todo.push(to);
            }
        }
    }
    reached
}

/// A node is unlocked when it is reached and, unless it is remedial, every one
/// of its requirement groups has a satisfied edge from a reached node.
pub fn unlocked(graph: &PathGraph, progress: &[Option<Progress>], reach: &[bool]) -> Vec<bool> {
    unlocked_with(graph, &graph.adjacency(), progress, reach)
}

fn unlocked_with(
    graph: &PathGraph,
    adjacency: &Adjacency,
    progress: &[Option<Progress>],
    reach: &[bool],
) -> Vec<bool> {
    let reached = |i: usize| reach.get(i).copied().unwrap_or(false);
    (0..graph.nodes.len())
        .map(|n| {
            reached(n)
                && (graph.nodes[n].is_remedial()
                    || adjacency.groups[n].iter().all(|group| {
                        group.iter().any(|&e| {
                            let edge = &graph.edges[e];
                            satisfied(edge, progress) && reached(edge.from)
                        })
                    }))
        })
        .collect()
}

/// What the learner sees on each node: the stored stage when passed or skipped;
/// otherwise in progress or open if unlocked (touched or not), else locked.
pub fn statuses(graph: &PathGraph, progress: &[Option<Progress>]) -> Vec<NodeStatus> {
    let adjacency = graph.adjacency();
    let reach = reach_with(graph, &adjacency, progress);
    let unlocked = unlocked_with(graph, &adjacency, progress, &reach);
    (0..graph.nodes.len())
        .map(|n| match entry(progress, n) {
            Some(p) if p.stage == Stage::Passed => NodeStatus::Passed,
            Some(p) if p.stage == Stage::Skipped => NodeStatus::Skipped,
            touched if unlocked[n] => match touched {
                Some(_) => NodeStatus::InProgress,
                None => NodeStatus::Open,
            },
            _ => NodeStatus::Locked,
        })
        .collect()
}

/// The nodes the learner may work on now (open or in progress), ascending.
pub fn open_nodes(graph: &PathGraph, progress: &[Option<Progress>]) -> Vec<usize> {
    statuses(graph, progress)
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_available())
        .map(|(i, _)| i)
        .collect()
}

/// The nodes an attempt opened: locked before, open or in progress after.
pub fn newly_opened(before: &[NodeStatus], after: &[NodeStatus]) -> Vec<usize> {
    before
        .iter()
        .zip(after)
        .enumerate()
        .filter(|(_, (b, a))| **b == NodeStatus::Locked && a.is_available())
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::testing::arb_path_and_progress;
    use crate::paths::testing::fixtures::*;
    use NodeStatus::*;
    use proptest::prelude::*;

    #[test]
    fn roots_open_and_the_rest_stay_locked_for_a_new_learner() {
        let graph = lessons(&["a", "b"], &[edge(0, 1, 0, 0)]);
        assert_eq!(statuses(&graph, &untouched(&graph)), vec![Open, Locked]);
    }

    #[test]
    fn all_of_needs_every_group() {
        // c needs a and b (two groups).
        let graph = lessons(&["a", "b", "c"], &[edge(0, 2, 0, 0), edge(1, 2, 0, 1)]);
        let mut progress = untouched(&graph);
        progress[0] = Some(passed(100));
        assert_eq!(statuses(&graph, &progress)[2], Locked);
        progress[1] = Some(passed(100));
        assert_eq!(statuses(&graph, &progress)[2], Open);
    }

    #[test]
    fn any_of_needs_one_alternative() {
        // c needs a or b (one group).
        let graph = lessons(&["a", "b", "c"], &[edge(0, 2, 0, 0), edge(1, 2, 0, 0)]);
        let mut progress = untouched(&graph);
        progress[1] = Some(passed(100));
        assert_eq!(statuses(&graph, &progress), vec![Open, Passed, Open]);
    }

    #[test]
    fn min_score_holds_a_node_until_the_prerequisite_scores_enough() {
        let mut graph = lessons(&["a", "b"], &[edge(0, 1, 80, 0)]);
        graph.nodes[0].pass_score = 60;
        let mut progress = untouched(&graph);
        progress[0] = Some(passed(70));
        assert_eq!(statuses(&graph, &progress), vec![Passed, Locked]);
        progress[0] = Some(passed(80));
        assert_eq!(statuses(&graph, &progress), vec![Passed, Open]);
    }

    #[test]
    fn a_skipped_prerequisite_meets_any_min_score() {
        let graph = lessons(&["a", "b"], &[edge(0, 1, 100, 0)]);
        let progress = vec![Some(skipped()), None];
        assert_eq!(statuses(&graph, &progress), vec![Skipped, Open]);
    }

    #[test]
    fn an_edge_from_an_unreached_node_does_not_open_its_end() {
        // b was skipped by some test-out while a is not done: b is not reached,
        // so c (after b) stays locked even though its edge is satisfied.
        let graph = lessons(&["a", "b", "c"], &[edge(0, 1, 0, 0), edge(1, 2, 0, 0)]);
        let progress = vec![None, Some(skipped()), None];
        assert_eq!(statuses(&graph, &progress), vec![Open, Skipped, Locked]);
    }

    #[test]
    fn remediation_opens_after_enough_failures() {
        let graph = with_remedial();
        let mut progress = untouched(&graph);
        progress[0] = Some(tried(2, 2, 60));
        assert_eq!(statuses(&graph, &progress)[2], Locked);
        progress[0] = Some(tried(3, 3, 60));
        assert_eq!(statuses(&graph, &progress), vec![InProgress, Locked, Open]);
    }

    #[test]
    fn remediation_opens_after_a_low_score() {
        let graph = with_remedial();
        let progress = vec![Some(tried(1, 1, 49)), None, None];
        assert_eq!(statuses(&graph, &progress)[2], Open);
        let progress = vec![Some(tried(1, 1, 50)), None, None];
        assert_eq!(statuses(&graph, &progress)[2], Locked);
        // Opening a node without attempting it is not struggling.
        let progress = vec![Some(tried(0, 0, 0)), None, None];
        assert_eq!(statuses(&graph, &progress)[2], Locked);
    }

    #[test]
    fn remediation_stays_open_once_touched() {
        let graph = with_remedial();
        let progress = vec![Some(passed(100)), None, Some(tried(1, 0, 100))];
        assert_eq!(statuses(&graph, &progress), vec![Passed, Open, InProgress]);
        // Untouched, it closes again once the learner no longer struggles.
        let progress = vec![Some(passed(100)), None, None];
        assert_eq!(statuses(&graph, &progress)[2], Locked);
    }

    #[test]
    fn newly_opened_lists_locked_nodes_that_became_available() {
        let before = [Locked, Locked, Open, Locked];
        let after = [Open, Locked, Passed, InProgress];
        assert_eq!(newly_opened(&before, &after), vec![0, 3]);
    }

    /// The rules restated as a plain fixed point over all edges, independent of
    /// the worklist in `reach`.
    fn naive_statuses(graph: &PathGraph, progress: &[Option<Progress>]) -> Vec<NodeStatus> {
        let n = graph.nodes.len();
        let has_incoming = |i: usize| graph.edges.iter().any(|e| e.to == i);
        let mut reach: Vec<bool> = (0..n)
            .map(|i| !graph.nodes[i].is_remedial() && !has_incoming(i))
            .collect();
        loop {
            let mut changed = false;
            for e in &graph.edges {
                if reach[e.from] && satisfied(e, progress) && !reach[e.to] {
                    reach[e.to] = true;
                    changed = true;
                }
            }
            for (r, node) in graph.nodes.iter().enumerate() {
                if let Some(t) = node.remedial_for {
                    let opens =
                        struggling(&graph.nodes[t], progress[t].as_ref()) || progress[r].is_some();
                    if reach[t] && opens && !reach[r] {
                        reach[r] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        (0..n)
            .map(|i| {
                let groups_met = graph.edges.iter().filter(|e| e.to == i).all(|g| {
                    graph.edges.iter().any(|e| {
                        e.to == i && e.group == g.group && satisfied(e, progress) && reach[e.from]
                    })
                });
                let open = reach[i] && (graph.nodes[i].is_remedial() || groups_met);
                match (progress[i].map(|p| p.stage), open) {
                    (Some(Stage::Passed), _) => Passed,
                    (Some(Stage::Skipped), _) => Skipped,
                    (Some(Stage::InProgress), true) => InProgress,
                    (None, true) => Open,
                    _ => Locked,
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn statuses_match_a_naive_fixed_point(
            (graph, progress) in arb_path_and_progress(24)
        ) {
            prop_assert_eq!(statuses(&graph, &progress), naive_statuses(&graph, &progress));
        }

        #[test]
        fn available_nodes_have_every_group_met_and_nothing_else_is_locked_wrongly(
            (graph, progress) in arb_path_and_progress(24)
        ) {
            let status = statuses(&graph, &progress);
            let reach = reach(&graph, &progress);
            for (i, s) in status.iter().enumerate() {
                let groups_met = graph.edges.iter().filter(|e| e.to == i).all(|g| {
                    graph.edges.iter().any(|e| {
                        e.to == i && e.group == g.group && satisfied(e, &progress) && reach[e.from]
                    })
                });
                let may_work = reach[i] && (graph.nodes[i].is_remedial() || groups_met);
                if s.is_available() {
                    prop_assert!(may_work, "node {} is {:?} without its prerequisites", i, s);
                }
                if *s == Locked {
                    prop_assert!(!may_work, "node {} is locked with its prerequisites met", i);
                }
            }
        }
    }
}
