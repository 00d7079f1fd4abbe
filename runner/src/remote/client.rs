//! [`RemoteRunners`]: the web server's [`Executor`] when runners are separate
//! processes. Each job goes to the runner with the least load, and a runner that
//! fails is skipped while it backs off.
//!
//! Load is this client's own calls in flight to a runner plus the running and
//! waiting jobs that runner last reported (every reply carries them), per slot
//! of its capacity: our own count reacts at once, the report covers the other
//! web servers. Ties go round-robin.
//!
//! A job tries each runner at most once:
//! - an answer (a report, or a refusal such as "unavailable" or "invalid") is
//!   the job's result: the same request would get the same answer elsewhere;
//! - "busy" sends it to the next runner, and the caller gets
//!   [`RunError::Busy`] only when every runner was busy (with the soonest retry);
//! - a failed call (connection refused or reset, the runner died mid-run, no
//!   answer in time) marks the runner down for a back-off that doubles while it
//!   keeps failing, and the job goes to the next runner. That is safe because a
//!   run is idempotent: see the [module docs](super).
//!
//! When every runner is down, a job probes the one whose back-off ends first
//! (so a recovery is noticed without waiting), and fails with
//! [`RunError::Host`] naming each failure when that probe fails too. So every
//! call returns exactly one result, within its deadline, and never hangs on a
//! dead runner.
//!
//! Connections are lazy (nothing is dialled before the first job) and a runner
//! marked down gets a fresh channel, so its next call dials anew.

use super::{MAX_MESSAGE_BYTES, pb, wire};
use crate::queue::{Executor, Load};
use crate::{Language, LanguageStatus, Limits, Report, RunError, RunRequest};
use pb::runner_client::RunnerClient;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

/// Timeouts and back-off of the client.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// How long dialling a runner may take.
    pub connect_timeout: Duration,
    /// How long a job may wait in a runner's queue, on top of its wall limit;
    /// past both, the call has failed.
    pub queue_allowance: Duration,
    /// How long a runner is skipped after its first failure.
    pub backoff_min: Duration,
    /// The longest it is skipped, however often it failed.
    pub backoff_max: Duration,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        RemoteConfig {
            connect_timeout: Duration::from_secs(2),
            queue_allowance: Duration::from_secs(60),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// A client of N runners (`eduscale runner serve`), balancing and failing over.
#[derive(Debug)]
pub struct RemoteRunners {
    remotes: Vec<Remote>,
    /// One lock over every runner's state, so picking a runner and counting the
    /// job against it are one step (concurrent jobs do not all see the same
    /// idle runner). Never held across an `.await`.
    state: Mutex<Vec<RemoteState>>,
    config: RemoteConfig,
    /// The languages, as the first runner that answered listed them.
    languages: Mutex<Option<Vec<LanguageStatus>>>,
    turn: AtomicUsize,
    retries: AtomicU64,
}

#[derive(Debug)]
struct Remote {
    address: String,
    endpoint: Endpoint,
}

#[derive(Debug)]
struct RemoteState {
    channel: Channel,
    in_flight: usize,
    reported: Option<Load>,
    down_until: Option<Instant>,
    consecutive_failures: u32,
    answered: u64,
    busy: u64,
    failures: u64,
}

/// What one runner has done for this client, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStats {
    /// Its address.
    pub address: String,
    /// Calls it answered (reports and refusals other than "busy").
    pub answered: u64,
    /// Calls it answered "busy".
    pub busy: u64,
    /// Calls that failed (refused, reset, timed out).
    pub failures: u64,
    /// Calls to it in progress now.
    pub in_flight: usize,
    /// Whether it is tried (not backing off) now.
    pub up: bool,
}

/// How one call to one runner went.
enum Attempt {
    /// The job's result.
    Answer(Result<Report, RunError>),
    /// Busy: try another runner.
    Busy(Duration),
    /// The call failed (why): the runner is marked down; try another.
    Failed(String),
}

impl RemoteRunners {
    /// A client of the runners at `addresses` (`http://host:port`). Nothing is
    /// dialled yet. Must be called inside a Tokio runtime (each channel's
    /// worker is spawned on it).
    pub fn new(addresses: &[String], config: RemoteConfig) -> anyhow::Result<RemoteRunners> {
        anyhow::ensure!(!addresses.is_empty(), "no remote runner given");
        let mut remotes = Vec::new();
        let mut state = Vec::new();
        for address in addresses {
            let endpoint = Endpoint::from_shared(address.clone())
                .map_err(|e| anyhow::anyhow!("runner address {address}: {e}"))?
                .connect_timeout(config.connect_timeout)
                .tcp_nodelay(true)
                // A runner that vanished without closing the connection (power
                // loss, a cut network) is noticed within seconds.
                .http2_keep_alive_interval(Duration::from_secs(10))
                .keep_alive_timeout(Duration::from_secs(10));
            state.push(RemoteState {
                channel: endpoint.connect_lazy(),
                in_flight: 0,
                reported: None,
                down_until: None,
                consecutive_failures: 0,
                answered: 0,
                busy: 0,
                failures: 0,
            });
            remotes.push(Remote {
                address: address.clone(),
                endpoint,
            });
        }
        Ok(RemoteRunners {
            remotes,
            state: Mutex::new(state),
            config,
            languages: Mutex::new(None),
            turn: AtomicUsize::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// What each runner has done so far.
    pub fn stats(&self) -> Vec<RemoteStats> {
        let now = Instant::now();
        self.lock()
            .iter()
            .zip(&self.remotes)
            .map(|(state, remote)| RemoteStats {
                address: remote.address.clone(),
                answered: state.answered,
                busy: state.busy,
                failures: state.failures,
                in_flight: state.in_flight,
                up: state.is_up(now),
            })
            .collect()
    }

    /// Calls that went to a second (or later) runner, after a failure or "busy".
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Asks the runners, live ones first, for their languages, and caches the
    /// first answer for [`Executor::languages`].
    pub async fn refresh_languages(&self) -> Result<Vec<LanguageStatus>, RunError> {
        let mut order: Vec<usize> = (0..self.remotes.len()).collect();
        let now = Instant::now();
        let up: Vec<bool> = self.lock().iter().map(|s| s.is_up(now)).collect();
        order.sort_by_key(|&i| !up[i]);
        let mut failures = Vec::new();
        for index in order {
            match self.fetch_languages(index).await {
                Ok(languages) => return Ok(languages),
                Err(why) => failures.push(format!("{}: {why}", self.remotes[index].address)),
            }
        }
        Err(RunError::Host(format!(
            "no runner listed its languages ({})",
            failures.join("; ")
        )))
    }

    async fn fetch_languages(&self, index: usize) -> Result<Vec<LanguageStatus>, String> {
        let channel = self.lock()[index].channel.clone();
        let mut client = RunnerClient::new(channel);
        let call = client.languages(pb::LanguagesRequest {});
        let timeout = self.config.connect_timeout + Duration::from_secs(3);
        let reply = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(reply)) => reply.into_inner(),
            Ok(Err(status)) => return Err(status.message().to_owned()),
            Err(_) => return Err(format!("no answer in {} s", timeout.as_secs())),
        };
        let languages = wire::parse_languages(reply);
        *self.lock_languages() = Some(languages.clone());
        Ok(languages)
    }

    /// Picks the least-loaded runner not yet `tried` and counts the job against
    /// it; `None` when no runner is left to try.
    fn reserve(&self, tried: &[bool]) -> Option<Reservation<'_>> {
        let now = Instant::now();
        let mut state = self.lock();
        let count = state.len();
        // A runner that never reported is taken to be as big as the biggest one
        // that did, so it is neither flooded nor starved before its first reply.
        let default_capacity = state
            .iter()
            .filter_map(|s| s.reported.map(|l| l.capacity))
            .max()
            .unwrap_or(1);
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % count;
        let mut best: Option<(usize, (u64, u64))> = None;
        for index in (start..count).chain(0..start) {
            let remote = &state[index];
            if tried[index] || !remote.is_up(now) {
                continue;
            }
            let (load, capacity) = remote.load(default_capacity);
            // load / capacity < best_load / best_capacity, without division.
            if best.is_none_or(|(_, (l, c))| load * c < l * capacity) {
                best = Some((index, (load, capacity)));
            }
        }
        let index = match best {
            Some((index, _)) => index,
            // Every runner is down and this job has tried none: probe the one
            // whose back-off ends first rather than fail without trying.
            None if !tried.contains(&true) => {
                (0..count).min_by_key(|&i| state[i].down_until.unwrap_or(now))?
            }
            None => return None,
        };
        state[index].in_flight += 1;
        Some(Reservation {
            runners: self,
            index,
            channel: state[index].channel.clone(),
        })
    }

    /// One call to the reserved runner.
    async fn attempt(
        &self,
        reservation: &Reservation<'_>,
        request: pb::RunRequest,
        deadline: Duration,
    ) -> Attempt {
        let index = reservation.index;
        let mut client = RunnerClient::new(reservation.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let mut call = tonic::Request::new(request);
        // The runner drops the job when the deadline passes (grpc-timeout), and
        // this side stops waiting a moment later even if the runner is hung.
        call.set_timeout(deadline);
        let waited = tokio::time::timeout(deadline + Duration::from_secs(1), client.run(call));
        let reply = match waited.await {
            Ok(Ok(reply)) => reply.into_inner(),
            Ok(Err(status)) if is_call_failure(status.code()) => {
                return self.failed(index, format!("{:?}: {}", status.code(), status.message()));
            }
            Ok(Err(status)) => {
                // The runner is there but refuses the call itself (a version
                // it does not speak, a message over its size cap): the same
                // would happen again, here or elsewhere.
                self.answered(index, None, false);
                return Attempt::Answer(Err(RunError::Host(format!(
                    "runner {} refused the call: {:?}: {}",
                    self.remotes[index].address,
                    status.code(),
                    status.message()
                ))));
            }
            Err(_) => {
                return self.failed(index, format!("no answer in {} s", deadline.as_secs()));
            }
        };
        let load = reply.load.map(wire::parse_load);
        match wire::parse_run_reply(reply) {
            Err(RunError::Busy { retry_after }) => {
                self.answered(index, load, true);
                Attempt::Busy(retry_after)
            }
            outcome => {
                self.answered(index, load, false);
                Attempt::Answer(outcome)
            }
        }
    }

    /// Records an answer: the runner is up, with this load.
    fn answered(&self, index: usize, load: Option<Load>, busy: bool) {
        let mut state = self.lock();
        let remote = &mut state[index];
        if remote.consecutive_failures > 0 {
            tracing::info!(runner = %self.remotes[index].address, "runner is back");
        }
        remote.consecutive_failures = 0;
        remote.down_until = None;
        if load.is_some() {
            remote.reported = load;
        }
        if busy {
            remote.busy += 1;
        } else {
            remote.answered += 1;
        }
    }

    /// Records a failed call: the runner is skipped for a back-off, doubled for
    /// each failure in a row. Calls that were in flight when it failed (they
    /// all fail together) do not lengthen it.
    fn failed(&self, index: usize, why: String) -> Attempt {
        let now = Instant::now();
        let mut state = self.lock();
        let remote = &mut state[index];
        remote.failures += 1;
        if remote.is_up(now) {
            remote.consecutive_failures = remote.consecutive_failures.saturating_add(1);
            let doublings = (remote.consecutive_failures - 1).min(16);
            let backoff =
                (self.config.backoff_min * 2u32.pow(doublings)).min(self.config.backoff_max);
            remote.down_until = Some(now + backoff);
            remote.reported = None;
            // A fresh channel dials anew on the next call, whatever state the
            // old connection was left in.
            remote.channel = self.remotes[index].endpoint.connect_lazy();
            tracing::warn!(
                runner = %self.remotes[index].address,
                %why,
                backoff_ms = backoff.as_millis() as u64,
                "runner failed; skipping it for a while"
            );
        }
        Attempt::Failed(why)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RemoteState>> {
        // Counters and timestamps, each update complete before any call that
        // could panic: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_languages(&self) -> MutexGuard<'_, Option<Vec<LanguageStatus>>> {
        self.languages.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl RemoteState {
    fn is_up(&self, now: Instant) -> bool {
        self.down_until.is_none_or(|until| until <= now)
    }

    /// (jobs, capacity) for comparing runners.
    fn load(&self, default_capacity: usize) -> (u64, u64) {
        let reported = self.reported.unwrap_or_default();
        let capacity = match self.reported {
            Some(load) => load.capacity,
            None => default_capacity,
        };
        (
            (self.in_flight + reported.running + reported.waiting) as u64,
            capacity.max(1) as u64,
        )
    }
}

/// A job counted against one runner until it is dropped (even when the caller
/// gives up mid-call).
struct Reservation<'a> {
    runners: &'a RemoteRunners,
    index: usize,
    channel: Channel,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.runners.lock()[self.index].in_flight -= 1;
    }
}

/// Whether a status means the call failed rather than that the runner answered:
/// these are what tonic reports for refused and reset connections, a runner
/// that died mid-call, and deadlines. Our server answers every call with OK.
fn is_call_failure(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::Unknown
            | Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Internal
            | Code::Aborted
    )
}

#[async_trait::async_trait]
impl Executor for RemoteRunners {
    fn languages(&self) -> Vec<LanguageStatus> {
        if let Some(languages) = self.lock_languages().clone() {
            return languages;
        }
        Language::ALL
            .into_iter()
            .map(|language| LanguageStatus {
                language,
                backend: language.backend(),
                unavailable: Some("no runner has answered yet".to_owned()),
            })
            .collect()
    }

    async fn execute(&self, user: &str, request: RunRequest) -> Result<Report, RunError> {
        let deadline = request.limits.clamp(&Limits::MAX).wall + self.config.queue_allowance;
        let wire_request = wire::run_request(user, &request);
        let mut tried = vec![false; self.remotes.len()];
        let mut busy: Option<Duration> = None;
        let mut failures = Vec::new();
        while let Some(reservation) = self.reserve(&tried) {
            if tried.contains(&true) {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            tried[reservation.index] = true;
            match self
                .attempt(&reservation, wire_request.clone(), deadline)
                .await
            {
                Attempt::Answer(outcome) => {
                    if outcome.is_ok() && self.lock_languages().is_none() {
                        // The first runner that answers lists the languages too.
                        let _ = self.fetch_languages(reservation.index).await;
                    }
                    return outcome;
                }
                Attempt::Busy(after) => busy = Some(busy.map_or(after, |b| b.min(after))),
                Attempt::Failed(why) => {
                    failures.push(format!(
                        "{}: {why}",
                        self.remotes[reservation.index].address
                    ));
                }
            }
        }
        Err(match busy {
            Some(retry_after) => RunError::Busy { retry_after },
            None => RunError::Host(format!(
                "no runner could be reached ({})",
                failures.join("; ")
            )),
        })
    }

    fn occupancy(&self) -> Option<Load> {
        let state = self.lock();
        let mut total = Load::default();
        for remote in state.iter() {
            let reported = remote.reported.unwrap_or_default();
            total.running += reported.running;
            total.waiting += reported.waiting;
            total.capacity += reported.capacity;
        }
        Some(total)
    }
}
