//! Crossing reduction: the left-to-right order of each row.
//!
//! Sweeps alternate direction (down: sort each row by its neighbours above; up:
//! by those below) and key (barycenter for two sweeps, median for two), as in
//! Gansner et al.'s dot; after each sweep, neighbours in a row swap where that
//! removes crossings. Each sweep costs O(E log V). The order with the fewest
//! crossings seen is kept, so a sweep that makes things worse costs time, never
//! quality; the search stops after eight sweeps without a new best, and the best
//! order gets a longer round of swaps at the end.

use super::{Layered, count_crossings, median};

/// Sweeps without a new best after which the search stops: two rounds of each key.
const PATIENCE: usize = 8;
/// Adjacent-swap passes after each sweep (each stops early when nothing moves).
const SWAP_PASSES: usize = 2;
/// Adjacent-swap passes on the best order at the end.
const FINAL_SWAP_PASSES: usize = 16;

/// Rows of vertices, each left to right, after `sweeps` sweeps.
pub(super) fn order(g: &Layered, sweeps: usize) -> Vec<Vec<usize>> {
    let height = g.layer.iter().max().map_or(0, |&l| l + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); height];
    for v in 0..g.len() {
        rows[g.layer[v]].push(v);
    }
    let mut pos = vec![0usize; g.len()];
    for row in &rows {
        for (i, &v) in row.iter().enumerate() {
            pos[v] = i;
        }
    }
    let mut best = rows.clone();
    let mut fewest = total_crossings(g, &rows, &pos);
    let mut since_best = 0;
    for sweep in 0..sweeps {
        if fewest == 0 || since_best == PATIENCE {
            break;
        }
        let by_median = (sweep / 2) % 2 == 1;
        if sweep % 2 == 0 {
            for l in 1..rows.len() {
                let above = rows[l - 1].len();
                sort_row(&mut rows[l], &g.up, &mut pos, above, by_median);
            }
        } else {
            for l in (0..rows.len().saturating_sub(1)).rev() {
                let below = rows[l + 1].len();
                sort_row(&mut rows[l], &g.down, &mut pos, below, by_median);
            }
        }
        swap_neighbours(g, &mut rows, &mut pos, SWAP_PASSES);
        let crossings = total_crossings(g, &rows, &pos);
        if crossings < fewest {
            fewest = crossings;
            best.clone_from(&rows);
            since_best = 0;
        } else {
            since_best += 1;
        }
    }
    // A swap only ever removes crossings, so polishing the best order longer is safe.
    if sweeps > 0 {
        for row in &best {
            for (i, &v) in row.iter().enumerate() {
                pos[v] = i;
            }
        }
        swap_neighbours(g, &mut best, &mut pos, FINAL_SWAP_PASSES);
    }
    best
}

/// Sorts a row by where its neighbours sit in the adjacent row (positions scaled
/// to 0..1 so rows of different widths compare). A vertex with no neighbour there
/// keeps its own scaled place; ties keep the current order.
fn sort_row(
    row: &mut [usize],
    neighbours: &[Vec<usize>],
    pos: &mut [usize],
    other_len: usize,
    by_median: bool,
) {
    let own = row.len() as f64;
    let other = other_len.max(1) as f64;
    let mut places: Vec<f64> = Vec::new();
    let mut keyed: Vec<(f64, usize)> = row
        .iter()
        .map(|&v| {
            let key = if neighbours[v].is_empty() {
                (pos[v] as f64 + 0.5) / own
            } else {
                places.clear();
                places.extend(neighbours[v].iter().map(|&u| pos[u] as f64 + 0.5));
                let centre = if by_median {
                    median(&mut places)
                } else {
                    places.iter().sum::<f64>() / places.len() as f64
                };
                centre / other
            };
            (key, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(pos[a.1].cmp(&pos[b.1])));
    for (i, &(_, v)) in keyed.iter().enumerate() {
        row[i] = v;
        pos[v] = i;
    }
}

/// Swaps neighbours in a row wherever the swap removes crossings with the rows above and below.
fn swap_neighbours(g: &Layered, rows: &mut [Vec<usize>], pos: &mut [usize], passes: usize) {
    for _ in 0..passes {
        let mut improved = false;
        for row in rows.iter_mut() {
            for i in 1..row.len() {
                let (u, v) = (row[i - 1], row[i]);
                let (as_is, swapped) = pair_crossings(g, pos, u, v);
                if swapped < as_is {
                    row.swap(i - 1, i);
                    pos[u] = i;
                    pos[v] = i - 1;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// Crossings among the edges of `u` and `v` with `u` left of `v`, and with them swapped.
fn pair_crossings(g: &Layered, pos: &[usize], u: usize, v: usize) -> (usize, usize) {
    let mut as_is = 0;
    let mut swapped = 0;
    for side in [&g.up, &g.down] {
        for &a in &side[u] {
            for &b in &side[v] {
                match pos[a].cmp(&pos[b]) {
                    std::cmp::Ordering::Greater => as_is += 1,
                    std::cmp::Ordering::Less => swapped += 1,
                    std::cmp::Ordering::Equal => {}
                }
            }
        }
    }
    (as_is, swapped)
}

/// Crossings between every pair of adjacent rows.
fn total_crossings(g: &Layered, rows: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut segments: Vec<(usize, usize)> = Vec::new();
    rows.iter()
        .map(|row| {
            segments.clear();
            for &u in row {
                segments.extend(g.down[u].iter().map(|&w| (pos[u], pos[w])));
            }
            count_crossings(&mut segments)
        })
        .sum()
}
