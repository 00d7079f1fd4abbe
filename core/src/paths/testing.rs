//! Random paths and learners for property tests, here and in the server (whose
//! SQL is tested against the rules on these). Compiled for tests and with the
//! `proptest` feature only, so the browser's build never sees proptest.
//!
//! Graphs are built in a topological order and then shuffled (node indices and
//! edge order both), so nothing downstream can lean on "prerequisites come
//! first" by accident.

use super::generate::SplitMix64;
use super::graph::{Edge, Node, NodeKind, PathGraph};
use super::plan::ancestors;
use super::progress::{Progress, Stage};
use proptest::prelude::*;
use proptest::sample::Index;

/// What one node of a random graph is made of, before it is wired up.
#[derive(Debug, Clone)]
struct Spec {
    kind: NodeKind,
    remedial: Option<Index>,
    parents: Vec<(Index, u32, u8)>,
    guards: Vec<Index>,
    pass_score: u8,
    remediate_after_failures: u32,
    remediate_below_score: u8,
}

fn arb_spec() -> impl Strategy<Value = Spec> {
    let kind = prop_oneof![
        4 => Just(NodeKind::Lesson),
        4 => Just(NodeKind::Challenge),
        2 => Just(NodeKind::Checkpoint),
    ];
    let score = prop_oneof![Just(0u8), Just(50), Just(80), Just(100), 0u8..=100];
    (
        kind,
        proptest::option::weighted(0.15, any::<Index>()),
        prop::collection::vec((any::<Index>(), 0u32..3, score), 0..4),
        prop::collection::vec(any::<Index>(), 0..3),
        prop_oneof![Just(100u8), Just(60), Just(80), 0u8..=100],
        1u32..5,
        prop_oneof![Just(50u8), 0u8..=100],
    )
        .prop_map(
            |(kind, remedial, parents, guards, pass_score, after, below)| Spec {
                kind,
                remedial,
                parents,
                guards,
                pass_score,
                remediate_after_failures: after,
                remediate_below_score: below,
            },
        )
}

/// Valid paths of 1 to `max_nodes` nodes: all-of and any-of groups, random
/// `min_score`s, some remedial nodes, some checkpoints guarding ancestors (the any-of pattern).
pub fn arb_graph(max_nodes: usize) -> impl Strategy<Value = PathGraph> {
    (1..=max_nodes.max(1))
        .prop_flat_map(|n| (prop::collection::vec(arb_spec(), n), any::<u64>()))
        .prop_map(|(specs, salt)| build(&specs, salt))
}

/// A random path with a random learner on it.
pub fn arb_path_and_progress(
    max_nodes: usize,
) -> impl Strategy<Value = (PathGraph, Vec<Option<Progress>>)> {
    arb_graph(max_nodes).prop_flat_map(|graph| {
        let progress = arb_progress(&graph);
        (Just(graph), progress)
    })
}

/// Wires the specs up in topological order (node `t` may need only earlier
/// ordinary nodes), then shuffles nodes and edges with `salt`.
fn build(specs: &[Spec], salt: u64) -> PathGraph {
    let mut graph = PathGraph::default();
    let mut ordinary: Vec<usize> = Vec::new();
    for (t, spec) in specs.iter().enumerate() {
        let mut node = Node {
            pass_score: spec.pass_score,
            remediate_after_failures: spec.remediate_after_failures,
            remediate_below_score: spec.remediate_below_score,
            ..Node::new(format!("n{t}"), spec.kind, format!("Node {t}"))
        };
        let target = spec
            .remedial
            .filter(|_| !ordinary.is_empty())
            .map(|i| ordinary[i.index(ordinary.len())]);
        if let Some(target) = target {
            node.remedial_for = Some(target);
            graph.nodes.push(node);
            continue;
        }
        graph.nodes.push(node);
        if !ordinary.is_empty() {
            for (pick, group, min_score) in &spec.parents {
                let from = ordinary[pick.index(ordinary.len())];
                if !graph.edges.iter().any(|e| e.from == from && e.to == t) {
                    graph.edges.push(Edge {
                        from,
                        to: t,
                        min_score: *min_score,
                        group: *group,
                    });
                }
            }
        }
        if spec.kind == NodeKind::Checkpoint {
            let before = ancestors(&graph, t);
            if !before.is_empty() {
                let mut guards: Vec<usize> = spec
                    .guards
                    .iter()
                    .map(|i| before[i.index(before.len())])
                    .collect();
                guards.sort_unstable();
                guards.dedup();
                graph.nodes[t].guards = guards;
            }
        }
        ordinary.push(t);
    }
    shuffle(graph, salt)
}

/// Renumbers the nodes and reorders the edges at random.
fn shuffle(graph: PathGraph, salt: u64) -> PathGraph {
    let mut rng = SplitMix64::new(salt);
    let n = graph.nodes.len();
    let mut new_index: Vec<usize> = (0..n).collect();
    fisher_yates(&mut new_index, &mut rng);
    let mut nodes: Vec<Option<Node>> = vec![None; n];
    for (old, mut node) in graph.nodes.into_iter().enumerate() {
        node.remedial_for = node.remedial_for.map(|t| new_index[t]);
        node.guards = node.guards.iter().map(|&g| new_index[g]).collect();
        nodes[new_index[old]] = Some(node);
    }
    let mut edges: Vec<Edge> = graph
        .edges
        .into_iter()
        .map(|e| Edge {
            from: new_index[e.from],
            to: new_index[e.to],
            ..e
        })
        .collect();
    fisher_yates(&mut edges, &mut rng);
    PathGraph {
        nodes: nodes.into_iter().flatten().collect(),
        edges,
    }
}

fn fisher_yates<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// A learner on `graph`, anything the database may hold: nodes untouched, in
/// progress, passed with various scores, skipped, and struggling ones.
pub fn arb_progress(graph: &PathGraph) -> impl Strategy<Value = Vec<Option<Progress>>> + use<> {
    graph
        .nodes
        .iter()
        .map(|node| arb_entry(node).boxed())
        .collect::<Vec<_>>()
}

fn arb_entry(node: &Node) -> impl Strategy<Value = Option<Progress>> + use<> {
    let pass = node.pass_score.min(100);
    let after = node.remediate_after_failures;
    let counted = |stage: Stage| {
        (0u8..=100, 0u32..6, 0u32..6).prop_map(move |(best, attempts, failures)| Progress {
            stage,
            best_score: best,
            attempts,
            failures: failures.min(attempts),
        })
    };
    prop_oneof![
        3 => Just(None),
        2 => counted(Stage::InProgress).prop_map(Some),
        2 => (pass..=100, 1u32..6, 0u32..5).prop_map(|(best, attempts, failures)| Some(Progress {
            stage: Stage::Passed,
            best_score: best,
            attempts,
            failures: failures.min(attempts - 1),
        })),
        1 => counted(Stage::Passed).prop_map(Some),
        1 => Just(Some(Progress { stage: Stage::Skipped, ..Progress::UNTRIED })),
        1 => counted(Stage::Skipped).prop_map(Some),
        2 => (0u8..=100, after..after + 3).prop_map(|(best, failures)| Some(Progress {
            stage: Stage::InProgress,
            best_score: best,
            attempts: failures,
            failures,
        })),
    ]
}

/// Small hand-made graphs and records for the unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// Lessons with these keys, joined by these edges.
    pub fn lessons(keys: &[&str], edges: &[Edge]) -> PathGraph {
        PathGraph {
            nodes: keys
                .iter()
                .map(|k| Node::new(*k, NodeKind::Lesson, *k))
                .collect(),
            edges: edges.to_vec(),
        }
    }

    /// `from` is needed by `to` with `min_score`, in requirement group `group`.
    pub fn edge(from: usize, to: usize, min_score: u8, group: u32) -> Edge {
        Edge {
            from,
            to,
            min_score,
            group,
        }
    }

    /// A learner who touched nothing.
    pub fn untouched(graph: &PathGraph) -> Vec<Option<Progress>> {
        vec![None; graph.nodes.len()]
    }

    /// Passed in one attempt with `score`.
    pub fn passed(score: u8) -> Progress {
        Progress {
            stage: Stage::Passed,
            best_score: score,
            attempts: 1,
            failures: 0,
        }
    }

    /// Tested out of, never attempted.
    pub fn skipped() -> Progress {
        Progress {
            stage: Stage::Skipped,
            ..Progress::UNTRIED
        }
    }

    /// In progress after `attempts` attempts, `failures` of them failed, best `best`.
    pub fn tried(attempts: u32, failures: u32, best: u8) -> Progress {
        Progress {
            stage: Stage::InProgress,
            best_score: best,
            attempts,
            failures,
        }
    }

    /// a -> b, with c remedial for a (after 3 failures or below 50).
    pub fn with_remedial() -> PathGraph {
        let mut graph = lessons(&["a", "b", "c"], &[edge(0, 1, 0, 0)]);
        graph.nodes[0].pass_score = 70;
        graph.nodes[2].remedial_for = Some(0);
        graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::{layout, recommend, record_attempt, remaining, statuses};

    /// Anything at all: edges to missing nodes, cycles, remedial chains, stray guards.
    fn arb_garbage() -> impl Strategy<Value = PathGraph> {
        (1usize..8).prop_flat_map(|n| {
            let index = 0..n + 2;
            let node = (
                proptest::option::of(index.clone()),
                prop::collection::vec(index.clone(), 0..3),
                any::<u8>(),
            );
            let edge = (index.clone(), index, any::<u8>(), 0u32..2);
            (
                prop::collection::vec(node, n),
                prop::collection::vec(edge, 0..12),
            )
                .prop_map(|(nodes, edges)| PathGraph {
                    nodes: nodes
                        .into_iter()
                        .enumerate()
                        .map(|(i, (remedial_for, guards, pass_score))| Node {
                            remedial_for,
                            guards,
                            pass_score,
                            ..Node::new(format!("n{i}"), NodeKind::Checkpoint, "")
                        })
                        .collect(),
                    edges: edges
                        .into_iter()
                        .map(|(from, to, min_score, group)| Edge {
                            from,
                            to,
                            min_score,
                            group,
                        })
                        .collect(),
                })
        })
    }

    proptest! {
        #[test]
        fn random_graphs_are_valid(graph in arb_graph(40)) {
            prop_assert_eq!(graph.validate(), Ok(()));
        }

        #[test]
        fn nothing_panics_on_an_invalid_graph(graph in arb_garbage(), score in 0u8..=255) {
            let _ = graph.validate();
            let progress = vec![Some(Progress::UNTRIED); graph.nodes.len() - 1];
            let _ = statuses(&graph, &progress);
            let _ = recommend(&graph, &progress);
            for node in 0..graph.nodes.len() + 1 {
                let _ = record_attempt(&graph, &progress, node, score);
                let _ = remaining(&graph, &progress, node);
            }
            let drawn = layout(&graph);
            prop_assert_eq!(drawn.edges.len(), graph.edges.len());
        }
    }
}
