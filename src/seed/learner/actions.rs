//! What a learner does in a session, one action at a time: read a lesson,
//! attempt a challenge (runs, a submission, its verdict, maybe a pass or the
//! offer of remediation), or step aside to a battle, the playground, a page or
//! a challenge already passed.
//!
//! Each action is built whole, then committed: state (attempts, practice,
//! stages) changes only once its events are in the story, so the progress rows
//! always agree with the events.

use super::Sim;
use crate::seed::catalog::NodeKind;
use crate::seed::random::{self, logit, repeats, secs, sigmoid};
use crate::seed::story::{Ev, Kind, Stage, VERDICTS, ev, idx};
use eduscale_core::code::Verdict;
use rand::Rng;

impl Sim<'_> {
    /// A look at a page outside the paths.
    pub(super) fn wander(&mut self) {
        let page = if self.who.cohort.is_some() {
            self.rng.gen_range(3..6)
        } else {
            self.rng.gen_range(3..5)
        };
        let gap = secs(&mut self.rng, 5, 60);
        let view = self.page(gap, page, None);
        self.commit(vec![view]);
    }

    /// A few runs in the playground, on no node.
    pub(super) fn playground(&mut self) {
        let gap = secs(&mut self.rng, 3, 30);
        let mut group = vec![self.page(gap, 6, None)];
        for _ in 0..1 + repeats(&mut self.rng, 0.6, 6) {
            group.push(ev(secs(&mut self.rng, 15, 180), Kind::Run));
        }
        self.commit(group);
    }

    pub(super) fn battle(&mut self) {
        let number = self.battles.saturating_add(1);
        let gap = secs(&mut self.rng, 3, 30);
        let mut group = vec![self.page(gap, 2, None)];
        group.push(Ev {
            battle: number,
            ..ev(secs(&mut self.rng, 5, 60), Kind::BattleJoined)
        });
        for _ in 0..1 + repeats(&mut self.rng, 0.5, 3) {
            group.push(Ev {
                battle: number,
                ..ev(secs(&mut self.rng, 20, 120), Kind::Run)
            });
        }
        group.push(Ev {
            battle: number,
            ..ev(secs(&mut self.rng, 10, 120), Kind::BattleFinished)
        });
        if self.commit(group) {
            self.battles = number;
        }
    }

    /// Back on a passed challenge: a look and a run or two, nothing judged.
    pub(super) fn revisit(&mut self) {
        let passed: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| {
                self.nodes[n].stage == Stage::Passed
                    && self.catalog.nodes[n].kind != NodeKind::Lesson
            })
            .collect();
        if passed.is_empty() {
            return self.battle();
        }
        let n = passed[self.rng.gen_range(0..passed.len())];
        let mut group = self.open(n);
        for _ in 0..1 + repeats(&mut self.rng, 0.4, 2) {
            group.push(Ev {
                node: idx(n),
                ..ev(secs(&mut self.rng, 20, 240), Kind::Run)
            });
        }
        if self.commit(group) {
            self.on_path = Some(self.catalog.nodes[n].path);
            self.viewed = Some(n);
        }
    }

    pub(super) fn work_on(&mut self, n: usize) {
        let mut group = self.open(n);
        if self.catalog.nodes[n].kind == NodeKind::Lesson {
            group.push(Ev {
                node: idx(n),
                ..ev(secs(&mut self.rng, 120, 900), Kind::NodePassed)
            });
            if self.commit(group) {
                self.arrive(n);
                let state = &mut self.nodes[n];
                state.stage = Stage::Passed;
                state.attempts = 1;
                state.best = 100;
                self.after_pass(n);
            }
            return;
        }
        self.attempt(n, group);
    }

    fn arrive(&mut self, n: usize) {
        self.on_path = Some(self.catalog.nodes[n].path);
        self.viewed = Some(n);
        if self.nodes[n].stage == Stage::Untouched {
            self.nodes[n].stage = Stage::InProgress;
        }
    }

    /// The chance the next submission on node `n` passes: the geometric mean of
    /// the node's skills' chances, moved by 1.8 logits per difficulty step from
    /// 2 (a difficulty-1 challenge is easier than its skills alone, a 5 is a
    /// roadblock even for a master).
    fn pass_chance(&self, n: usize) -> f64 {
        let node = &self.catalog.nodes[n];
        let p = if node.skills.is_empty() {
            0.6
        } else {
            let log_sum: f64 = node
                .skills
                .iter()
                .map(|&s| {
                    self.who.truth[usize::from(s)]
                        .chance(self.practice[usize::from(s)])
                        .ln()
                })
                .sum();
            (log_sum / node.skills.len() as f64).exp()
        };
        sigmoid(logit(p) - 1.8 * (f64::from(node.difficulty) - 2.0)).clamp(0.02, 0.99)
    }

    fn attempt(&mut self, n: usize, mut group: Vec<Ev>) {
        let catalog = self.catalog;
        let node = &catalog.nodes[n];
        let p = self.pass_chance(n);
        let fresh = self.viewed != Some(n);
        let think = if fresh {
            60 + 60 * u32::from(node.difficulty)
        } else {
            30
        };
        // Learners run their code a few times before daring to submit, more when unsure.
        let keen = if fresh { 0.55 } else { 0.45 };
        let runs = u32::from(fresh) + repeats(&mut self.rng, keen + 0.3 * (1.0 - p), 10);
        if !fresh && self.rng.r#gen::<f64>() < 0.3 {
            // Back to the statement after a failure.
            let gap = secs(&mut self.rng, 5, 40);
            group.push(self.node_page(gap, n));
        }
        for r in 0..runs {
            let gap = if r == 0 {
                secs(&mut self.rng, think, think * 4)
            } else {
                secs(&mut self.rng, 20, 240)
            };
            group.push(Ev {
                node: idx(n),
                ..ev(gap, Kind::Run)
            });
        }
        let submit_gap = if runs == 0 {
            secs(&mut self.rng, think, think * 3)
        } else {
            secs(&mut self.rng, 5, 60)
        };
        group.push(Ev {
            node: idx(n),
            ..ev(submit_gap, Kind::Submitted)
        });
        let passed = self.rng.r#gen::<f64>() < p;
        let (verdict, score) = if passed { (1, 100) } else { self.failure(n) };
        group.push(Ev {
            node: idx(n),
            verdict,
            score,
            ..ev(secs(&mut self.rng, 1, 6), Kind::Verdict)
        });
        let state = self.nodes[n];
        let remedial = node
            .remedials
            .iter()
            .copied()
            .find(|&r| !self.nodes[r].remediation && !self.nodes[r].done());
        let remediate = !passed
            && state.failures + 1 >= node.remediate_after_failures
            && remedial.is_some()
            && self.rng.r#gen::<f64>() < 0.8;
        if passed {
            group.push(Ev {
                node: idx(n),
                ..ev(1, Kind::NodePassed)
            });
        } else if let Some(r) = remedial.filter(|_| remediate) {
            group.push(Ev {
                node: idx(r),
                ..ev(secs(&mut self.rng, 3, 20), Kind::RemediationOpened)
            });
        }
        if !self.commit(group) {
            return;
        }
        self.arrive(n);
        for &s in &node.skills {
            self.practice[usize::from(s)] += 1;
        }
        let persistence = self.who.persistence;
        let state = &mut self.nodes[n];
        state.attempts += 1;
        state.best = state.best.max(score);
        if passed {
            state.stage = Stage::Passed;
            self.after_pass(n);
            return;
        }
        state.failures += 1;
        state.streak += 1;
        if let Some(r) = remedial.filter(|_| remediate) {
            self.nodes[r].remediation = true;
            self.back_to = Some(n);
            self.focus = Some(r);
        } else if state.streak >= persistence {
            state.abandoned = true;
            self.focus = None;
        } else {
            // Most learners try again straight away; some look elsewhere first.
            self.focus = (self.rng.r#gen::<f64>() < 0.85).then_some(n);
        }
    }

    /// A failed submission's verdict (index + 1) and score.
    fn failure(&mut self, n: usize) -> (u8, u8) {
        let which = random::weighted(&mut self.rng, &self.mixes[n]);
        let score = match VERDICTS[which + 1] {
            Verdict::WrongAnswer => 10 * self.rng.gen_range(0..10u8),
            Verdict::CompileError => 0,
            _ => 10 * self.rng.gen_range(0..7u8),
        };
        (u8::try_from(which + 2).unwrap_or(2), score)
    }

    fn after_pass(&mut self, n: usize) {
        let catalog = self.catalog;
        let node = &catalog.nodes[n];
        if node.kind == NodeKind::Checkpoint {
            for &g in &node.guards {
                if g != n && !self.nodes[g].done() {
                    self.nodes[g].stage = Stage::Skipped(idx(n));
                }
            }
        }
        self.focus = None;
        // Remediation done: back to the node it was for, with a fresh start.
        if node.remedial_for.is_some()
            && let Some(target) = self.back_to.take()
        {
            self.nodes[target].streak = 0;
            self.focus = Some(target);
        }
    }
}
