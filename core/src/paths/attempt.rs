//! What an attempt changes: the rows to write after a learner scores on a node.
//!
//! Meant for the transaction that stores a judged submission (or a finished
//! lesson, which is an attempt scoring 100): upsert the rows this returns, and
//! compare `statuses` before and after with `newly_opened` to tell the learner
//! what the attempt unlocked. Whether the node may be attempted at all (open or
//! in progress) is the caller's check, made before the judge runs.

use super::graph::{NodeKind, PathGraph};
use super::progress::{Progress, Stage};
use super::rules::{done, entry};

/// The progress rows to write after an attempt on `node` scoring `score`
/// (0..=100; above 100 counts as 100). The node's row comes first: one more
/// attempt, the best score kept, one more failure when below the pass score;
/// passed once an attempt passes, otherwise as it was (skipped stays skipped),
/// or in progress when new. A passing attempt on a checkpoint adds a skipped
/// row for each guarded node not yet done, keeping its counters.
/// A node that does not exist gives no rows.
pub fn record_attempt(
    graph: &PathGraph,
    progress: &[Option<Progress>],
    node: usize,
    score: u8,
) -> Vec<(usize, Progress)> {
    let Some(spec) = graph.nodes.get(node) else {
        return Vec::new();
    };
    let score = score.min(100);
    let passes = score >= spec.pass_score;
    let before = entry(progress, node).copied().unwrap_or(Progress::UNTRIED);
    let stage = if passes { Stage::Passed } else { before.stage };
    let mut rows = vec![(
        node,
        Progress {
            stage,
            best_score: before.best_score.max(score),
            attempts: before.attempts.saturating_add(1),
            failures: before.failures.saturating_add(u32::from(!passes)),
        },
    )];
    if passes && spec.kind == NodeKind::Checkpoint {
        for &guard in &spec.guards {
            let current = entry(progress, guard);
            if guard != node && guard < graph.nodes.len() && !done(current) {
                let counters = current.copied().unwrap_or(Progress::UNTRIED);
                rows.push((
                    guard,
                    Progress {
                        stage: Stage::Skipped,
                        ..counters
                    },
                ));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::graph::Node;
    use crate::paths::progress::NodeStatus::*;
    use crate::paths::rules::statuses;
    use crate::paths::testing::fixtures::*;
    use crate::paths::testing::{arb_graph, arb_progress};
    use proptest::prelude::*;

    fn apply(progress: &mut [Option<Progress>], rows: Vec<(usize, Progress)>) {
        for (i, row) in rows {
            progress[i] = Some(row);
        }
    }

    #[test]
    fn a_failed_first_attempt_starts_the_node_and_counts_a_failure() {
        let mut graph = lessons(&["a"], &[]);
        graph.nodes[0].pass_score = 70;
        let rows = record_attempt(&graph, &[None], 0, 40);
        assert_eq!(rows, vec![(0, tried(1, 1, 40))]);
    }

    #[test]
    fn passing_keeps_the_best_score_and_stays_passed_after_a_worse_try() {
        let mut graph = lessons(&["a"], &[]);
        graph.nodes[0].pass_score = 70;
        let mut progress = vec![Some(tried(2, 2, 40))];
        let rows = record_attempt(&graph, &progress, 0, 90);
        apply(&mut progress, rows);
        assert_eq!(
            progress[0],
            Some(Progress {
                stage: Stage::Passed,
                best_score: 90,
                attempts: 3,
                failures: 2
            })
        );
        let rows = record_attempt(&graph, &progress, 0, 10);
        apply(&mut progress, rows);
        assert_eq!(
            progress[0],
            Some(Progress {
                stage: Stage::Passed,
                best_score: 90,
                attempts: 4,
                failures: 3
            })
        );
    }

    #[test]
    fn a_skipped_node_stays_skipped_until_an_attempt_passes() {
        let graph = lessons(&["a"], &[]);
        let mut progress = vec![Some(skipped())];
        let rows = record_attempt(&graph, &progress, 0, 30);
        apply(&mut progress, rows);
        assert_eq!(progress[0].map(|p| p.stage), Some(Stage::Skipped));
        let rows = record_attempt(&graph, &progress, 0, 100);
        apply(&mut progress, rows);
        assert_eq!(progress[0].map(|p| p.stage), Some(Stage::Passed));
    }

    /// intro -> basics -> loops -> quiz, with a shortcut intro -> quiz as an
    /// alternative; the quiz guards basics and loops; after -> needs loops with 90.
    fn test_out_path() -> PathGraph {
        let mut graph = lessons(
            &["intro", "basics", "loops", "quiz", "after"],
            &[
                edge(0, 1, 0, 0),
                edge(1, 2, 0, 0),
                edge(2, 3, 0, 0),
                edge(0, 3, 0, 0),
                edge(2, 4, 90, 0),
            ],
        );
        graph.nodes[3] = Node {
            guards: vec![1, 2],
            pass_score: 80,
            ..Node::new("quiz", NodeKind::Checkpoint, "Quiz")
        };
        graph
    }

    #[test]
    fn passing_a_checkpoint_tests_out_of_its_guards_and_opens_what_follows() {
        let graph = test_out_path();
        assert_eq!(graph.validate(), Ok(()));
        let mut progress = vec![Some(passed(100)), Some(tried(1, 1, 20)), None, None, None];
        let before = statuses(&graph, &progress);
        assert_eq!(before, vec![Passed, InProgress, Locked, Open, Locked]);

        let rows = record_attempt(&graph, &progress, 3, 85);
        assert_eq!(
            rows[1..],
            [
                (
                    1,
                    Progress {
                        stage: Stage::Skipped,
                        ..tried(1, 1, 20)
                    }
                ),
                (2, skipped()),
            ]
        );
        apply(&mut progress, rows);
        let after = statuses(&graph, &progress);
        // `after` needs loops with 90: a skipped loops meets it regardless.
        assert_eq!(after, vec![Passed, Skipped, Skipped, Passed, Open]);
        assert_eq!(crate::paths::newly_opened(&before, &after), vec![4]);
    }

    #[test]
    fn a_failed_checkpoint_skips_nothing() {
        let graph = test_out_path();
        let progress = vec![Some(passed(100)), None, None, None, None];
        assert_eq!(record_attempt(&graph, &progress, 3, 79).len(), 1);
    }

    #[test]
    fn a_checkpoint_leaves_guards_already_done_alone() {
        let graph = test_out_path();
        let progress = vec![Some(passed(100)), Some(passed(100)), None, None, None];
        let guards: Vec<usize> = record_attempt(&graph, &progress, 3, 100)[1..]
            .iter()
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(guards, vec![2]);
    }

    proptest! {
        #[test]
        fn an_attempt_never_lowers_a_best_score_nor_unpasses_a_node(
            (graph, progress, pick, score) in arb_graph(16).prop_flat_map(|g| {
                let p = arb_progress(&g);
                let n = g.nodes.len();
                (Just(g), p, 0..n, 0u8..=100)
            })
        ) {
            let rows = record_attempt(&graph, &progress, pick, score);
            prop_assert_eq!(rows[0].0, pick);
            for (i, row) in &rows {
                prop_assert!(row.failures <= row.attempts);
                if let Some(old) = progress[*i] {
                    prop_assert!(row.best_score >= old.best_score);
                    if old.stage == Stage::Passed {
                        prop_assert_eq!(row.stage, Stage::Passed);
                    }
                }
            }
            prop_assert!(rows[0].1.best_score >= score);
            let passes = score >= graph.nodes[pick].pass_score;
            prop_assert_eq!(rows[0].1.stage == Stage::Passed, passes || progress[pick].is_some_and(|p| p.stage == Stage::Passed));
        }
    }
}
