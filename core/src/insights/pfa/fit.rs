//! Fitting the PFA weights: L2-regularised logistic regression by Newton's method.
//!
//! In: examples and the sizes of the skill and item tables. Out: the weights,
//! laid out as the constants below say. The objective is the log-loss plus a
//! ridge penalty, which is strictly convex, so there is one optimum and Newton
//! reaches it from zero in a handful of passes; each step is checked to lower the
//! objective (halved until it does), so a bad step cannot diverge. Every sum runs
//! in the examples' order on one thread, so the same input gives bit-identical
//! weights.
//!
//! The Hessian has an arrow shape, used to keep a step cheap however many items
//! there are: a dense block for the `9 + 3·skills` global and skill weights
//! (~130 with the ~40 skills content names), a diagonal for the item easiness
//! weights (an attempt is at one item, so two items never meet), and the
//! coupling between them. A step eliminates the diagonal first (a Schur
//! complement) and factorises only the dense block by Cholesky. An example
//! touches only the (3·its skills + 9)² entries of its row: fitting two million
//! examples takes a few seconds in a release build (`eduscale insights evaluate
//! --json` prints `seconds_fitting`), ten times that unoptimised.

use super::{Example, FitOptions};

/// The global intercept `b`.
pub(super) const INTERCEPT: usize = 0;
/// `γ_L`: the learner's prior successes over every skill.
pub(super) const LEARNER_SUCCESS: usize = 1;
/// `ρ_L`: the learner's prior failures over every skill.
pub(super) const LEARNER_FAILURE: usize = 2;
/// The shared skill weights (`β`, `γ`, `ρ`) every skill deviates from.
pub(super) const SHARED_SKILL: usize = 3;
/// The item weights: the shared easiness every item deviates from, and `γ_I`,
/// `ρ_I` on the learner's earlier attempts at this very item.
pub(super) const SHARED_ITEM: usize = 6;
/// Where skill `k`'s deviations start: `SKILLS + 3k`.
pub(super) const SKILLS: usize = 9;

/// Counts below this read `ln(1 + x)` from a table: the fit evaluates it a few
/// times per example per pass, and `ln_1p` dominated the pass.
const TABLE: u32 = 2048;

/// `ln(1 + x)`: practice with diminishing returns. The table holds exactly what
/// this returns, so fitting and predicting agree to the bit.
pub(super) fn practice(x: u32) -> f64 {
    f64::from(x).ln_1p()
}

/// The fitted weights.
pub(super) struct Weights {
    /// The dense block: globals, then 3 per skill (deviations).
    pub dense: Vec<f64>,
    /// One easiness deviation per item.
    pub items: Vec<f64>,
}

/// Minimises the regularised log-loss.
pub(super) fn newton(
    examples: &[Example],
    skills: usize,
    items: usize,
    options: &FitOptions,
) -> Weights {
    let n = SKILLS + 3 * skills;
    let table: Vec<f64> = (0..TABLE).map(practice).collect();
    let design = Design {
        examples,
        skills,
        items,
        table: &table,
    };
    let ridge: Vec<f64> = (0..n)
        .map(|i| {
            if i < SKILLS {
                options.shared_l2
            } else {
                options.skill_l2
            }
        })
        .collect();
    let penalty = |w: &Weights| {
        let dense: f64 = w.dense.iter().zip(&ridge).map(|(w, l)| l * w * w).sum();
        let items: f64 = w.items.iter().map(|w| options.item_l2 * w * w).sum();
        0.5 * (dense + items)
    };

    let mut w = Weights {
        dense: vec![0.0; n],
        items: vec![0.0; items],
    };
    for _ in 0..options.max_iterations {
        let mut s = design.second_order(&w);
        let loss = s.loss + penalty(&w);
        for (i, (l, wi)) in ridge.iter().zip(&w.dense).enumerate() {
            s.gradient[i] += l * wi;
            s.hessian[i * n + i] += l;
        }
        for (i, wi) in w.items.iter().enumerate() {
            s.item_gradient[i] += options.item_l2 * wi;
            s.item_curvature[i] += options.item_l2;
        }
        let step = s.solve(n);
        let slope: f64 = s
            .gradient
            .iter()
            .zip(&step.dense)
            .map(|(g, d)| g * d)
            .sum::<f64>()
            + s.item_gradient
                .iter()
                .zip(&step.items)
                .map(|(g, d)| g * d)
                .sum::<f64>();

        // Backtracking (Armijo): the full Newton step almost always lowers the
        // objective; when it does not, halve it until it does.
        let mut t = 1.0;
        let mut next = Weights {
            dense: w.dense.clone(),
            items: w.items.clone(),
        };
        for _ in 0..40 {
            for (x, (w, d)) in next.dense.iter_mut().zip(w.dense.iter().zip(&step.dense)) {
                *x = w - t * d;
            }
            for (x, (w, d)) in next.items.iter_mut().zip(w.items.iter().zip(&step.items)) {
                *x = w - t * d;
            }
            if design.loss(&next) + penalty(&next) <= loss - 1e-4 * t * slope {
                break;
            }
            t /= 2.0;
        }
        let moved = step
            .dense
            .iter()
            .chain(&step.items)
            .map(|d| (t * d).abs())
            .fold(0.0, f64::max);
        w = next;
        if moved < options.tolerance {
            break;
        }
    }
    w
}

/// The examples as rows of the design matrix, built on the fly: storing them
/// would cost ~15 numbers per example, hundreds of MB for millions.
struct Design<'a> {
    examples: &'a [Example],
    skills: usize,
    items: usize,
    table: &'a [f64],
}

/// One row: its dense entries `(index, value)` and its item, if the fit knows it.
struct Row {
    dense: Vec<(usize, f64)>,
    item: Option<usize>,
}

/// Sums over the examples for one Newton step.
struct SecondOrder {
    loss: f64,
    gradient: Vec<f64>,
    /// The dense block, row-major; only its lower triangle is filled.
    hessian: Vec<f64>,
    item_gradient: Vec<f64>,
    /// The item diagonal.
    item_curvature: Vec<f64>,
    /// Item `i`'s coupling with the dense weights: `coupling[i * n + j]`.
    coupling: Vec<f64>,
}

impl Design<'_> {
    fn practice(&self, x: u32) -> f64 {
        self.table
            .get(x as usize)
            .copied()
            .unwrap_or_else(|| practice(x))
    }

    /// Fills `row` with the example's non-zero entries.
    fn row(&self, example: &Example, row: &mut Row) {
        let f = &example.features;
        let dense = &mut row.dense;
        dense.clear();
        dense.push((INTERCEPT, 1.0));
        dense.push((LEARNER_SUCCESS, self.practice(f.learner_successes)));
        dense.push((LEARNER_FAILURE, self.practice(f.learner_failures)));
        let (mut count, mut successes, mut failures) = (0.0, 0.0, 0.0);
        for s in &f.skills {
            let (ps, pf) = (self.practice(s.successes), self.practice(s.failures));
            count += 1.0;
            successes += ps;
            failures += pf;
            // A skill the fit was not told about has only the shared weights.
            let k = s.skill.0 as usize;
            if k < self.skills {
                let at = SKILLS + 3 * k;
                dense.extend([(at, 1.0), (at + 1, ps), (at + 2, pf)]);
            }
        }
        dense.extend([
            (SHARED_SKILL, count),
            (SHARED_SKILL + 1, successes),
            (SHARED_SKILL + 2, failures),
        ]);
        // No item named: a typical item, never attempted before. The shared
        // easiness still applies, so such an example and such a prediction agree.
        dense.push((SHARED_ITEM, 1.0));
        row.item = None;
        if let Some(item) = &f.item {
            dense.push((SHARED_ITEM + 1, self.practice(item.successes)));
            dense.push((SHARED_ITEM + 2, self.practice(item.failures)));
            let i = item.item.0 as usize;
            row.item = (i < self.items).then_some(i);
        }
    }

    fn logit(row: &Row, w: &Weights) -> f64 {
        let dense: f64 = row.dense.iter().map(|(i, x)| w.dense[*i] * x).sum();
        dense + row.item.map_or(0.0, |i| w.items[i])
    }

    fn empty_row() -> Row {
        Row {
            dense: Vec::with_capacity(24),
            item: None,
        }
    }

    /// The log-loss alone.
    fn loss(&self, w: &Weights) -> f64 {
        let mut row = Self::empty_row();
        let mut loss = 0.0;
        for example in self.examples {
            self.row(example, &mut row);
            loss += log_loss(Self::logit(&row, w), example.passed);
        }
        loss
    }

    /// The log-loss, its gradient and its Hessian.
    fn second_order(&self, w: &Weights) -> SecondOrder {
        let n = w.dense.len();
        let mut s = SecondOrder {
            loss: 0.0,
            gradient: vec![0.0; n],
            hessian: vec![0.0; n * n],
            item_gradient: vec![0.0; self.items],
            item_curvature: vec![0.0; self.items],
            coupling: vec![0.0; self.items * n],
        };
        let mut row = Self::empty_row();
        for example in self.examples {
            self.row(example, &mut row);
            let z = Self::logit(&row, w);
            s.loss += log_loss(z, example.passed);
            let p = sigmoid(z);
            let residual = p - if example.passed { 1.0 } else { 0.0 };
            let curvature = p * (1.0 - p);
            for (a, &(i, xi)) in row.dense.iter().enumerate() {
                s.gradient[i] += residual * xi;
                let hx = curvature * xi;
                // The lower triangle only; `solve` reads nothing else. Two
                // entries for one weight (a skill listed twice) meet on the
                // diagonal from both sides, hence twice.
                for (b, &(j, xj)) in row.dense[..=a].iter().enumerate() {
                    let (r, c) = if j <= i { (i, j) } else { (j, i) };
                    let twice = if i == j && a != b { 2.0 } else { 1.0 };
                    s.hessian[r * n + c] += twice * hx * xj;
                }
                if let Some(item) = row.item {
                    s.coupling[item * n + i] += hx;
                }
            }
            if let Some(item) = row.item {
                s.item_gradient[item] += residual;
                s.item_curvature[item] += curvature;
            }
        }
        s
    }
}

impl SecondOrder {
    /// The Newton step: eliminates the item diagonal, then solves the dense block.
    fn solve(&mut self, n: usize) -> Weights {
        let mut rhs = self.gradient.clone();
        let mut nonzero = Vec::with_capacity(32);
        for (i, (&d, &g)) in self
            .item_curvature
            .iter()
            .zip(&self.item_gradient)
            .enumerate()
        {
            let c = &self.coupling[i * n..(i + 1) * n];
            // An item couples only with the globals and its own skills.
            nonzero.clear();
            nonzero.extend((0..n).filter(|&r| c[r] != 0.0));
            for (a, &r) in nonzero.iter().enumerate() {
                rhs[r] -= c[r] * g / d;
                let cr = c[r] / d;
                for &col in &nonzero[..=a] {
                    self.hessian[r * n + col] -= cr * c[col];
                }
            }
        }
        let dense = solve(&self.hessian, &rhs, n);
        let items = self
            .item_curvature
            .iter()
            .zip(&self.item_gradient)
            .enumerate()
            .map(|(i, (&d, &g))| {
                let c = &self.coupling[i * n..(i + 1) * n];
                let cx: f64 = c.iter().zip(&dense).map(|(c, x)| c * x).sum();
                (g - cx) / d
            })
            .collect();
        Weights { dense, items }
    }
}

/// `1 / (1 + e^-z)`, without overflow for large |z|.
pub(super) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `-ln p(outcome)` for logit `z`, computed so it never overflows or loses
/// precision when the model is confident.
fn log_loss(z: f64, passed: bool) -> f64 {
    let m = if passed { -z } else { z };
    m.max(0.0) + (-m.abs()).exp().ln_1p()
}

/// Solves `H x = g` for the symmetric positive-definite `H` whose lower triangle
/// is filled, by Cholesky. The ridge makes `H` positive definite; should rounding
/// still break the factorisation, a growing multiple of the identity is added.
fn solve(hessian: &[f64], g: &[f64], n: usize) -> Vec<f64> {
    let mut jitter = 0.0;
    loop {
        if let Some(l) = cholesky(hessian, n, jitter) {
            return substitute(&l, g, n);
        }
        jitter = if jitter == 0.0 { 1e-9 } else { jitter * 10.0 };
    }
}

/// The lower-triangular `L` with `L Lᵀ = H + jitter·I`, or `None` if that is not
/// (numerically) positive definite.
fn cholesky(h: &[f64], n: usize, jitter: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = h[i * n + i] + jitter - dot;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (h[i * n + j] - dot) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = g` by forward then backward substitution.
fn substitute(l: &[f64], g: &[f64], n: usize) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (g[i] - dot) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (y[i] - dot) / l[i * n + i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_small_system() {
        // H = [[4, 2], [2, 3]] (lower triangle given), g = [2, 1] → x = [0.5, 0].
        let h = vec![4.0, 0.0, 2.0, 3.0];
        let x = solve(&h, &[2.0, 1.0], 2);
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn eliminating_the_item_diagonal_solves_the_whole_system() {
        // Dense block [[4, 1], [1, 3]], one item with curvature 2 coupled (1, 0.5):
        // the full system [[4, 1, 1], [1, 3, 0.5], [1, 0.5, 2]] x = [1, 2, 3].
        let s = SecondOrder {
            loss: 0.0,
            gradient: vec![1.0, 2.0],
            hessian: vec![4.0, 0.0, 1.0, 3.0],
            item_gradient: vec![3.0],
            item_curvature: vec![2.0],
            coupling: vec![1.0, 0.5],
        };
        let mut s = s;
        let w = s.solve(2);
        let x = [w.dense[0], w.dense[1], w.items[0]];
        let full = [[4.0, 1.0, 1.0], [1.0, 3.0, 0.5], [1.0, 0.5, 2.0]];
        for (row, want) in full.iter().zip([1.0, 2.0, 3.0]) {
            let got: f64 = row.iter().zip(&x).map(|(a, b)| a * b).sum();
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
    }

    #[test]
    fn the_loss_is_finite_for_confident_logits() {
        assert!(log_loss(800.0, false).is_finite());
        assert!(log_loss(-800.0, true).is_finite());
        assert!(log_loss(800.0, true) < 1e-300);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
    }
}
