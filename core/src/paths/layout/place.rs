//! Horizontal coordinates: parents over their children, long edges straight,
//! nothing overlapping, the order from `order` kept.
//!
//! Each row in turn is placed against a fixed adjacent row: every vertex wants
//! to sit at the median x of its neighbours there, and the row's positions are
//! the exact least-squares answer under "in order, at least the separation
//! apart". Substituting `y_i = x_i - offset_i` (offset: the packed position)
//! turns that into isotonic regression, which pool-adjacent-violators solves in
//! one linear pass. Alternating down and up rounds, then a last round against
//! both rows, settle the drawing; each round is O(V + E). A faint pull towards
//! the middle stops a long path from drifting sideways row by row (without it a
//! 1,000-node drawing came out nearly twice as wide).

use super::{Layered, median};

/// Down-and-up rounds before the final one.
const ROUNDS: usize = 6;
/// How strongly an edge's bend holds its line straight, against a node's 1.
const DUMMY_WEIGHT: f64 = 4.0;
/// How strongly every vertex is drawn to the middle of the drawing.
const CENTRE_WEIGHT: f64 = 0.3;
/// How strongly a vertex with no neighbour on that side stays where it is.
const STAY_WEIGHT: f64 = 0.05;

/// Which neighbours a round looks at.
#[derive(Clone, Copy)]
enum Side {
    Up,
    Down,
    Both,
}

/// The x of every vertex, for rows in the given order (not yet shifted into the margin).
pub(super) fn place(g: &Layered, rows: &[Vec<usize>]) -> Vec<f32> {
    let mut x = vec![0f64; g.len()];
    for row in rows {
        let offsets = packed(g, row);
        let middle = offsets.last().copied().unwrap_or(0.0) / 2.0;
        for (&v, offset) in row.iter().zip(&offsets) {
            x[v] = offset - middle;
        }
    }
    for _ in 0..ROUNDS {
        for row in rows.iter().skip(1) {
            align(g, row, Side::Up, &mut x);
        }
        for row in rows.iter().rev().skip(1) {
            align(g, row, Side::Down, &mut x);
        }
    }
    for row in rows {
        align(g, row, Side::Both, &mut x);
    }
    x.into_iter().map(|v| v as f32).collect()
}

/// Each vertex's x when the row is packed tight from 0.
fn packed(g: &Layered, row: &[usize]) -> Vec<f64> {
    let mut at = 0.0;
    let mut offsets = Vec::with_capacity(row.len());
    for (i, &v) in row.iter().enumerate() {
        if i > 0 {
            at += f64::from(g.half_width(row[i - 1]) + g.half_width(v));
        }
        offsets.push(at);
    }
    offsets
}

/// Places one row as close as it may to the medians of its neighbours on `side`.
fn align(g: &Layered, row: &[usize], side: Side, x: &mut [f64]) {
    let offsets = packed(g, row);
    let mut around: Vec<f64> = Vec::new();
    // Isotonic regression by pool-adjacent-violators: blocks of (weight, weighted sum, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(row.len());
    for (&v, offset) in row.iter().zip(&offsets) {
        around.clear();
        if matches!(side, Side::Up | Side::Both) {
            around.extend(g.up[v].iter().map(|&u| x[u]));
        }
        if matches!(side, Side::Down | Side::Both) {
            around.extend(g.down[v].iter().map(|&u| x[u]));
        }
        let (want, weight) = if around.is_empty() {
            (x[v], STAY_WEIGHT)
        } else if g.is_dummy(v) {
            (median(&mut around), DUMMY_WEIGHT)
        } else {
            (median(&mut around), 1.0)
        };
        // A faint pull to the middle keeps the drawing from drifting sideways row by row.
        let (want, weight) = (
            weight * want / (weight + CENTRE_WEIGHT),
            weight + CENTRE_WEIGHT,
        );
        blocks.push((weight, weight * (want - offset), 1));
        while blocks.len() >= 2 {
            let (w2, s2, n2) = blocks[blocks.len() - 1];
            let (w1, s1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (w1 + w2, s1 + s2, n1 + n2);
        }
    }
    let mut i = 0;
    for (weight, sum, len) in blocks {
        for _ in 0..len {
            x[row[i]] = sum / weight + offsets[i];
            i += 1;
        }
    }
}
