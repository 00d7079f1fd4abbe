//! Deterministic, realistic paths and learners for benchmarks, demos and seed
//! data: the same seed gives the same path on every machine, with no `rand`
//! dependency (a splitmix64 generator is a dozen lines).
//!
//! A generated path is what authors write: layers of 8–15 nodes, each node
//! after the first layer needing one to three nodes of the layer before (now
//! and then one two layers up), some any-of choices, ~5% remedial nodes and a
//! checkpoint every few layers that a learner can take early to test out of
//! the layers it guards. A generated learner got there by the rules: their
//! progress is built by attempting open nodes with `record_attempt`.

use super::attempt::record_attempt;
use super::graph::{Edge, Node, NodeKind, PathGraph};
use super::plan::{ancestors, recommend};
use super::progress::{Progress, Stage};
use super::rules::open_nodes;

/// splitmix64: tiny, fast, and good enough for test data (not for secrets).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0). The modulo bias is irrelevant at these sizes.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice (`None` when empty).
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        let i = self.below(items.len());
        items.get(i).copied()
    }
}

/// A valid path of exactly `nodes` nodes, the same for the same seed.
pub fn generate_graph(seed: u64, nodes: usize) -> PathGraph {
    let mut rng = SplitMix64::new(seed);
    let mut graph = PathGraph::default();
    // The ordinary (non-remedial) nodes of each layer, and which have no child yet.
    let mut layers: Vec<Vec<usize>> = Vec::new();
    let mut childless = vec![false; nodes];

    while graph.nodes.len() < nodes {
        let depth = layers.len();
        let size = rng.between(8, 15);
        let mut layer = Vec::new();
        for _ in 0..size {
            let i = graph.nodes.len();
            if i == nodes {
                break;
            }
            let previous = layers.last().map_or(&[][..], Vec::as_slice);
            if rng.chance(5)
                && let Some(target) = rng.pick(previous)
            {
                graph.nodes.push(Node {
                    remedial_for: Some(target),
                    ..Node::new(format!("help-{i}"), NodeKind::Lesson, format!("Help {i}"))
                });
                continue;
            }
            let first_edge = graph.edges.len();
            let checkpoint = depth >= 4 && depth.is_multiple_of(4) && layer.is_empty();
            if checkpoint {
                add_checkpoint(&mut graph, &mut rng, &layers);
            } else {
                add_step(&mut graph, &mut rng, &layers, &childless);
            }
            for e in &graph.edges[first_edge..] {
                childless[e.from] = false;
            }
            childless[i] = true;
            layer.push(i);
        }
        layers.push(layer);
    }
    graph
}

/// A lesson or challenge needing nodes from the layer above (sometimes two up),
/// each its own group, plus now and then a choice between two.
fn add_step(
    graph: &mut PathGraph,
    rng: &mut SplitMix64,
    layers: &[Vec<usize>],
    childless: &[bool],
) {
    let i = graph.nodes.len();
    let node = if rng.chance(35) {
        Node {
            pass_score: [60, 70, 80, 100][rng.below(4)],
            ..Node::new(
                format!("challenge-{i}"),
                NodeKind::Challenge,
                format!("Challenge {i}"),
            )
        }
    } else {
        Node::new(
            format!("lesson-{i}"),
            NodeKind::Lesson,
            format!("Lesson {i}"),
        )
    };
    graph.nodes.push(node);
    let Some(previous) = layers.last() else {
        return;
    };
    let mut from: Vec<usize> = Vec::new();
    // Prefer a parent nobody depends on yet, so few nodes are dead ends.
    let orphans: Vec<usize> = previous.iter().copied().filter(|&p| childless[p]).collect();
    let first = rng.pick(&orphans).or_else(|| rng.pick(previous));
    from.extend(first);
    for _ in 0..rng.below(3) {
        let pool = match layers.len() {
            n if n >= 2 && rng.chance(20) => &layers[n - 2],
            _ => previous,
        };
        if let Some(p) = rng.pick(pool).filter(|p| !from.contains(p)) {
            from.push(p);
        }
    }
    let mut group = 0;
    for &p in &from {
        let min_score = min_score_from(graph, rng, p);
        graph.edges.push(Edge {
            from: p,
            to: i,
            min_score,
            group,
        });
        group += 1;
    }
    if rng.chance(15) {
        let a = rng.pick(previous);
        let b = rng.pick(previous);
        if let (Some(a), Some(b)) = (a, b) {
            for p in [a, b] {
                if !graph.edges.iter().any(|e| e.to == i && e.from == p) {
                    let min_score = min_score_from(graph, rng, p);
                    graph.edges.push(Edge {
                        from: p,
                        to: i,
                        min_score,
                        group,
                    });
                }
            }
        }
    }
}

/// A challenge asks for a score now and then; a lesson is passed with 100 anyway.
fn min_score_from(graph: &PathGraph, rng: &mut SplitMix64, from: usize) -> u8 {
    match graph.nodes[from].kind {
        NodeKind::Challenge if rng.chance(40) => [50, 70, 90][rng.below(3)],
        _ => 0,
    }
}

/// A checkpoint after the layer above, with a shortcut from four layers up as an
/// alternative: a learner can take it early and skip the layers in between.
fn add_checkpoint(graph: &mut PathGraph, rng: &mut SplitMix64, layers: &[Vec<usize>]) {
    let i = graph.nodes.len();
    graph.nodes.push(Node {
        pass_score: 80,
        ..Node::new(
            format!("checkpoint-{i}"),
            NodeKind::Checkpoint,
            format!("Checkpoint {i}"),
        )
    });
    let depth = layers.len();
    let (Some(route), Some(shortcut)) =
        (rng.pick(&layers[depth - 1]), rng.pick(&layers[depth - 4]))
    else {
        return;
    };
    for from in [route, shortcut] {
        graph.edges.push(Edge {
            from,
            to: i,
            min_score: 0,
            group: 0,
        });
    }
    let skippable: Vec<usize> = layers[depth - 3..].iter().flatten().copied().collect();
    graph.nodes[i].guards = ancestors(graph, i)
        .into_iter()
        .filter(|g| skippable.contains(g))
        .collect();
}

/// A learner who went a random distance into `graph`, built by the rules: each
/// step attempts an open node (mostly the recommended one) with `record_attempt`,
/// or retries a passed node whose best score is short of an edge's `min_score`
/// (as a learner does when a later node stays locked). Each learner has a skill:
/// the share of attempts that pass, 55–90%; many stop right after a failure.
pub fn generate_progress(seed: u64, graph: &PathGraph) -> Vec<Option<Progress>> {
    let mut rng = SplitMix64::new(seed);
    let mut progress = vec![None; graph.nodes.len()];
    let skill = rng.between(55, 90);
    let steps = rng.below(2 * graph.nodes.len() + 1);
    for _ in 0..steps {
        let open = open_nodes(graph, &progress);
        let short = short_of_min_score(graph, &progress);
        let node = if !short.is_empty() && (open.is_empty() || rng.chance(20)) {
            rng.pick(&short)
        } else if rng.chance(70) {
            recommend(graph, &progress).map(|r| r.node)
        } else {
            rng.pick(&open)
        };
        let Some(node) = node else {
            break;
        };
        let pass = usize::from(graph.nodes[node].pass_score);
        let score = if pass == 0 || rng.chance(skill) {
            rng.between(pass, 100)
        } else {
            rng.below(pass)
        };
        attempt(graph, &mut progress, node, score);
    }
    // Many learners stop for the day on a bad failure, on a node they now struggle on.
    if let Some(r) = recommend(graph, &progress).filter(|_| rng.chance(50)) {
        let pass = usize::from(graph.nodes[r.node].pass_score);
        if pass > 0 {
            attempt(graph, &mut progress, r.node, rng.below(pass.min(50)));
        }
    }
    progress
}

fn attempt(graph: &PathGraph, progress: &mut [Option<Progress>], node: usize, score: usize) {
    // Scores are at most 100, so the conversion cannot fail.
    let score = u8::try_from(score).unwrap_or(100);
    for (i, row) in record_attempt(graph, progress, node, score) {
        progress[i] = Some(row);
    }
}

/// Passed nodes whose best score is below what one of their edges asks.
fn short_of_min_score(graph: &PathGraph, progress: &[Option<Progress>]) -> Vec<usize> {
    let mut short: Vec<usize> = graph
        .edges
        .iter()
        .filter(|e| {
            progress[e.from].is_some_and(|p| p.stage == Stage::Passed && p.best_score < e.min_score)
        })
        .map(|e| e.from)
        .collect();
    short.sort_unstable();
    short.dedup();
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::progress::NodeStatus;
    use crate::paths::rules::{statuses, struggling};

    #[test]
    fn generated_paths_are_valid_and_sized_as_asked() {
        for (seed, n) in [(1, 0), (2, 1), (3, 40), (4, 300), (5, 1000)] {
            let graph = generate_graph(seed, n);
            assert_eq!(graph.nodes.len(), n);
            assert_eq!(graph.validate(), Ok(()), "seed {seed}");
        }
    }

    #[test]
    fn generated_paths_have_every_feature() {
        let graph = generate_graph(7, 600);
        let remedial = graph.nodes.iter().filter(|n| n.is_remedial()).count();
        assert!((10..=60).contains(&remedial), "{remedial} remedial nodes");
        assert!(graph.nodes.iter().any(|n| !n.guards.is_empty()));
        let any_of = graph.edges.iter().enumerate().any(|(i, a)| {
            graph.edges[..i]
                .iter()
                .any(|b| b.to == a.to && b.group == a.group)
        });
        assert!(any_of);
        assert!(graph.edges.iter().any(|e| e.min_score > 0));
    }

    #[test]
    fn the_same_seed_gives_the_same_path_and_learner() {
        let graph = generate_graph(11, 200);
        assert_eq!(graph, generate_graph(11, 200));
        assert_eq!(generate_progress(3, &graph), generate_progress(3, &graph));
    }

    #[test]
    fn generated_learners_meet_every_situation() {
        let graph = generate_graph(13, 200);
        let mut seen = std::collections::HashSet::new();
        let mut struggled = false;
        for seed in 0..16 {
            let progress = generate_progress(seed, &graph);
            seen.extend(statuses(&graph, &progress));
            struggled |= graph
                .nodes
                .iter()
                .zip(&progress)
                .any(|(node, p)| struggling(node, p.as_ref()));
            assert!(progress.iter().flatten().all(|p| p.failures <= p.attempts));
        }
        assert_eq!(seen.len(), NodeStatus::ALL.len(), "saw only {seen:?}");
        assert!(struggled);
    }
}
