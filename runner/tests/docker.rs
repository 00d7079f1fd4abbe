//! The Docker sandbox against a fake Docker engine (tests/fake_docker): the
//! real bollard client, real HTTP on a real Unix socket, the attach stream
//! hijacked as the engine does; only the containers are played.

mod fake_docker;

use eduscale_runner::docker::{DockerConfig, DockerSandbox};
use eduscale_runner::{Language, Limits, Report, RunError, RunRequest, Sandbox, Verdict};
use fake_docker::{FakeDocker, Log};
use std::time::{Duration, Instant};

const DOCKER_LANGUAGES: [&str; 5] = ["c", "cpp", "rust", "go", "java"];

fn config(fake: &FakeDocker, pool_size: usize) -> DockerConfig {
    DockerConfig {
        host: Some(fake.host()),
        pool_size,
        ..DockerConfig::default()
    }
}

/// A sandbox over `fake` whose pools are full.
async fn sandbox(fake: &FakeDocker, config: DockerConfig) -> DockerSandbox {
    let full = config.pool_size * DOCKER_LANGUAGES.len();
    let sandbox = DockerSandbox::connect(&config).await;
    fake.until("the pools are full", |log| log.created.len() == full)
        .await;
    sandbox
}

fn request(language: Language, source: &str, stdin: &str) -> RunRequest {
    RunRequest::new(language, source, stdin)
}

async fn run(sandbox: &DockerSandbox, request: RunRequest) -> Report {
    sandbox.run(&request).await.expect("a report")
}

/// The one container `log` saw started.
fn only_started(log: &Log) -> String {
    assert_eq!(log.started.len(), 1, "{log:#?}");
    log.started[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_creates_containers_ahead_for_every_language_without_starting_them() {
    let fake = FakeDocker::start();
    let _sandbox = sandbox(&fake, config(&fake, 2)).await;
    let log = fake.log();
    for language in DOCKER_LANGUAGES {
        assert_eq!(log.created_for(language).len(), 2, "{language}");
    }
    assert!(log.started.is_empty());
    // Full means full: no more are created while nobody takes one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.log().created.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_takes_a_pooled_container_which_is_replaced_and_then_removed() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 2)).await;
    let pooled: Vec<String> = fake
        .log()
        .created
        .iter()
        .map(|(id, _)| id.clone())
        .collect();

    let report = run(&sandbox, request(Language::C, "hello", "")).await;
    assert_eq!(
        (report.verdict, report.stdout.as_str()),
        (Verdict::Accepted, "hello\n")
    );

    let log = fake
        .until("a replacement is created", |log| log.created.len() == 11)
        .await;
    let used = only_started(&log);
    assert!(
        pooled.contains(&used),
        "the run used a container created ahead"
    );
    assert_eq!(
        log.removed,
        vec![used],
        "the used container, and only it, is removed"
    );
    assert_eq!(log.created_for("c").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_program_gets_its_stdin_and_its_stdout_without_the_marker() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let report = run(&sandbox, request(Language::Rust, "echo", "3 4\nhé\n")).await;
    assert_eq!(report.verdict, Verdict::Accepted);
    assert_eq!(report.exit_code, Some(0));
    assert_eq!(report.stdout, "3 4\nhé\n");
    assert_eq!((report.fuel, report.peak_memory_bytes), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_zero_exit_is_a_runtime_error_with_its_code_and_stderr() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let report = run(&sandbox, request(Language::Go, "fail", "")).await;
    assert_eq!(report.verdict, Verdict::RuntimeError);
    assert_eq!(report.exit_code, Some(3));
    assert_eq!(report.stderr, "boom\n");

    let crashed = run(&sandbox, request(Language::Cpp, "segfault", "")).await;
    assert_eq!(crashed.verdict, Verdict::RuntimeError);
    assert!(
        crashed
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("SIGSEGV"),
        "{crashed:?}"
    );

    // 113 from the program itself, after it started, is not a compile error.
    let own = run(&sandbox, request(Language::C, "exit113", "")).await;
    assert_eq!(
        (own.verdict, own.exit_code),
        (Verdict::RuntimeError, Some(113))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compile_failure_is_a_compile_error_with_the_compiler_message() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let report = run(&sandbox, request(Language::C, "syntax", "")).await;
    assert_eq!(report.verdict, Verdict::CompileError);
    assert!(report.stderr.contains("error: expected ';'"), "{report:?}");
    assert_eq!(report.wall_us, 0, "the program never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_past_its_wall_limit_is_killed_timed_out_and_removed() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let mut sleeper = request(Language::Java, "sleep", "");
    sleeper.limits.wall = Duration::from_millis(300);
    let started = Instant::now();
    let report = run(&sandbox, sleeper).await;
    assert_eq!(report.verdict, Verdict::TimeLimit);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(report.wall_us >= 300_000, "{report:?}");

    let log = fake.log();
    let used = only_started(&log);
    assert_eq!(log.killed, vec![used.clone()]);
    assert_eq!(log.removed, vec![used]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_still_has_its_container_removed() {
    let fake = FakeDocker::start();
    let sandbox = std::sync::Arc::new(sandbox(&fake, config(&fake, 1)).await);
    let running = tokio::spawn({
        let sandbox = sandbox.clone();
        async move { sandbox.run(&request(Language::C, "sleep", "")).await }
    });
    let log = fake
        .until("the run started", |log| log.started.len() == 1)
        .await;
    running.abort();
    let used = only_started(&log);
    fake.until("the cancelled run's container is removed", |log| {
        log.removed.contains(&used)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_closes_its_output_and_goes_on_still_times_out() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let mut spinner = request(Language::C, "silent-spin", "");
    spinner.limits.wall = Duration::from_millis(300);
    let report = run(&sandbox, spinner).await;
    assert_eq!(report.verdict, Verdict::TimeLimit);
    assert!(report.wall_us >= 300_000, "it ran until killed: {report:?}");
    let log = fake.log();
    assert_eq!(log.killed, log.started);
    assert_eq!(log.removed, log.started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiling_past_its_budget_is_a_compile_error() {
    let fake = FakeDocker::start();
    let config = DockerConfig {
        compile_budget: Duration::from_millis(300),
        ..config(&fake, 1)
    };
    let sandbox = sandbox(&fake, config).await;
    let report = run(&sandbox, request(Language::Cpp, "compile-forever", "")).await;
    assert_eq!(report.verdict, Verdict::CompileError);
    assert!(
        report
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("compiling took longer")
    );
    let log = fake.log();
    assert_eq!(log.removed, log.started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oom_killed_program_is_over_its_memory_limit() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let report = run(&sandbox, request(Language::Rust, "oom", "")).await;
    assert_eq!(report.verdict, Verdict::MemoryLimit);
    let log = fake.log();
    assert_eq!(log.removed, log.started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_output_stops_at_the_cap_and_the_container_is_killed_and_removed() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let mut flood = request(Language::Go, "flood", "");
    flood.limits.output_bytes = 100_000;
    let report = run(&sandbox, flood).await;
    assert_eq!(report.verdict, Verdict::OutputLimit);
    assert_eq!(
        report.stdout.len(),
        100_000,
        "the output is kept up to the cap"
    );

    let log = fake.log();
    let used = only_started(&log);
    assert_eq!(log.killed, vec![used.clone()]);
    assert_eq!(log.removed, vec![used]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_are_created_without_network_with_a_read_only_root_and_limits() {
    let fake = FakeDocker::start();
    let _sandbox = sandbox(&fake, config(&fake, 1)).await;
    let log = fake.log();
    let c = log.created_for("c")[0];
    let host = &c["HostConfig"];
    assert_eq!(c["Image"], "gcc:14");
    assert_eq!(host["NetworkMode"], "none");
    assert_eq!(c["NetworkDisabled"], true);
    assert_eq!(host["ReadonlyRootfs"], true);
    assert_eq!(host["Memory"], Limits::default().memory_bytes);
    assert_eq!(host["MemorySwap"], host["Memory"], "no swap");
    assert_eq!(host["NanoCpus"], 1_000_000_000u64);
    assert_eq!(host["PidsLimit"], 64);
    let tmpfs = host["Tmpfs"]["/sandbox"]
        .as_str()
        .expect("a tmpfs at /sandbox");
    assert!(
        tmpfs.contains("size=67108864") && tmpfs.contains("exec"),
        "{tmpfs}"
    );
    assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]));
    assert_eq!(
        host["SecurityOpt"],
        serde_json::json!(["no-new-privileges"])
    );
    assert_eq!(host["Privileged"], false);
    assert_eq!(host["LogConfig"]["Type"], "none");
    let user = c["User"].as_str().expect("a user");
    assert!(
        !user.is_empty() && !user.starts_with("0") && !user.starts_with("root"),
        "{user}"
    );
    assert_eq!(c["Env"], serde_json::json!([]));
    assert_eq!(
        (
            c["OpenStdin"].clone(),
            c["StdinOnce"].clone(),
            c["Tty"].clone()
        ),
        (true.into(), true.into(), false.into())
    );
    assert_eq!(log.created_for("java")[0]["Image"], "eclipse-temurin:21");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_never_travels_in_argv_env_or_any_request() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let report = run(
        &sandbox,
        request(Language::C, "hello /* SECRET-7f3a */", ""),
    )
    .await;
    assert_eq!(report.verdict, Verdict::Accepted);
    let log = fake.log();
    assert!(
        log.requests.iter().all(|r| !r.contains("SECRET-7f3a")),
        "{:#?}",
        log.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_other_memory_updates_its_container_before_starting_it() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let mut small = request(Language::C, "hello", "");
    small.limits.memory_bytes = 64 << 20;
    assert_eq!(run(&sandbox, small).await.verdict, Verdict::Accepted);
    let log = fake.log();
    let used = only_started(&log);
    assert_eq!(log.updated.len(), 1);
    let (id, update) = &log.updated[0];
    assert_eq!(id, &used);
    assert_eq!(
        (update["Memory"].as_u64(), update["MemorySwap"].as_u64()),
        (Some(64 << 20), Some(64 << 20))
    );
    let update_at = log
        .requests
        .iter()
        .position(|r| r.contains("/update"))
        .expect("update");
    let start_at = log
        .requests
        .iter()
        .position(|r| r.contains("/start"))
        .expect("start");
    assert!(update_at < start_at);

    // The default limits need no update.
    assert_eq!(
        run(&sandbox, request(Language::C, "hello", ""))
            .await
            .verdict,
        Verdict::Accepted
    );
    assert_eq!(fake.log().updated.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_beyond_the_pool_size_all_finish_and_every_container_is_removed() {
    let fake = FakeDocker::start();
    let sandbox = sandbox(&fake, config(&fake, 1)).await;
    let runs = (0..8).map(|i| {
        let language = if i % 2 == 0 {
            Language::C
        } else {
            Language::Go
        };
        let sandbox = &sandbox;
        async move {
            (
                i,
                run(sandbox, request(language, "echo", &format!("run {i}\n"))).await,
            )
        }
    });
    for (i, report) in futures_util::future::join_all(runs).await {
        assert_eq!(
            (report.verdict, report.stdout),
            (Verdict::Accepted, format!("run {i}\n"))
        );
    }

    let log = fake
        .until("all used containers are removed", |log| {
            log.removed.len() == 8
        })
        .await;
    assert_eq!(log.started.len(), 8);
    assert!(log.started.iter().all(|id| log.removed.contains(id)));
    assert!(
        log.max_alive <= 5 + 8,
        "pool size times languages plus runs in flight: {}",
        log.max_alive
    );
    let log = fake
        .until("the pools are full again", |log| log.alive().len() == 5)
        .await;
    assert_eq!(log.created.len(), 5 + 8);

    sandbox.shutdown().await;
    assert_eq!(
        fake.log().alive(),
        Vec::<&str>::new(),
        "shutdown removes the waiting containers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_older_than_bollard_is_never_sent_a_newer_api_version() {
    let fake = FakeDocker::start();
    let _sandbox = sandbox(&fake, config(&fake, 1)).await;
    let log = fake.log();
    let version = log
        .requests
        .iter()
        .position(|r| r.ends_with("/version"))
        .expect("negotiated");
    let create = log
        .requests
        .iter()
        .position(|r| r.contains("/containers/create"))
        .expect("a create");
    assert!(version < create);
    // bollard 0.21 sends unversioned paths (served at the engine's own version);
    // any versioned one must carry the engine's version.
    let ours = format!(" /v{}/", fake_docker::API_VERSION);
    for request in &log.requests {
        assert!(
            !request.contains(" /v1.") || request.contains(&ours),
            "{request}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_makes_only_its_language_unavailable_with_the_reason() {
    let fake = FakeDocker::with_missing_images(&["golang:1"]);
    let sandbox = DockerSandbox::connect(&config(&fake, 1)).await;
    fake.until("the other pools are full", |log| log.created.len() == 4)
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let go = loop {
        let statuses = sandbox.languages();
        let go = statuses
            .iter()
            .find(|s| s.language == Language::Go)
            .expect("go")
            .clone();
        if go.unavailable.is_some() || Instant::now() > deadline {
            break go;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let reason = go.unavailable.expect("go is unavailable");
    assert!(
        reason.contains("golang:1") && reason.contains("docker pull"),
        "{reason}"
    );
    for status in sandbox
        .languages()
        .iter()
        .filter(|s| s.language != Language::Go)
    {
        assert_eq!(status.unavailable, None, "{:?}", status.language);
    }

    let started = Instant::now();
    let refused = sandbox.run(&request(Language::Go, "hello", "")).await;
    assert_eq!(
        refused,
        Err(RunError::Unavailable {
            language: Language::Go,
            reason
        })
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once, not after a wait"
    );
    assert_eq!(
        run(&sandbox, request(Language::C, "hello", ""))
            .await
            .verdict,
        Verdict::Accepted
    );
}

async fn assert_unavailable_everywhere(host: String, words: &str) {
    let config = DockerConfig {
        host: Some(host),
        ..DockerConfig::default()
    };
    let sandbox = DockerSandbox::connect(&config).await;
    let statuses = sandbox.languages();
    let listed: Vec<&str> = statuses.iter().map(|s| s.language.id()).collect();
    assert_eq!(listed, DOCKER_LANGUAGES);
    let reason = statuses[0].unavailable.clone().expect("unavailable");
    assert!(reason.contains(words), "{reason}");
    assert!(
        reason.contains("docker.sock"),
        "the reason names the socket: {reason}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| s.unavailable.as_ref() == Some(&reason))
    );

    let refused = sandbox.run(&request(Language::Java, "hello", "")).await;
    assert_eq!(
        refused,
        Err(RunError::Unavailable {
            language: Language::Java,
            reason
        })
    );
}

#[tokio::test]
async fn with_no_engine_at_the_socket_every_language_is_unavailable_with_the_reason() {
    let dir = fake_docker::temp_dir("none");
    let host = format!("unix://{}", dir.join("docker.sock").display());
    assert_unavailable_everywhere(host, "no Docker engine is running on this server").await;
}

#[tokio::test]
async fn a_socket_nobody_answers_on_is_no_engine_either() {
    let dir = fake_docker::temp_dir("stale");
    let socket = fake_docker::stale_socket(&dir);
    let host = format!("unix://{}", socket.display());
    assert_unavailable_everywhere(host, "no Docker engine is running on this server").await;
}
