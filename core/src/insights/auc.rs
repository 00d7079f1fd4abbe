//! The area under the ROC curve: how well predicted probabilities rank passes
//! above failures.
//!
//! In: `(predicted probability, passed)` pairs. Out: the probability that a
//! randomly chosen pass was given a higher score than a randomly chosen failure
//! (Mann–Whitney U), ties counting one half. 1 is a perfect ranking, 0.5 is a
//! coin. It is computed from ranks after one sort, so O(n log n): the evaluation
//! scores hundreds of thousands of held-out attempts and the pairwise definition
//! would be quadratic.

/// The AUC of `scored` (`(score, positive)`), or `None` when either class is absent.
///
/// Scores are ordered by `f64::total_cmp`, so a NaN score sorts above every number
/// instead of poisoning the sort; the model never produces one.
pub fn auc(scored: &[(f64, bool)]) -> Option<f64> {
    let positives = scored.iter().filter(|(_, p)| *p).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<(f64, bool)> = scored.to_vec();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));

    // Sum of the positives' ranks (1-based), each run of tied scores sharing the
    // mean of the ranks it spans: that is what makes a tie count one half.
    let mut positive_ranks = 0.0;
    let mut start = 0;
    while start < order.len() {
        let score = order[start].0;
        let end = start
            + order[start..]
                .iter()
                .take_while(|(s, _)| s.total_cmp(&score).is_eq())
                .count();
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|(_, p)| *p).count();
        positive_ranks += mean_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    let u = positive_ranks - p * (p + 1.0) / 2.0;
    Some(u / (p * n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_perfect_ranking_scores_one() {
        let scored = [(0.1, false), (0.2, false), (0.8, true), (0.9, true)];
        assert_eq!(auc(&scored), Some(1.0));
    }

    #[test]
    fn a_reversed_ranking_scores_zero() {
        let scored = [(0.9, false), (0.8, false), (0.2, true), (0.1, true)];
        assert_eq!(auc(&scored), Some(0.0));
    }

    #[test]
    fn ties_between_classes_count_one_half() {
        let all_tied = [(0.5, false), (0.5, true), (0.5, true), (0.5, false)];
        assert_eq!(auc(&all_tied), Some(0.5));
        // One pass above both failures, one pass tied with one failure: (2 + 1.5) / 4.
        let scored = [(0.2, false), (0.6, false), (0.6, true), (0.9, true)];
        assert_eq!(auc(&scored), Some(0.875));
    }

    #[test]
    fn one_class_alone_has_no_auc() {
        assert_eq!(auc(&[]), None);
        assert_eq!(auc(&[(0.3, true), (0.7, true)]), None);
        assert_eq!(auc(&[(0.3, false)]), None);
    }

    #[test]
    fn scores_unrelated_to_outcomes_score_about_one_half() {
        // A fixed pseudo-random sequence: reproducible, and independent of outcomes.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let scored: Vec<(f64, bool)> = (0..20_000)
            .map(|_| ((next() >> 11) as f64 / (1u64 << 53) as f64, next() % 2 == 0))
            .collect();
        let a = auc(&scored).expect("both classes");
        assert!((a - 0.5).abs() < 0.02, "auc {a}");
    }

    /// The quadratic definition, to check the ranked one against.
    fn pairwise(scored: &[(f64, bool)]) -> Option<f64> {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (sp, _) in scored.iter().filter(|(_, p)| *p) {
            for (sn, _) in scored.iter().filter(|(_, p)| !*p) {
                pairs += 1.0;
                wins += if sp > sn {
                    1.0
                } else if sp == sn {
                    0.5
                } else {
                    0.0
                };
            }
        }
        (pairs > 0.0).then(|| wins / pairs)
    }

    proptest! {
        #[test]
        fn ranks_agree_with_counting_pairs(
            scored in prop::collection::vec((0u8..8, any::<bool>()), 0..60)
        ) {
            // Few distinct scores, so ties are common.
            let scored: Vec<(f64, bool)> =
                scored.into_iter().map(|(s, p)| (f64::from(s) / 8.0, p)).collect();
            match (auc(&scored), pairwise(&scored)) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
                (a, b) => prop_assert_eq!(a, b),
            }
        }

        #[test]
        fn auc_lies_between_zero_and_one(
            scored in prop::collection::vec((0.0f64..1.0, any::<bool>()), 0..60)
        ) {
            if let Some(a) = auc(&scored) {
                prop_assert!((0.0..=1.0).contains(&a));
            }
        }
    }
}
