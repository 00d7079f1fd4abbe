use super::*;
use crate::paths::generate::{SplitMix64, generate_graph};
use crate::paths::graph::{Edge, Node, NodeKind};
use crate::paths::testing::arb_graph;
use crate::paths::testing::fixtures::{edge, lessons};
use proptest::prelude::*;

/// A random DAG with shuffled indices: node `i` (in hidden topological order)
/// needs one to three of the 25 nodes before it.
fn random_dag(seed: u64, n: usize) -> PathGraph {
    let mut rng = SplitMix64::new(seed);
    let mut label: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        label.swap(i, rng.below(i + 1));
    }
    let mut edges: Vec<Edge> = Vec::new();
    for t in 1..n {
        for group in 0..rng.between(1, 3) {
            let from = t - 1 - rng.below(t.min(25));
            let (from, to) = (label[from], label[t]);
            if !edges.iter().any(|e| e.from == from && e.to == to) {
                edges.push(edge(from, to, 0, group as u32));
            }
        }
    }
    PathGraph {
        nodes: (0..n)
            .map(|i| Node::new(format!("n{i}"), NodeKind::Lesson, "node"))
            .collect(),
        edges,
    }
}

/// The invariants every drawing keeps.
fn check_drawing(graph: &PathGraph, drawn: &Layout) -> Result<(), String> {
    let layers = graph.layers();
    let inside = |p: &Point| p.x >= 0.0 && p.x <= drawn.width && p.y >= 0.0 && p.y <= drawn.height;
    for (i, p) in drawn.nodes.iter().enumerate() {
        let boxed = p.x - NODE_WIDTH / 2.0 >= 0.0
            && p.x + NODE_WIDTH / 2.0 <= drawn.width
            && p.y - NODE_HEIGHT / 2.0 >= 0.0
            && p.y + NODE_HEIGHT / 2.0 <= drawn.height;
        if !boxed {
            return Err(format!(
                "node {i} at {p:?} sticks out of {}x{}",
                drawn.width, drawn.height
            ));
        }
        for (j, q) in drawn.nodes.iter().enumerate().skip(i + 1) {
            if layers[i] == layers[j] && (p.x - q.x).abs() < NODE_WIDTH + NODE_GAP - 0.01 {
                return Err(format!("nodes {i} and {j} overlap: {p:?} {q:?}"));
            }
        }
    }
    for (e, line) in drawn.edges.iter().enumerate() {
        let edge = &graph.edges[e];
        let (from, to) = (drawn.nodes[edge.from], drawn.nodes[edge.to]);
        let ends = line.first().zip(line.last());
        let joins = ends.is_some_and(|(a, b)| {
            a.x == from.x
                && a.y == from.y + NODE_HEIGHT / 2.0
                && b.x == to.x
                && b.y == to.y - NODE_HEIGHT / 2.0
        });
        if !joins {
            return Err(format!("edge {e} does not join its nodes: {line:?}"));
        }
        if !line.windows(2).all(|w| w[1].y > w[0].y) || !line.iter().all(inside) {
            return Err(format!("edge {e} is not drawn downwards inside: {line:?}"));
        }
    }
    Ok(())
}

#[test]
fn an_empty_path_draws_nothing() {
    let drawn = layout(&PathGraph::default());
    assert!(drawn.nodes.is_empty() && drawn.edges.is_empty());
    assert_eq!((drawn.width, drawn.height), (2.0 * MARGIN, 2.0 * MARGIN));
}

#[test]
fn a_chain_is_drawn_as_a_straight_column() {
    let graph = lessons(&["a", "b", "c"], &[edge(0, 1, 0, 0), edge(1, 2, 0, 0)]);
    let drawn = layout(&graph);
    assert!(drawn.nodes.iter().all(|p| p.x == drawn.nodes[0].x));
    assert!(drawn.nodes[0].y < drawn.nodes[1].y && drawn.nodes[1].y < drawn.nodes[2].y);
    check_drawing(&graph, &drawn).unwrap();
}

#[test]
fn a_long_edge_bends_through_each_row_it_crosses() {
    // a -> b -> c -> d and a -> d: the long edge has a vertical run in rows 1 and 2.
    let graph = lessons(
        &["a", "b", "c", "d"],
        &[
            edge(0, 1, 0, 0),
            edge(1, 2, 0, 0),
            edge(2, 3, 0, 0),
            edge(0, 3, 0, 1),
        ],
    );
    let drawn = layout(&graph);
    assert_eq!(drawn.edges[3].len(), 6);
    // The run stays clear of the boxes of b and c.
    for run in drawn.edges[3][1..5].chunks(2) {
        assert_eq!(run[0].x, run[1].x);
        assert!((run[0].x - drawn.nodes[1].x).abs() >= NODE_WIDTH / 2.0);
    }
    check_drawing(&graph, &drawn).unwrap();
}

#[test]
fn a_remedial_node_sits_right_under_its_target_with_a_link_of_its_own() {
    let mut graph = lessons(&["a", "b", "help"], &[edge(0, 1, 0, 0)]);
    graph.nodes[2].remedial_for = Some(0);
    let drawn = layout(&graph);
    assert_eq!(drawn.remedial_links, vec![(0, 2)]);
    assert_eq!(drawn.nodes[2].y, drawn.nodes[1].y);
    let beside = (drawn.nodes[2].x - drawn.nodes[0].x).abs();
    assert!(
        beside <= NODE_WIDTH + NODE_GAP,
        "{beside} away from its target"
    );
    check_drawing(&graph, &drawn).unwrap();
}

#[test]
fn the_same_path_is_drawn_the_same_way() {
    let graph = generate_graph(5, 300);
    assert_eq!(layout(&graph), layout(&graph));
}

#[test]
fn sorting_removes_most_crossings_on_random_dags() {
    for (seed, n) in [(1, 100), (2, 100), (3, 300), (4, 300)] {
        for graph in [random_dag(seed, n), generate_graph(seed, n)] {
            let sorted = layout(&graph);
            check_drawing(&graph, &sorted).unwrap();
            let after = crossings(&graph, &sorted);
            let before = crossings(&graph, &layout_with(&graph, 0));
            assert!(
                after * 2 <= before,
                "{n} nodes: {after} crossings, {before} unsorted"
            );
        }
    }
}

#[test]
fn crossings_counts_each_crossing_pair_once() {
    // a b / c d with a -> d and b -> c: one crossing in index order, none sorted.
    let graph = lessons(&["a", "b", "c", "d"], &[edge(0, 3, 0, 0), edge(1, 2, 0, 0)]);
    assert_eq!(crossings(&graph, &layout_with(&graph, 0)), 1);
    assert_eq!(crossings(&graph, &layout(&graph)), 0);
}

#[test]
fn count_crossings_ignores_shared_ends() {
    let mut segments = vec![(0, 1), (0, 2), (1, 0), (2, 2), (1, 1)];
    // (0,1)x(1,0), (0,2)x(1,0), (0,2)x(1,1)
    assert_eq!(count_crossings(&mut segments), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_drawing_keeps_its_invariants(graph in arb_graph(60)) {
        let drawn = layout(&graph);
        prop_assert_eq!(drawn.nodes.len(), graph.nodes.len());
        prop_assert_eq!(drawn.edges.len(), graph.edges.len());
        if let Err(problem) = check_drawing(&graph, &drawn) {
            prop_assert!(false, "{}", problem);
        }
        prop_assert!(crossings(&graph, &drawn) <= crossings(&graph, &layout_with(&graph, 0)));
    }
}

/// `cargo test -p eduscale-core --release -- --ignored --nocapture`
#[test]
#[ignore = "a timing, not a check: run in release"]
fn time_a_thousand_node_layout() {
    let graph = generate_graph(42, 1000);
    let runs = 20;
    let timed = |sweeps: usize| {
        let started = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(layout_with(&graph, sweeps));
        }
        started.elapsed() / runs
    };
    let (each, unordered) = (timed(SWEEPS), timed(0));
    let drawn = layout(&graph);
    let unsorted = crossings(&graph, &layout_with(&graph, 0));
    println!(
        "1000 nodes, {} edges: {each:?} per layout ({unordered:?} without crossing reduction); \
         {} crossings ({unsorted} unsorted); {}x{} px",
        graph.edges.len(),
        crossings(&graph, &drawn),
        drawn.width,
        drawn.height
    );
}
