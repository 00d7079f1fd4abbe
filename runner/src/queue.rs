//! The job queue: a fixed number of runs at once, fair between users, bounded.
//!
//! Written by hand because the fairness rules are ours: when a slot frees, it goes
//! to the *next user* in round-robin order (their oldest job), not to the oldest
//! job overall, so one learner submitting twenty test cases cannot starve the
//! others; and no user holds more than part of the slots, so a newcomer finds one
//! free at once however many infinite loops someone else submitted. Waiting is
//! bounded overall and per user; past that a caller gets [`RunError::Busy`] with
//! a time to retry, never an unbounded wait.

use crate::{Language, LanguageStatus, Limits, Report, RunError, RunRequest, Sandbox};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The largest program accepted (the same limit the server function applies first).
pub const MAX_SOURCE_BYTES: usize = eduscale_core::code::MAX_SOURCE_BYTES;
/// The largest stdin accepted.
pub const MAX_STDIN_BYTES: usize = 1 << 20;

/// The queue's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// Runs at once.
    pub concurrency: usize,
    /// Runs at once for one user.
    pub max_running_per_user: usize,
    /// Jobs waiting for a slot, across all users.
    pub max_waiting: usize,
    /// Jobs waiting for a slot, for one user.
    pub max_waiting_per_user: usize,
}

impl QueueConfig {
    /// Sized from the machine: guests are CPU-bound but yield every millisecond,
    /// so a few runs per core keep the cores busy while one sleeps, without
    /// exceeding the instance pool (`slots`).
    pub fn for_machine(slots: usize) -> QueueConfig {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let concurrency = (cores * 4).clamp(1, slots.max(1));
        QueueConfig {
            concurrency,
            // One user's runs never take more than half the cores: whatever
            // they submit (a test suite, or forty infinite loops), everyone else
            // still finds a slot and a core. Measured: with all cores to one
            // attacker, a benign run took 8x its idle time; with half, see the
            // hostile-corpus test.
            max_running_per_user: (cores / 2).clamp(1, concurrency),
            max_waiting: concurrency * 16,
            max_waiting_per_user: concurrency * 4,
        }
    }
}

/// How busy a runner is: what remote clients balance on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    /// Runs in progress.
    pub running: usize,
    /// Runs waiting for a slot.
    pub waiting: usize,
    /// Runs it does at once.
    pub capacity: usize,
}

/// Something that runs a request on behalf of a user: the local [`Runner`], or
/// a client of remote runners.
#[async_trait::async_trait]
pub trait Executor: Send + Sync + std::fmt::Debug {
    /// Every language, and whether it can run.
    fn languages(&self) -> Vec<LanguageStatus>;
    /// Runs `request` for `user` (the key fairness is computed on).
    async fn execute(&self, user: &str, request: RunRequest) -> Result<Report, RunError>;
    /// Its load now, when it has one to tell (a runner serving over gRPC sends it
    /// with every reply).
    fn occupancy(&self) -> Option<Load> {
        None
    }
}

/// Sandboxes behind the fair queue, on a runtime of their own so that guests
/// (CPU-bound, yielding each tick) never slow the web server's tasks.
#[derive(Debug)]
pub struct Runner {
    sandboxes: HashMap<Language, Arc<dyn Sandbox>>,
    statuses: Vec<LanguageStatus>,
    queue: Arc<FairQueue>,
    runtime: GuestRuntime,
}

impl Runner {
    /// A runner over `sandboxes` (the first that lists a language as available
    /// runs it).
    pub fn new(sandboxes: Vec<Arc<dyn Sandbox>>, config: QueueConfig) -> std::io::Result<Runner> {
        let mut by_language: HashMap<Language, Arc<dyn Sandbox>> = HashMap::new();
        let mut statuses: HashMap<Language, LanguageStatus> = HashMap::new();
        for sandbox in &sandboxes {
            for status in sandbox.languages() {
                let language = status.language;
                let better = statuses
                    .get(&language)
                    .is_none_or(|s| s.unavailable.is_some());
                if better {
                    if status.unavailable.is_none() {
                        by_language.insert(language, sandbox.clone());
                    }
                    statuses.insert(language, status);
                }
            }
        }
        let statuses = Language::ALL
            .into_iter()
            .map(|language| {
                statuses.remove(&language).unwrap_or(LanguageStatus {
                    language,
                    backend: language.backend(),
                    unavailable: Some("no sandbox for it is configured".to_owned()),
                })
            })
            .collect();
        Ok(Runner {
            sandboxes: by_language,
            statuses,
            queue: Arc::new(FairQueue::new(config)),
            runtime: GuestRuntime::start()?,
        })
    }

    /// The queue's shape.
    pub fn config(&self) -> QueueConfig {
        self.queue.config
    }

    /// Jobs running and waiting now.
    pub fn load(&self) -> (usize, usize) {
        let state = self.queue.lock();
        (state.running, state.waiting)
    }

    /// Checks a request before it takes a queue place.
    pub fn validate(&self, request: &mut RunRequest) -> Result<Arc<dyn Sandbox>, RunError> {
        if request.source.len() > MAX_SOURCE_BYTES {
            return Err(RunError::Invalid(format!(
                "the program is {} KiB; the limit is {} KiB",
                request.source.len() >> 10,
                MAX_SOURCE_BYTES >> 10
            )));
        }
        if request.stdin.len() > MAX_STDIN_BYTES {
            return Err(RunError::Invalid(format!(
                "the input is {} KiB; the limit is {} KiB",
                request.stdin.len() >> 10,
                MAX_STDIN_BYTES >> 10
            )));
        }
        request.limits = request.limits.clamp(&Limits::MAX);
        match self.sandboxes.get(&request.language) {
            Some(sandbox) => Ok(sandbox.clone()),
            None => Err(RunError::Unavailable {
                language: request.language,
                reason: self
                    .statuses
                    .iter()
                    .find(|s| s.language == request.language)
                    .and_then(|s| s.unavailable.clone())
                    .unwrap_or_default(),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Executor for Runner {
    fn languages(&self) -> Vec<LanguageStatus> {
        self.statuses.clone()
    }

    async fn execute(&self, user: &str, mut request: RunRequest) -> Result<Report, RunError> {
        let sandbox = self.validate(&mut request)?;
        let slot = self.queue.acquire(user).await?;
        // The run owns its slot: if the caller goes away, the guest still ends
        // within its limits and only then frees the slot.
        let task = self.runtime.spawn(async move {
            let started = Instant::now();
            let report = sandbox.run(&request).await;
            slot.finished(started.elapsed());
            report
        });
        task.await.map_err(RunError::host)?
    }

    fn occupancy(&self) -> Option<Load> {
        let (running, waiting) = self.load();
        Some(Load {
            running,
            waiting,
            capacity: self.queue.config.concurrency,
        })
    }
}

/// How much nicer than the server's own threads the guests' threads are.
const GUEST_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority by [`GUEST_NICE`].
///
/// Judging is throughput work; a socket relaying a battle's delta or answering a
/// page is latency work. When both want the cores, the scheduler should give
/// them to the latter first: at nice 10 a guest thread weighs about a tenth of
/// a server thread. The scheduler is work-conserving, so guests lose nothing on
/// a machine with cores to spare, and they always get their share, so a busy
/// server slows judging down rather than stopping it. (The wall-clock limit is
/// five seconds against about two of fuel, so a run is not cut off by waiting
/// behind a burst.) Measured by `eduscale bench arena` with the guests running.
///
/// A nice level only orders threads within one scheduling group. Linux first
/// shares the cores between groups (a login session's autogroup, a systemd
/// service's cgroup), so guests at any nice level, even `SCHED_IDLE`, can
/// still take their group's share from a Redis or PostgreSQL in another
/// group, and every socket waits on Redis. That is for the deployment to
/// settle (README, "Judging under load"), not for this thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: nice only reads its integer. On Linux (glibc, musl) the nice
        // value belongs to each thread, and nice changes the calling one's.
        #[allow(unsafe_code)]
        let result = unsafe { libc::nice(GUEST_NICE) };
        // -1 is also a valid result (a thread at -11); this is only a log line.
        if result == -1 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "could not lower a guest thread's priority"
            );
        }
    }
}

/// The runtime guests run on.
struct GuestRuntime(Option<tokio::runtime::Runtime>);

impl GuestRuntime {
    fn start() -> std::io::Result<GuestRuntime> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("eduscale-guest")
            .on_thread_start(lower_priority)
            .enable_all()
            .build()?;
        Ok(GuestRuntime(Some(runtime)))
    }

    fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.0 {
            Some(runtime) => runtime.spawn(future),
            None => unreachable!("the runtime is only taken on drop"),
        }
    }
}

impl Drop for GuestRuntime {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's task would panic; runs still
        // in flight are bounded by their limits anyway.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for GuestRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuestRuntime")
    }
}

/// The round-robin queue of slots.
#[derive(Debug)]
pub struct FairQueue {
    config: QueueConfig,
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    running: usize,
    waiting: usize,
    running_by_user: HashMap<String, usize>,
    by_user: HashMap<String, VecDeque<oneshot::Sender<Slot>>>,
    turn: VecDeque<String>,
    /// Moving average of a run's duration, for "try again in N s".
    average_run: Option<Duration>,
}

/// A place among the running jobs; gives itself to the next waiter when dropped.
#[derive(Debug)]
pub struct Slot {
    queue: Arc<FairQueue>,
    user: String,
}

impl Slot {
    /// Records how long the run took (for the retry estimate), then frees the slot.
    pub fn finished(self, took: Duration) {
        let mut state = self.queue.lock();
        state.average_run = Some(match state.average_run {
            Some(average) => (average * 7 + took) / 8,
            None => took,
        });
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.queue.release(&self.user);
    }
}

impl FairQueue {
    /// An empty queue.
    pub fn new(config: QueueConfig) -> FairQueue {
        FairQueue {
            config,
            state: Mutex::new(QueueState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // The state is a few counters and queues, each left consistent before
        // any call that could panic, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for a slot for `user`, or says when to come back.
    pub async fn acquire(self: &Arc<Self>, user: &str) -> Result<Slot, RunError> {
        let receiver = {
            let mut state = self.lock();
            // A free slot while others wait means every waiter is at their own
            // cap (release hands slots to eligible waiters first), so this user
            // may take it if they are not at theirs.
            let mine_running = state.running_by_user.get(user).copied().unwrap_or(0);
            if state.running < self.config.concurrency
                && mine_running < self.config.max_running_per_user
            {
                return Ok(self.grant(&mut state, user));
            }
            let mine = state.by_user.get(user).map_or(0, VecDeque::len);
            if state.waiting >= self.config.max_waiting || mine >= self.config.max_waiting_per_user
            {
                return Err(RunError::Busy {
                    retry_after: self.retry_after(&state),
                });
            }
            let (sender, receiver) = oneshot::channel();
            let queue = state.by_user.entry(user.to_owned()).or_default();
            queue.push_back(sender);
            if queue.len() == 1 {
                state.turn.push_back(user.to_owned());
            }
            state.waiting += 1;
            receiver
        };
        receiver
            .await
            .map_err(|_| RunError::Host("the queue was shut down".to_owned()))
    }

    fn grant(self: &Arc<Self>, state: &mut QueueState, user: &str) -> Slot {
        state.running += 1;
        *state.running_by_user.entry(user.to_owned()).or_default() += 1;
        Slot {
            queue: self.clone(),
            user: user.to_owned(),
        }
    }

    fn retry_after(&self, state: &QueueState) -> Duration {
        let average = state.average_run.unwrap_or(Duration::from_millis(100));
        let rounds = (state.waiting as u32 + 1).div_ceil(self.config.concurrency.max(1) as u32);
        (average * rounds).max(Duration::from_secs(1))
    }

    /// Frees `user`'s slot and hands one to the next user in turn who is below
    /// their cap.
    fn release(self: &Arc<Self>, user: &str) {
        let next = {
            let mut state = self.lock();
            state.running -= 1;
            if let Some(count) = state.running_by_user.get_mut(user) {
                *count -= 1;
                if *count == 0 {
                    state.running_by_user.remove(user);
                }
            }
            let mut next = None;
            for _ in 0..state.turn.len() {
                let Some(candidate) = state.turn.pop_front() else {
                    break;
                };
                let running = state.running_by_user.get(&candidate).copied().unwrap_or(0);
                if running >= self.config.max_running_per_user {
                    state.turn.push_back(candidate);
                    continue;
                }
                let Some(queue) = state.by_user.get_mut(&candidate) else {
                    continue;
                };
                let sender = queue.pop_front();
                if queue.is_empty() {
                    state.by_user.remove(&candidate);
                } else {
                    state.turn.push_back(candidate.clone());
                }
                if let Some(sender) = sender {
                    state.waiting -= 1;
                    let slot = self.grant(&mut state, &candidate);
                    next = Some((sender, slot));
                    break;
                }
            }
            next
        };
        if let Some((sender, slot)) = next {
            // If that waiter gave up, the slot comes back here and its drop
            // releases it again, to the waiter after.
            let _ = sender.send(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, from procfs (field 19 of its stat).
    #[cfg(target_os = "linux")]
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("procfs");
        let after_name = &stat[stat.rfind(')').expect("stat has a name") + 2..];
        after_name
            .split_whitespace()
            .nth(16)
            .and_then(|n| n.parse().ok())
            .expect("a nice value")
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn guests_run_below_the_server_threads_priority() {
        let guests = GuestRuntime::start().expect("guest runtime");
        let server = own_nice();
        let guest = guests.spawn(async { own_nice() }).await.expect("task");
        assert_eq!(guest, (server + GUEST_NICE).min(19));
        drop(guests);
    }

    fn config(concurrency: usize) -> QueueConfig {
        QueueConfig {
            concurrency,
            max_running_per_user: concurrency,
            max_waiting: 4,
            max_waiting_per_user: 3,
        }
    }

    #[tokio::test]
    async fn slots_go_round_robin_between_users() {
        let queue = Arc::new(FairQueue::new(config(1)));
        let first = queue.acquire("a").await.expect("free slot");
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (user, job) in [("a", 1), ("a", 2), ("b", 1), ("a", 3)] {
            let (queue, order) = (queue.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let slot = queue.acquire(user).await.expect("queued");
                order.lock().expect("lock").push(format!("{user}{job}"));
                drop(slot);
            }));
            tokio::task::yield_now().await;
        }
        drop(first);
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(*order.lock().expect("lock"), ["a1", "b1", "a2", "a3"]);
        let state = queue.lock();
        assert_eq!((state.running, state.waiting), (0, 0));
    }

    #[tokio::test]
    async fn full_queue_says_busy_with_a_retry_time() {
        let queue = Arc::new(FairQueue::new(config(1)));
        let _running = queue.acquire("a").await.expect("free slot");
        let mut waiting = Vec::new();
        for _ in 0..3 {
            let queue = queue.clone();
            waiting.push(tokio::spawn(
                async move { queue.acquire("a").await.map(drop) },
            ));
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Per-user bound first, then the overall one.
        assert!(matches!(
            queue.acquire("a").await,
            Err(RunError::Busy { .. })
        ));
        let queue2 = queue.clone();
        waiting.push(tokio::spawn(
            async move { queue2.acquire("b").await.map(drop) },
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
        match queue.acquire("c").await {
            Err(RunError::Busy { retry_after }) => assert!(retry_after >= Duration::from_secs(1)),
            other => panic!("expected busy, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn one_user_never_holds_every_slot() {
        let queue = Arc::new(FairQueue::new(QueueConfig {
            concurrency: 4,
            max_running_per_user: 2,
            max_waiting: 8,
            max_waiting_per_user: 8,
        }));
        let _a1 = queue.acquire("a").await.expect("free slot");
        let a2 = queue.acquire("a").await.expect("free slot");
        let third = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.acquire("a").await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            !third.is_finished(),
            "a third run for a waits for one of theirs to end"
        );
        // Someone else gets a slot at once.
        let b = tokio::time::timeout(Duration::from_millis(100), queue.acquire("b")).await;
        assert!(matches!(b, Ok(Ok(_))));
        drop(a2);
        tokio::time::timeout(Duration::from_secs(1), third)
            .await
            .expect("handed over")
            .expect("task")
            .expect("slot");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_leak_its_slot() {
        let queue = Arc::new(FairQueue::new(config(1)));
        let running = queue.acquire("a").await.expect("free slot");
        let gives_up = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.acquire("b").await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        gives_up.abort();
        let _ = gives_up.await;
        drop(running);
        let again = tokio::time::timeout(Duration::from_secs(1), queue.acquire("c")).await;
        assert!(matches!(again, Ok(Ok(_))));
        assert_eq!(queue.lock().waiting, 0);
    }
}
