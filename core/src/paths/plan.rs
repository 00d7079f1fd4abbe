//! Questions a learner asks of the path: what leads here, where this leads,
//! what is left before a goal, and what to do next.
//!
//! `remaining` is mirrored by `server/src/paths/sql/remaining.sql`; `ancestors`
//! and `descendants` by the SQL beside it. They follow prerequisite edges only:
//! a remedial node is a side trip, never on the way anywhere.

use super::graph::PathGraph;
use super::progress::{NodeStatus, Progress};
use super::rules::{done, entry, satisfied, statuses, struggling};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// What to do next, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The node to go to.
    pub node: usize,
    /// Why that one.
    pub reason: Reason,
}

/// Why a node is recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// It helps with `target`, where the learner is struggling.
    Remedial {
        /// The node the learner struggles on.
        target: usize,
    },
    /// The learner started it and has not finished.
    Continue,
    /// It is open and the earliest in the path.
    Start,
}

/// Every node that leads to `node` through prerequisites, ascending.
pub fn ancestors(graph: &PathGraph, node: usize) -> Vec<usize> {
    let adjacency = graph.adjacency();
    walk(graph.nodes.len(), node, |n| {
        adjacency.groups[n]
            .iter()
            .flatten()
            .map(|&e| graph.edges[e].from)
            .collect()
    })
}

/// Every node that `node` leads to through prerequisites, ascending.
pub fn descendants(graph: &PathGraph, node: usize) -> Vec<usize> {
    let adjacency = graph.adjacency();
    walk(graph.nodes.len(), node, |n| {
        adjacency.outgoing[n]
            .iter()
            .map(|&e| graph.edges[e].to)
            .collect()
    })
}

/// The nodes reachable from `start` by `next`, without `start`, ascending.
fn walk(n: usize, start: usize, next: impl Fn(usize) -> Vec<usize>) -> Vec<usize> {
    if start >= n {
        return Vec::new();
    }
    let mut seen = vec![false; n];
    seen[start] = true;
    let mut todo = vec![start];
    while let Some(node) = todo.pop() {
        for to in next(node) {
            if !seen[to] {
                seen[to] = true;
                todo.push(to);
            }
        }
    }
    seen[start] = false;
    (0..n).filter(|&i| seen[i]).collect()
}

/// What is left before `target`, in the order to do it. The needed edges are,
/// for each node not done and each of its requirement groups with no satisfied
/// edge, the group's preferred (first) edge. Walking up the needed edges from
/// `target` through nodes not done visits the answer: ordered by the longest
/// distance to `target` in needed edges (furthest first), then by index; the
/// target comes last. Empty when the target is done.
pub fn remaining(graph: &PathGraph, progress: &[Option<Progress>], target: usize) -> Vec<usize> {
    let n = graph.nodes.len();
    if target >= n || done(entry(progress, target)) {
        return Vec::new();
    }
    let adjacency = graph.adjacency();
    let needed_from = |node: usize| -> Vec<usize> {
        adjacency.groups[node]
            .iter()
            .filter(|group| !group.iter().any(|&e| satisfied(&graph.edges[e], progress)))
            .filter_map(|group| group.first())
            .map(|&e| graph.edges[e].from)
            .filter(|&from| !done(entry(progress, from)))
            .collect()
    };

    // The walk, as a graph: `up[node]` are the nodes it still needs.
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut visited = vec![false; n];
    visited[target] = true;
    let mut todo = vec![target];
    while let Some(node) = todo.pop() {
        up[node] = needed_from(node);
        for &from in &up[node] {
            if !visited[from] {
                visited[from] = true;
                todo.push(from);
            }
        }
    }

    // Longest distance to the target: relax in topological order of the walk
    // (a node is final once every node that needs it is). On a cycle (an invalid
    // graph) some nodes never become final; they keep the distance they got.
    let mut waiting = vec![0usize; n];
    for &from in up.iter().flatten() {
        waiting[from] += 1;
    }
    let mut distance = vec![0usize; n];
    let mut ready = vec![target];
    while let Some(node) = ready.pop() {
        for &from in &up[node] {
            distance[from] = distance[from].max(distance[node] + 1);
            if waiting[from] > 0 {
                waiting[from] -= 1;
                if waiting[from] == 0 {
                    ready.push(from);
                }
            }
        }
    }

    let mut left: Vec<usize> = (0..n).filter(|&i| visited[i]).collect();
    left.sort_by_key(|&i| (Reverse(distance[i]), i));
    left
}

/// What to do next: the first remedial node (by index) that is available and
/// whose target the learner struggles on; else the node in progress earliest in
/// the path (lowest layer, then index); else the open node earliest in the path.
pub fn recommend(graph: &PathGraph, progress: &[Option<Progress>]) -> Option<Recommendation> {
    let status = statuses(graph, progress);
    let remedial = graph.nodes.iter().enumerate().find_map(|(r, node)| {
        let target = node.remedial_for?;
        let helps = status[r].is_available()
            && graph
                .nodes
                .get(target)
                .is_some_and(|t| struggling(t, entry(progress, target)));
        helps.then_some(Recommendation {
            node: r,
            reason: Reason::Remedial { target },
        })
    });
    if remedial.is_some() {
        return remedial;
    }
    let layers = graph.layers();
    let earliest = |wanted: NodeStatus| {
        (0..status.len())
            .filter(|&i| status[i] == wanted)
            .min_by_key(|&i| (layers[i], i))
    };
    earliest(NodeStatus::InProgress)
        .map(|node| Recommendation {
            node,
            reason: Reason::Continue,
        })
        .or_else(|| {
            earliest(NodeStatus::Open).map(|node| Recommendation {
                node,
                reason: Reason::Start,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::graph::Node;
    use crate::paths::testing::fixtures::*;
    use crate::paths::testing::{arb_graph, arb_progress};
    use proptest::prelude::*;

    /// a -> b -> d and c -> d as alternatives (b preferred), d -> e; x is remedial for b.
    fn diamond() -> PathGraph {
        let mut graph = lessons(
            &["a", "b", "c", "d", "e", "x"],
            &[
                edge(0, 1, 0, 0),
                edge(1, 3, 0, 0),
                edge(2, 3, 0, 0),
                edge(3, 4, 0, 0),
            ],
        );
        graph.nodes[5] = Node {
            remedial_for: Some(1),
            ..graph.nodes[5].clone()
        };
        graph
    }

    #[test]
    fn ancestors_and_descendants_follow_edges_only() {
        let graph = diamond();
        assert_eq!(ancestors(&graph, 4), vec![0, 1, 2, 3]);
        assert_eq!(descendants(&graph, 0), vec![1, 3, 4]);
        assert_eq!(ancestors(&graph, 5), Vec::<usize>::new());
        assert_eq!(descendants(&graph, 1), vec![3, 4]);
    }

    #[test]
    fn remaining_takes_the_preferred_alternative_of_an_unmet_group() {
        let graph = diamond();
        let progress = untouched(&graph);
        assert_eq!(remaining(&graph, &progress, 4), vec![0, 1, 3, 4]);
    }

    #[test]
    fn remaining_drops_a_group_already_met_by_another_alternative() {
        let graph = diamond();
        let mut progress = untouched(&graph);
        progress[2] = Some(passed(100));
        assert_eq!(remaining(&graph, &progress, 4), vec![3, 4]);
        progress[3] = Some(passed(100));
        progress[4] = Some(skipped());
        assert!(remaining(&graph, &progress, 4).is_empty());
    }

    #[test]
    fn remaining_orders_by_the_longest_way_to_the_target() {
        // a -> b -> c -> d and a -> d (all-of): a is 3 steps away, not 1.
        let graph = lessons(
            &["a", "b", "c", "d"],
            &[
                edge(0, 1, 0, 0),
                edge(1, 2, 0, 0),
                edge(2, 3, 0, 0),
                edge(0, 3, 0, 1),
            ],
        );
        assert_eq!(remaining(&graph, &untouched(&graph), 3), vec![0, 1, 2, 3]);
    }

    #[test]
    fn remaining_stops_at_a_done_prerequisite_even_short_of_its_min_score() {
        // b passed with 60 but d needs 80 from b. The walk goes through nodes not
        // done only, so d alone remains (the page says why d is locked).
        let graph = lessons(&["b", "d"], &[edge(0, 1, 80, 0)]);
        let progress = vec![Some(passed(60)), None];
        assert_eq!(remaining(&graph, &progress, 1), vec![1]);
    }

    #[test]
    fn recommend_prefers_remediation_then_continuing_then_starting() {
        let graph = diamond();
        let mut progress = untouched(&graph);
        assert_eq!(
            recommend(&graph, &progress),
            Some(Recommendation {
                node: 0,
                reason: Reason::Start
            })
        );
        progress[0] = Some(passed(100));
        progress[2] = Some(tried(1, 1, 60));
        assert_eq!(
            recommend(&graph, &progress),
            Some(Recommendation {
                node: 2,
                reason: Reason::Continue
            })
        );
        progress[1] = Some(tried(3, 3, 60));
        assert_eq!(
            recommend(&graph, &progress),
            Some(Recommendation {
                node: 5,
                reason: Reason::Remedial { target: 1 }
            })
        );
    }

    #[test]
    fn recommend_takes_the_earliest_layer_before_the_lowest_index() {
        // Node 0 sits in layer 1 (after 2); node 1 and node 2 are roots.
        let graph = lessons(&["late", "early", "root"], &[edge(2, 0, 0, 0)]);
        let progress = vec![None, None, Some(passed(100))];
        assert_eq!(recommend(&graph, &progress).map(|r| r.node), Some(1));
    }

    #[test]
    fn recommend_is_none_when_everything_is_done() {
        let graph = lessons(&["a"], &[]);
        assert_eq!(recommend(&graph, &[Some(passed(100))]), None);
    }

    proptest! {
        #[test]
        fn remaining_ends_at_the_target_and_lists_only_unfinished_ancestors(
            (graph, progress, target) in arb_graph(20).prop_flat_map(|g| {
                let p = arb_progress(&g);
                let n = g.nodes.len();
                (Just(g), p, 0..n)
            })
        ) {
            let left = remaining(&graph, &progress, target);
            if done(progress[target].as_ref()) {
                prop_assert!(left.is_empty());
            } else {
                prop_assert_eq!(left.last(), Some(&target));
                let before = ancestors(&graph, target);
                for &i in &left[..left.len() - 1] {
                    prop_assert!(before.contains(&i));
                    prop_assert!(!done(progress[i].as_ref()));
                }
            }
        }
    }
}
