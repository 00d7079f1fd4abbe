//! Where to draw a path: a layered (Sugiyama-style) layout, top to bottom.
//!
//! The path page runs this in the browser on every render, so it must stay fast
//! on a 1,000-node path (a few milliseconds natively) and deterministic (the same
//! path is drawn the same way on the server's preview and in the page). The steps:
//!
//! 1. Rows from [`PathGraph::layers`]; an edge spanning several rows gets a
//!    dummy vertex in each row it crosses, so it is routed between nodes.
//! 2. Crossing reduction (`order`): barycenter and median sweeps, down and up,
//!    each followed by adjacent swaps; the order with the fewest crossings wins.
//! 3. Coordinates (`place`): each vertex pulled towards its neighbours in the
//!    adjacent row, solved exactly per row under "keep order, never overlap".
//!
//! A remedial node sits in the row below its target and is ordered and placed as
//! if it hung from it, so it ends up beside or below it; it is joined by a link of
//! its own ([`Layout::remedial_links`]), not an edge.

mod order;
mod place;

use super::graph::PathGraph;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// A node box's width.
pub const NODE_WIDTH: f32 = 160.0;
/// A node box's height.
pub const NODE_HEIGHT: f32 = 48.0;
/// The least horizontal space between two node boxes in a row.
pub const NODE_GAP: f32 = 24.0;
/// The vertical space between rows, where edges change direction.
pub const LAYER_GAP: f32 = 64.0;
/// The space around the drawing.
pub const MARGIN: f32 = 16.0;
/// The least horizontal space between two edges passing through a row.
const EDGE_GAP: f32 = 12.0;
/// The most crossing-reduction sweeps (half down, half up); most paths settle sooner.
const SWEEPS: usize = 24;

/// A point in the drawing, in pixels from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Rightwards.
    pub x: f32,
    /// Downwards.
    pub y: f32,
}

/// A drawn path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// The drawing's width; every point lies within it.
    pub width: f32,
    /// The drawing's height; every point lies within it.
    pub height: f32,
    /// The centre of each node box, in the order of `graph.nodes`.
    pub nodes: Vec<Point>,
    /// One polyline per edge, in the order of `graph.edges`, from the bottom of
    /// `from` to the top of `to`. An edge spanning `k` rows has `2k` points: after
    /// its start, each row it passes is crossed as a vertical run (two points).
    pub edges: Vec<Vec<Point>>,
    /// `(target, remedial)` for each remedial node, drawn as a line of its own.
    pub remedial_links: Vec<(usize, usize)>,
}

/// Lays `graph` out top to bottom.
pub fn layout(graph: &PathGraph) -> Layout {
    layout_with(graph, SWEEPS)
}

/// The layout after `sweeps` crossing-reduction sweeps (0: rows in index order).
fn layout_with(graph: &PathGraph, sweeps: usize) -> Layout {
    let layered = Layered::new(graph);
    let rows = order::order(&layered, sweeps);
    let x = place::place(&layered, &rows);
    assemble(graph, &layered, &x, rows.len())
}

/// Edge crossings between adjacent rows (edges only, not remedial links); for tests.
pub fn crossings(graph: &PathGraph, layout: &Layout) -> usize {
    let layers = graph.layers();
    let mut gaps: Vec<Vec<(f32, f32)>> = Vec::new();
    for (edge, line) in graph.edges.iter().zip(&layout.edges) {
        let Some(&top) = layers.get(edge.from) else {
            continue;
        };
        for (j, run) in line.chunks_exact(2).enumerate() {
            let gap = top as usize + j;
            if gaps.len() <= gap {
                gaps.resize_with(gap + 1, Vec::new);
            }
            gaps[gap].push((run[0].x, run[1].x));
        }
    }
    gaps.iter_mut().map(|g| count_crossings(g)).sum()
}

/// Segments between two rows as (x at the top, x at the bottom): the pairs where
/// one starts left of the other and ends right of it. Segments sharing an end
/// do not cross. Sorting and merge-counting keep this O(s log s).
pub(crate) fn count_crossings<T: PartialOrd + Copy>(segments: &mut [(T, T)]) -> usize {
    let by = |a: &T, b: &T| a.partial_cmp(b).unwrap_or(Ordering::Equal);
    segments.sort_by(|a, b| by(&a.0, &b.0).then_with(|| by(&a.1, &b.1)));
    let mut bottoms: Vec<T> = segments.iter().map(|s| s.1).collect();
    let mut scratch = bottoms.clone();
    inversions(&mut bottoms, &mut scratch)
}

/// Pairs `i < j` with `v[i] > v[j]`, sorting `v` on the way.
fn inversions<T: PartialOrd + Copy>(v: &mut [T], scratch: &mut [T]) -> usize {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut count = inversions(&mut v[..mid], &mut scratch[..mid])
        + inversions(&mut v[mid..], &mut scratch[mid..]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[i] <= v[j] {
            scratch[k] = v[i];
            i += 1;
        } else {
            scratch[k] = v[j];
            j += 1;
            count += mid - i;
        }
        k += 1;
    }
    scratch[k..k + mid - i].copy_from_slice(&v[i..mid]);
    k += mid - i;
    scratch[k..k + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&scratch[..n]);
    count
}

/// The median of a non-empty list (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The graph made proper: every edge joins adjacent rows. Vertices are the
/// graph's nodes (same indices) followed by the dummies.
struct Layered {
    /// The graph's node count; a vertex at or past it is a dummy.
    real: usize,
    /// Each vertex's row.
    layer: Vec<usize>,
    /// Each vertex's neighbours in the row above.
    up: Vec<Vec<usize>>,
    /// Each vertex's neighbours in the row below.
    down: Vec<Vec<usize>>,
    /// Per graph edge, its dummies top to bottom; `None` when it cannot be drawn
    /// in rows (an invalid graph: it goes sideways or up).
    chains: Vec<Option<Vec<usize>>>,
}

impl Layered {
    fn new(graph: &PathGraph) -> Self {
        let n = graph.nodes.len();
        let layers = graph.layers();
        let mut layered = Layered {
            real: n,
            layer: layers.iter().map(|&l| l as usize).collect(),
            up: vec![Vec::new(); n],
            down: vec![Vec::new(); n],
            chains: Vec::with_capacity(graph.edges.len()),
        };
        for edge in &graph.edges {
            let drawable =
                edge.from < n && edge.to < n && layered.layer[edge.to] > layered.layer[edge.from];
            if !drawable {
                layered.chains.push(None);
                continue;
            }
            let mut chain = Vec::new();
            let mut above = edge.from;
            for row in layered.layer[edge.from] + 1..layered.layer[edge.to] {
                let dummy = layered.push_vertex(row);
                layered.join(above, dummy);
                chain.push(dummy);
                above = dummy;
            }
            layered.join(above, edge.to);
            layered.chains.push(Some(chain));
        }
        for (r, node) in graph.nodes.iter().enumerate() {
            if let Some(t) = node.remedial_for.filter(|&t| t < n && t != r)
                && layered.layer[r] == layered.layer[t] + 1
            {
                layered.join(t, r);
            }
        }
        layered
    }

    fn len(&self) -> usize {
        self.layer.len()
    }

    fn is_dummy(&self, v: usize) -> bool {
        v >= self.real
    }

    fn push_vertex(&mut self, row: usize) -> usize {
        self.layer.push(row);
        self.up.push(Vec::new());
        self.down.push(Vec::new());
        self.layer.len() - 1
    }

    fn join(&mut self, above: usize, below: usize) {
        self.down[above].push(below);
        self.up[below].push(above);
    }

    /// Half the room a vertex takes in its row.
    fn half_width(&self, v: usize) -> f32 {
        if self.is_dummy(v) {
            EDGE_GAP / 2.0
        } else {
            NODE_WIDTH / 2.0 + NODE_GAP / 2.0
        }
    }
}

/// Turns placed vertices into the drawing: shifts it into the margin and traces the edges.
fn assemble(graph: &PathGraph, layered: &Layered, x: &[f32], rows: usize) -> Layout {
    let n = layered.real;
    let left = (0..layered.len())
        .map(|v| x[v] - visible_half(layered, v))
        .fold(f32::INFINITY, f32::min);
    let shift = if left.is_finite() { MARGIN - left } else { 0.0 };
    let at = |v: usize| Point {
        x: x[v] + shift,
        y: MARGIN + layered.layer[v] as f32 * (NODE_HEIGHT + LAYER_GAP) + NODE_HEIGHT / 2.0,
    };
    let below = |p: Point| Point {
        x: p.x,
        y: p.y + NODE_HEIGHT / 2.0,
    };
    let above = |p: Point| Point {
        x: p.x,
        y: p.y - NODE_HEIGHT / 2.0,
    };
    let edges = graph
        .edges
        .iter()
        .zip(&layered.chains)
        .map(|(edge, chain)| {
            if edge.from >= n || edge.to >= n {
                return Vec::new();
            }
            let mut line = vec![below(at(edge.from))];
            for &d in chain.iter().flatten() {
                line.push(above(at(d)));
                line.push(below(at(d)));
            }
            line.push(above(at(edge.to)));
            line
        })
        .collect();
    let right = (0..layered.len())
        .map(|v| x[v] + shift + visible_half(layered, v))
        .fold(MARGIN, f32::max);
    Layout {
        width: right + MARGIN,
        height: 2.0 * MARGIN
            + rows as f32 * NODE_HEIGHT
            + rows.saturating_sub(1) as f32 * LAYER_GAP,
        nodes: (0..n).map(at).collect(),
        edges,
        remedial_links: graph
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(r, node)| node.remedial_for.filter(|&t| t < n).map(|t| (t, r)))
            .collect(),
    }
}

/// Half the drawn width: the box for a node, nothing for an edge's bend.
fn visible_half(layered: &Layered, v: usize) -> f32 {
    if layered.is_dummy(v) {
        0.0
    } else {
        NODE_WIDTH / 2.0
    }
}

#[cfg(test)]
mod tests;
