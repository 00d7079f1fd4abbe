//! Runners as separate processes: real `eduscale runner serve` children (no
//! PostgreSQL, no Redis, only the guests) behind [`RemoteRunners`], as a web
//! server with `EDUSCALE_RUNNER_REMOTES` uses them; and in-process servers over
//! fake executors for the cases a real runner cannot be made to show on demand
//! (every runner busy).

use eduscale_runner::remote::pb::runner_client::RunnerClient;
use eduscale_runner::remote::{RemoteConfig, RemoteRunners, RemoteStats, pb, serve};
use eduscale_runner::{
    Executor, Language, LanguageStatus, Limits, Report, RunError, RunRequest, Verdict,
};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One `eduscale runner serve` child on a free port, killed when dropped.
struct RunnerProcess {
    child: Child,
    address: String,
    /// Kept open: the runner may print more, and a closed pipe would hurt it.
    _stdout: BufReader<ChildStdout>,
}

impl RunnerProcess {
    /// Starts a runner and waits for its address (printed once the guests are loaded).
    fn start() -> RunnerProcess {
        let guests = guests_dir();
        assert!(
            guests.join("python-3.12.0.wasm").exists(),
            "no guests in {}: run ./guests/fetch.sh (or set EDUSCALE_GUESTS_DIR)",
            guests.display()
        );
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // Nothing of the caller's environment: no DATABASE_URL, no REDIS_URL, no
        // EDUSCALE_* settings, no eduscale.toml in the working directory.
        let mut child = Command::new(env!("CARGO_BIN_EXE_eduscale"))
            .args(["runner", "serve", "--addr", "127.0.0.1:0"])
            .env_clear()
            .env("EDUSCALE_GUESTS_DIR", &guests)
            .env("EDUSCALE_RUNNER_CACHE_DIR", tmp.join("guest-cache"))
            .env("RUST_LOG", "warn")
            .current_dir(&tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the eduscale binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the runner's stdout");
        let address = line
            .trim()
            .strip_prefix("runner listening on ")
            .unwrap_or_else(|| {
                let status = child.wait();
                panic!("the runner did not start ({status:?}); it printed {line:?}")
            })
            .to_owned();
        RunnerProcess {
            child,
            address,
            _stdout: stdout,
        }
    }

    /// SIGKILL: the runner dies at once, mid-job, without closing anything.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the runner");
        self.child.wait().expect("reap the runner");
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn guests_dir() -> PathBuf {
    std::env::var_os("EDUSCALE_GUESTS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/dist"),
        PathBuf::from,
    )
}

fn client(addresses: &[&str]) -> RemoteRunners {
    let addresses: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    RemoteRunners::new(&addresses, RemoteConfig::default()).expect("valid addresses")
}

/// Job `n`: it reads its number on stdin and prints it with its square, in
/// Python or JavaScript by pairs (not by parity, which the balancer's
/// round-robin between two runners would mirror).
fn job(n: usize) -> RunRequest {
    let (language, source) = if n % 4 < 2 {
        (
            Language::Python,
            "n = int(input())\nprint(f\"job {n}: {n * n}\")\n",
        )
    } else {
        (
            Language::JavaScript,
            "const n = parseInt(readline(), 10);\nconsole.log(`job ${n}: ${n * n}`);\n",
        )
    };
    let mut request = RunRequest::new(language, source, format!("{n}\n"));
    // The wall clock is generous: the machine is shared with builds. Fuel, which
    // does not depend on load, still bounds the work.
    request.limits.wall = Limits::MAX.wall;
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_share_200_jobs_and_a_runner_killed_mid_load_loses_none() {
    const JOBS: usize = 200;
    const CONCURRENCY: usize = 16;
    const KILL_AFTER: usize = 60;
    let mut doomed = RunnerProcess::start();
    let survivor = RunnerProcess::start();
    let runners = Arc::new(client(&[&doomed.address, &survivor.address]));

    let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let finished = Arc::new(AtomicUsize::new(0));
    let mut jobs = tokio::task::JoinSet::new();
    for n in 0..JOBS {
        let (runners, gate, finished) = (runners.clone(), gate.clone(), finished.clone());
        jobs.spawn(async move {
            let _turn = gate.acquire_owned().await.expect("open gate");
            let outcome = runners.execute(&format!("learner-{}", n % 5), job(n)).await;
            finished.fetch_add(1, Ordering::SeqCst);
            (n, outcome)
        });
    }

    // Kill the first runner once the load is under way and it has jobs running.
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill: Vec<RemoteStats> = loop {
        let stats = runners.stats();
        if finished.load(Ordering::SeqCst) >= KILL_AFTER && stats[0].in_flight > 0 {
            doomed.kill();
            break stats;
        }
        assert!(Instant::now() < deadline, "no progress: {stats:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let finished_at_kill = finished.load(Ordering::SeqCst);

    let mut outcomes: Vec<Option<Result<Report, RunError>>> = vec![None; JOBS];
    while let Some(joined) = jobs.join_next().await {
        let (n, outcome) = joined.expect("job task");
        assert!(outcomes[n].is_none(), "job {n} answered twice");
        outcomes[n] = Some(outcome);
    }
    for (n, outcome) in outcomes.into_iter().enumerate() {
        let report = outcome
            .unwrap_or_else(|| panic!("job {n} got no result"))
            .unwrap_or_else(|e| panic!("job {n} failed: {e}"));
        assert_eq!(report.verdict, Verdict::Accepted, "job {n}: {report:?}");
        assert_eq!(report.stdout, format!("job {n}: {}\n", n * n), "job {n}");
    }

    let after = runners.stats();
    println!(
        "{JOBS} jobs, {finished_at_kill} done at the kill; at the kill: {at_kill:?}; \
         at the end: {after:?}; retries: {}",
        runners.retries()
    );
    assert!(
        at_kill.iter().all(|s| s.answered > 0),
        "both runners took jobs before the kill: {at_kill:?}"
    );
    assert!(
        at_kill[0].in_flight > 0,
        "the killed runner was mid-job: {at_kill:?}"
    );
    assert!(after[0].failures > 0, "the kill was noticed: {after:?}");
    assert!(runners.retries() > 0, "its jobs in flight were retried");
    assert_eq!(
        after.iter().map(|s| s.answered).sum::<u64>(),
        JOBS as u64,
        "one answer per job: {after:?}"
    );
    assert!(after[1].answered > at_kill[1].answered);
    assert!(after.iter().all(|s| s.in_flight == 0));
}

#[tokio::test]
async fn with_every_runner_down_a_job_fails_fast_with_a_host_error() {
    // Two ports that were free a moment ago and are closed now.
    let mut addresses = Vec::new();
    for _ in 0..2 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        addresses.push(format!(
            "http://{}",
            listener.local_addr().expect("its address")
        ));
    }
    let runners = client(&[&addresses[0], &addresses[1]]);
    for attempt in 0..3 {
        let started = Instant::now();
        let outcome = runners.execute("ada", job(attempt)).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "failed fast, not after {:?}",
            started.elapsed()
        );
        match outcome {
            Err(RunError::Host(why)) => assert!(
                why.contains("no runner could be reached") && why.contains(&addresses[0]),
                "{why}"
            ),
            other => panic!("expected a host error, got {other:?}"),
        }
    }
    assert!(runners.stats().iter().all(|s| !s.up && s.failures > 0));
    assert!(runners.refresh_languages().await.is_err());
    assert!(
        Executor::languages(&runners)
            .iter()
            .all(|s| s.unavailable.is_some())
    );
}

#[tokio::test]
async fn a_real_runner_refuses_bad_requests_with_typed_errors_and_stops_on_sigterm() {
    let mut process = RunnerProcess::start();
    let runners = client(&[&process.address]);

    // A language no sandbox here runs (no Docker): unavailable, with the reason.
    match runners
        .execute("ada", RunRequest::new(Language::C, "int main(){}", ""))
        .await
    {
        Err(RunError::Unavailable { language, reason }) => {
            assert_eq!(language, Language::C);
            assert!(!reason.is_empty());
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    // A program over the size limit: invalid, said in words.
    let huge = "#".repeat(200 << 10);
    match runners
        .execute("ada", RunRequest::new(Language::Python, huge, ""))
        .await
    {
        Err(RunError::Invalid(why)) => assert!(why.contains("KiB"), "{why}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    // What a client of another version might send: a language id we do not know,
    // no user key. Typed refusals, and the runner keeps serving.
    let mut raw = RunnerClient::connect(process.address.clone())
        .await
        .expect("connect");
    let mut request = pb::RunRequest {
        user: "ada".into(),
        language: "cobol".into(),
        source: "DISPLAY 'HI'.".into(),
        ..Default::default()
    };
    let reply = raw.run(request.clone()).await.expect("an answer");
    match reply.into_inner().outcome {
        Some(pb::run_reply::Outcome::Error(pb::RunError {
            kind: Some(pb::run_error::Kind::Invalid(why)),
        })) => assert!(why.contains("cobol"), "{why}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    request.language = "python".into();
    request.user = String::new();
    let reply = raw.run(request).await.expect("an answer").into_inner();
    assert!(matches!(
        reply.outcome,
        Some(pb::run_reply::Outcome::Error(pb::RunError {
            kind: Some(pb::run_error::Kind::Invalid(_))
        }))
    ));
    let load = raw
        .load(pb::LoadRequest {})
        .await
        .expect("load")
        .into_inner();
    assert!(load.capacity > 0 && load.running == 0, "{load:?}");

    // The languages come from the runner: the guests run, C does not.
    let languages = runners.refresh_languages().await.expect("languages");
    let status = |l: Language| languages.iter().find(|s| s.language == l).cloned();
    assert!(matches!(
        status(Language::Python),
        Some(LanguageStatus {
            unavailable: None,
            ..
        })
    ));
    assert!(matches!(
        status(Language::C),
        Some(LanguageStatus {
            unavailable: Some(_),
            ..
        })
    ));
    let report = runners.execute("ada", job(7)).await.expect("a report");
    assert_eq!(report.stdout, "job 7: 49\n");

    // What the web server builds from EDUSCALE_RUNNER_REMOTES: this runner, with
    // its languages known from the start.
    let config = eduscale::config::Config {
        runner_remotes: format!(" {} ,", process.address),
        ..Default::default()
    };
    let executor = eduscale::runner::executor(&config).await.expect("executor");
    assert!(
        executor
            .languages()
            .iter()
            .any(|s| s.language == Language::JavaScript && s.unavailable.is_none())
    );
    let report = executor.execute("ada", job(9)).await.expect("a report");
    assert_eq!(report.stdout, "job 9: 81\n");

    // SIGTERM: a clean stop.
    let killed = Command::new("kill")
        .args(["-TERM", &process.child.id().to_string()])
        .status()
        .expect("kill(1)");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = process.child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
}

/// A runner that always says busy.
#[derive(Debug)]
struct Busy(Duration);

#[async_trait::async_trait]
impl Executor for Busy {
    fn languages(&self) -> Vec<LanguageStatus> {
        Vec::new()
    }
    async fn execute(&self, _: &str, _: RunRequest) -> Result<Report, RunError> {
        Err(RunError::Busy {
            retry_after: self.0,
        })
    }
}

/// A runner that "runs" a program by printing its source.
#[derive(Debug)]
struct Echo;

#[async_trait::async_trait]
impl Executor for Echo {
    fn languages(&self) -> Vec<LanguageStatus> {
        Vec::new()
    }
    async fn execute(&self, _: &str, request: RunRequest) -> Result<Report, RunError> {
        Ok(Report {
            language: request.language,
            verdict: Verdict::Accepted,
            exit_code: Some(0),
            detail: None,
            stdout: request.source,
            stderr: String::new(),
            wall_us: 1,
            fuel: 0,
            peak_memory_bytes: 0,
        })
    }
}

/// Serves `executor` in this process; stops when the returned sender is dropped.
async fn serve_in_process(
    executor: Arc<dyn Executor>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("its address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, executor, async {
        let _ = stopped.await;
    }));
    (address, stop)
}

#[tokio::test]
async fn busy_runners_pass_the_job_on_and_busy_comes_back_only_when_all_are() {
    let (busy, _busy_server) = serve_in_process(Arc::new(Busy(Duration::from_secs(3)))).await;
    let (echo, _echo_server) = serve_in_process(Arc::new(Echo)).await;
    let (busier, _busier_server) = serve_in_process(Arc::new(Busy(Duration::from_secs(7)))).await;

    let runners = client(&[&busy, &echo]);
    for n in 0..10 {
        let request = RunRequest::new(Language::Python, format!("job {n}"), "");
        let report = runners
            .execute("ada", request)
            .await
            .expect("the free runner ran it");
        assert_eq!(report.stdout, format!("job {n}"));
    }
    let stats = runners.stats();
    assert!(
        stats[0].busy > 0,
        "some jobs met the busy runner first: {stats:?}"
    );
    assert_eq!(stats[1].answered, 10, "{stats:?}");
    assert_eq!(runners.retries(), stats[0].busy);

    let runners = client(&[&busier, &busy]);
    match runners
        .execute("ada", RunRequest::new(Language::Python, "", ""))
        .await
    {
        Err(RunError::Busy { retry_after }) => {
            assert_eq!(
                retry_after,
                Duration::from_secs(3),
                "the soonest of the two"
            )
        }
        other => panic!("expected busy, got {other:?}"),
    }
    assert!(runners.stats().iter().all(|s| s.busy == 1 && s.up));
}
