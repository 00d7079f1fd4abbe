//! Judging in a battle: runs of the visible tests, and submissions, queued
//! per player and judged one at a time in the order received, then scored by
//! the actor. A submission received after the close is stored and answered
//! too late.

use super::{Actor, Mail, Stop, now_ms};
use crate::arena::store;
use eduscale_core::battle::{Command, Phase, Refusal};
use eduscale_core::code::{Checker, Judgement, Language, Limits, TestCase};
use eduscale_core::protocol::{ErrorCode, ServerMsg};
use eduscale_runner::RunError;
use eduscale_runner::queue::Executor;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Submissions one player may have waiting; more are refused as busy.
const MAX_QUEUED: usize = 64;

/// How long a submission waits out a full runner before it is given up (and
/// left pending, for the player to submit again).
const SUBMISSION_PATIENCE: Duration = Duration::from_secs(60);
/// The same for a run of the visible tests: someone is looking at the button.
const RUN_PATIENCE: Duration = Duration::from_secs(10);

/// Judges `source` on `tests`, waiting out "busy" (what the runner's queue
/// answers when every place is taken) for up to `patience`.
///
/// A battle's submissions are already queued per player, one judged at a time,
/// so under load the runner's queue fills with other players' work; bouncing a
/// recorded submission then would make the player resubmit into the same full
/// queue. The retries wait outside the queue, at the delay it suggests plus a
/// random half of it, so that waiters do not all come back at once.
async fn judge_patiently(
    runner: &dyn Executor,
    user: Uuid,
    (language, source): (Language, &str),
    tests: &[TestCase],
    (checker, limits): (&Checker, Limits),
    patience: Duration,
) -> Result<Judgement, RunError> {
    let started = Instant::now();
    let user = user.to_string();
    loop {
        let judged =
            eduscale_runner::judge::judge(runner, &user, language, source, tests, checker, limits)
                .await;
        match judged {
            Err(RunError::Busy { retry_after }) if started.elapsed() + retry_after < patience => {
                metrics::counter!("arena_judging_busy_retries_total").increment(1);
                let wait = retry_after.mul_f64(1.0 + rand::random::<f64>() / 2.0);
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

/// A stored submission waiting for its turn.
pub(super) struct Queued {
    pub(super) submission: i64,
    pub(super) language: Language,
    pub(super) source: String,
    pub(super) received_ms: u64,
}

impl Actor {
    /// The player's index and code, or why they cannot run or submit now.
    fn runnable(&self, user: Uuid) -> Result<(Language, String), Refusal> {
        let index = self
            .state
            .player_index(&user.to_string())
            .ok_or(Refusal::NotAPlayer)?;
        let player = &self.state.players[index];
        if player.forfeited {
            return Err(Refusal::Forfeited);
        }
        Ok((player.language, player.code.clone()))
    }

    pub(super) async fn run_visible(&mut self, user: Uuid) -> Result<(), Stop> {
        if !matches!(self.state.phase, Phase::Running { .. }) {
            self.refuse(user, Refusal::WrongPhase("not running".into()))
                .await?;
            return Ok(());
        }
        let (language, source) = match self.runnable(user) {
            Ok(_) if self.running.contains(&user) => {
                self.refuse(user, Refusal::Busy).await?;
                return Ok(());
            }
            Ok(r) => r,
            Err(refusal) => {
                self.refuse(user, refusal).await?;
                return Ok(());
            }
        };
        let Some(problem) = self.problem.clone() else {
            return Ok(());
        };
        self.running.insert(user);
        let shared = self.shared.clone();
        let me = self.me.clone();
        let battle = self.state.id;
        tokio::spawn(async move {
            let visible: Vec<TestCase> = problem
                .tests
                .iter()
                .filter(|t| t.visible)
                .cloned()
                .collect();
            let judged = judge_patiently(
                &*shared.runner,
                user,
                (language, &source),
                &visible,
                (&problem.challenge.checker, problem.challenge.limits),
                RUN_PATIENCE,
            )
            .await;
            let passed = match judged {
                Ok(judgement) => {
                    let passed = judgement.passed as u16;
                    shared
                        .hub
                        .send_to(
                            user,
                            ServerMsg::BattleRun {
                                battle,
                                judgement: Box::new(judgement),
                            },
                        )
                        .await;
                    Some(passed)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a battle run failed");
                    // The player pressed Run: they hear why nothing came back.
                    shared
                        .hub
                        .send_to(
                            user,
                            ServerMsg::Error {
                                code: ErrorCode::Unavailable,
                                message: format!("your run could not be judged: {e}"),
                            },
                        )
                        .await;
                    None
                }
            };
            let _ = me.send(Mail::Ran { user, passed }).await;
        });
        Ok(())
    }

    pub(super) async fn submit(&mut self, user: Uuid) -> Result<(), Stop> {
        let received_ms = now_ms();
        let closed = match self.state.phase {
            Phase::Finished { .. } => true,
            Phase::Running { ends_at_ms, .. } => received_ms >= ends_at_ms,
            _ => {
                self.refuse(user, Refusal::WrongPhase("not running".into()))
                    .await?;
                return Ok(());
            }
        };
        let waiting = self.queued.get(&user).map_or(0, VecDeque::len);
        let (language, source) = match self.runnable(user) {
            Ok(_) if waiting >= MAX_QUEUED => {
                self.refuse(user, Refusal::Busy).await?;
                return Ok(());
            }
            Ok(r) => r,
            Err(refusal) => {
                self.refuse(user, refusal).await?;
                return Ok(());
            }
        };
        let battle = self.state.id;
        let submission = store::record_submission(
            &self.shared.db,
            battle,
            user,
            language.id(),
            &source,
            received_ms,
        )
        .await?;
        if closed {
            // Recorded, answered, and nothing else: a result never changes.
            store::judge_submission(&self.shared.db, battle, self.epoch, submission, 0, 0, false)
                .await?;
            self.late(user).await;
            return Ok(());
        }
        self.queued.entry(user).or_default().push_back(Queued {
            submission,
            language,
            source,
            received_ms,
        });
        self.pump(user).await
    }

    /// Starts judging `user`'s next submission if none is being judged. Once
    /// the battle is over, what still waits is answered too late.
    pub(super) async fn pump(&mut self, user: Uuid) -> Result<(), Stop> {
        if self.judging.contains(&user) {
            return Ok(());
        }
        let over = self.state.is_finished();
        while let Some(next) = self.queued.get_mut(&user).and_then(VecDeque::pop_front) {
            if over {
                store::judge_submission(
                    &self.shared.db,
                    self.state.id,
                    self.epoch,
                    next.submission,
                    0,
                    0,
                    false,
                )
                .await?;
                self.late(user).await;
                continue;
            }
            self.judging.insert(user);
            self.judge(
                next.submission,
                user,
                next.language,
                next.source,
                next.received_ms,
            );
            break;
        }
        Ok(())
    }

    async fn late(&self, user: Uuid) {
        let battle = self.state.id;
        let hidden_total = self.state.problem.as_ref().map_or(0, |p| p.hidden);
        self.tell(
            user,
            ServerMsg::BattleVerdict {
                battle,
                hidden_passed: 0,
                hidden_total,
                too_late: true,
            },
        )
        .await;
        // Told whoever owns the battle: a fenced owner finds out at its next write.
        if let Err(e) = self.refuse(user, Refusal::TooLate).await {
            tracing::debug!(error = %e, "a late submission's refusal was not sent");
        }
    }

    /// Judges a stored submission on every test; the verdict comes back as mail.
    fn judge(
        &self,
        submission: i64,
        user: Uuid,
        language: Language,
        source: String,
        received_ms: u64,
    ) {
        let Some(problem) = self.problem.clone() else {
            return;
        };
        let shared = self.shared.clone();
        let me = self.me.clone();
        tokio::spawn(async move {
            let judged = judge_patiently(
                &*shared.runner,
                user,
                (language, &source),
                &problem.tests,
                (&problem.challenge.checker, problem.challenge.limits),
                SUBMISSION_PATIENCE,
            )
            .await;
            let hidden = match judged {
                Ok(j) => Some((j.hidden_passed as u16, j.hidden_total as u16)),
                Err(e) => {
                    tracing::warn!(error = %e, submission, "a battle submission could not be judged");
                    None
                }
            };
            let _ = me
                .send(Mail::Judged {
                    submission,
                    user,
                    received_ms,
                    hidden,
                })
                .await;
        });
    }

    pub(super) async fn judged(
        &mut self,
        submission: i64,
        user: Uuid,
        received_ms: u64,
        hidden: Option<(u16, u16)>,
    ) -> Result<(), Stop> {
        let battle = self.state.id;
        let Some((passed, total)) = hidden else {
            // Left pending: the runner failed, not the program. Say so.
            self.tell(
                user,
                ServerMsg::Error {
                    code: ErrorCode::Unavailable,
                    message: "your submission could not be judged right now; submit again".into(),
                },
            )
            .await;
            return Ok(());
        };
        let cmd = Command::Judged {
            user: user.to_string(),
            hidden_passed: passed,
            received_at_ms: received_ms,
            now_ms: now_ms(),
        };
        let outcome = self.commit(&cmd).await?;
        let counted = outcome.is_ok();
        store::judge_submission(
            &self.shared.db,
            battle,
            self.epoch,
            submission,
            passed,
            total,
            counted,
        )
        .await?;
        match outcome {
            Ok(()) => {
                self.tell(
                    user,
                    ServerMsg::BattleVerdict {
                        battle,
                        hidden_passed: passed,
                        hidden_total: total,
                        too_late: false,
                    },
                )
                .await;
            }
            Err(Refusal::TooLate) => self.late(user).await,
            Err(refusal) => self.refuse(user, refusal).await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eduscale_core::code::{LanguageStatus, Report, Verdict};
    use eduscale_runner::RunRequest;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A runner whose queue is full for its first `busy` calls, then prints
    /// each program's input (so every test whose expected output is its input
    /// passes).
    #[derive(Debug)]
    struct FullThenEcho {
        busy: usize,
        calls: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Executor for FullThenEcho {
        fn languages(&self) -> Vec<LanguageStatus> {
            Vec::new()
        }
        async fn execute(&self, _: &str, request: RunRequest) -> Result<Report, RunError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.busy {
                return Err(RunError::Busy {
                    retry_after: Duration::from_millis(20),
                });
            }
            Ok(Report {
                language: request.language,
                verdict: Verdict::Accepted,
                exit_code: Some(0),
                detail: None,
                stdout: request.stdin,
                stderr: String::new(),
                wall_us: 1,
                fuel: 1,
                peak_memory_bytes: 0,
            })
        }
    }

    impl FullThenEcho {
        fn new(busy: usize) -> FullThenEcho {
            FullThenEcho {
                busy,
                calls: AtomicUsize::new(0),
            }
        }
    }

    /// Three hidden tests whose expected output is their input, judged with
    /// `patience`.
    async fn judge(runner: &FullThenEcho, patience: Duration) -> Result<Judgement, RunError> {
        let tests: Vec<TestCase> = ["1", "2", "3"]
            .into_iter()
            .map(|n| TestCase {
                stdin: n.into(),
                expected: n.into(),
                visible: false,
            })
            .collect();
        judge_patiently(
            runner,
            Uuid::new_v4(),
            (Language::Python, "print(input())"),
            &tests,
            (&Checker::Exact, Limits::default()),
            patience,
        )
        .await
    }

    #[tokio::test]
    async fn a_full_runner_delays_a_verdict_and_does_not_lose_it() {
        let runner = FullThenEcho::new(3);
        let judged = judge(&runner, Duration::from_secs(5))
            .await
            .expect("judged once the queue had room");
        assert_eq!(judged.verdict, Verdict::Accepted);
        assert_eq!((judged.hidden_passed, judged.hidden_total), (3, 3));
        assert_eq!(
            runner.calls.load(Ordering::SeqCst),
            3 + 3,
            "three refusals, then each test once"
        );
    }

    #[tokio::test]
    async fn patience_runs_out_with_the_runner_s_own_answer() {
        let runner = FullThenEcho::new(usize::MAX);
        let started = Instant::now();
        let judged = judge(&runner, Duration::from_millis(200)).await;
        assert!(matches!(judged, Err(RunError::Busy { .. })), "{judged:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            runner.calls.load(Ordering::SeqCst) >= 2,
            "it tried again before giving up"
        );
    }
}
