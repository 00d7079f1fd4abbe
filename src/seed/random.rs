//! The seeder's randomness: one fixed generator and the few distributions it draws from.
//!
//! Everything `eduscale seed` makes comes from here, so the same `--seed` gives
//! the same history, ids included. ChaCha8 rather than `rand::rngs::StdRng`:
//! `StdRng`'s algorithm may change between `rand` releases, ChaCha8's output
//! never does. Each learner gets a generator of its own, derived from the seed and
//! the learner's number, so learners can be simulated on several threads and
//! still come out the same.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// The generator every part of the seeder draws from.
pub type SeedRng = ChaCha8Rng;

/// A generator for `stream` (a learner's number, or a fixed tag) under `seed`.
pub fn rng_for(seed: u64, stream: u64) -> SeedRng {
    SeedRng::seed_from_u64(mix(seed ^ mix(stream.wrapping_add(0x5EED))))
}

/// SplitMix64's finaliser: a cheap, well-spread hash of one `u64`.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A version-4-shaped uuid whose bits come from `rng` (reproducible, unlike `new_v4`).
pub fn uuid(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

/// A standard normal draw (Box–Muller; `rand` 0.8 has no normal distribution of its own).
pub fn normal(rng: &mut impl Rng) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u: f64 = 1.0 - rng.r#gen::<f64>();
    let v: f64 = rng.r#gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A smooth map from the real line onto (0, 1): the logistic approximation of the
/// normal distribution function, good to 0.01, which is all a made-up learner needs.
pub fn phi(z: f64) -> f64 {
    sigmoid(1.702 * z)
}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The inverse of [`sigmoid`], for probabilities kept away from 0 and 1.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// A whole number of seconds drawn uniformly from `lo..=hi`.
pub fn secs(rng: &mut impl Rng, lo: u32, hi: u32) -> u32 {
    rng.gen_range(lo..=hi.max(lo))
}

/// How many times something with chance `q` happens again, at most `cap` times.
pub fn repeats(rng: &mut impl Rng, q: f64, cap: u32) -> u32 {
    let mut n = 0;
    while n < cap && rng.r#gen::<f64>() < q {
        n += 1;
    }
    n
}

/// An index drawn with the given weights (the last index when all are zero).
pub fn weighted(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut left = rng.r#gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if left < *w {
            return i;
        }
        left -= w;
    }
    weights.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_stream_gives_the_same_draws() {
        let a: Vec<u64> = (0..5).map(|_| rng_for(7, 3).r#gen()).collect();
        let b: Vec<u64> = (0..5).map(|_| rng_for(7, 3).r#gen()).collect();
        assert_eq!(a, b);
        assert_ne!(rng_for(7, 3).r#gen::<u64>(), rng_for(7, 4).r#gen::<u64>());
    }

    #[test]
    fn logit_undoes_sigmoid() {
        for x in [-3.0, -0.5, 0.0, 1.2, 4.0] {
            assert!((logit(sigmoid(x)) - x).abs() < 1e-9);
        }
    }
}
