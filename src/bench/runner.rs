//! `eduscale bench runner`: how fast a sandboxed run starts and how many fit in a
//! second, against merely starting the native interpreters.
//!
//! - `instantiate_us`: a fresh store and an instance of the Python guest (pool slot,
//!   copy-on-write image), nothing run.
//! - `hello_ms`: a whole judged run of hello world, one at a time: queue, instance,
//!   the program, its output compared, the verdict.
//! - `native_spawn_ms`: `python3 -c 'print(1)'` and `node -e 'console.log(1)'` as
//!   processes, in the same run (median).
//! - `runs_per_s`: hello-world runs completed per second with c2/c8/c32 in flight.
//! - `judge_ms`: judging a new 20-line Python program on 8 test cases, as a
//!   battle's submission is: with the program compiled once for its 8 runs
//!   (`compiled_once`, as shipped) and, in the same run, compiled by each run
//!   (`compiled_per_run`); `ratio` is once / per run at the median.
//! - `peak_rss_mb`: this process's high-water mark at the end.

use super::arena::STARTER;
use super::{Percentiles, peak_rss_mb, round3};
use crate::cli::BenchArgs;
use crate::config::Config;
use eduscale_runner::judge::judge;
use eduscale_runner::queue::{Executor, QueueConfig, Runner};
use eduscale_runner::wasm::{WasmConfig, WasmSandbox};
use eduscale_runner::{Checker, Language, Limits, TestCase, Verdict};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PYTHON_HELLO: &str = "print('Hello, world!')\n";
const JS_HELLO: &str = "console.log('Hello, world!');\n";

/// Runs the benchmark and prints the JSON object.
pub async fn run(config: &Config, args: &BenchArgs) -> anyhow::Result<()> {
    let (samples, window) = if args.quick {
        (30, Duration::from_millis(700))
    } else {
        (200, Duration::from_secs(3))
    };
    let runner = Arc::new(crate::runner::local(config).await?);
    for language in [Language::Python, Language::JavaScript] {
        if let Some(reason) = runner
            .languages()
            .into_iter()
            .find(|s| s.language == language)
            .and_then(|s| s.unavailable)
        {
            anyhow::bail!("{} cannot run here: {reason}", language.name());
        }
    }
    let sandbox = WasmSandbox::load(&crate::runner::wasm_config(config))?;

    // Warm-up: the first runs page the guests' images in.
    for _ in 0..5 {
        hello(&runner, Language::Python, "warm-up").await?;
        hello(&runner, Language::JavaScript, "warm-up").await?;
    }

    let mut instantiate = Vec::with_capacity(samples * 5);
    for _ in 0..samples * 5 {
        instantiate.push(sandbox.time_instantiate(Language::Python).await?);
    }
    drop(sandbox);
    let instantiate = Percentiles::of(&mut instantiate, 1e-6);

    let mut hello_python = Vec::with_capacity(samples);
    let mut hello_js = Vec::with_capacity(samples);
    for _ in 0..samples {
        hello_python.push(hello(&runner, Language::Python, "bench").await?);
        hello_js.push(hello(&runner, Language::JavaScript, "bench").await?);
    }
    let hello_python = Percentiles::of(&mut hello_python, 1e-3);
    let hello_js = Percentiles::of(&mut hello_js, 1e-3);

    let native_python = native_spawn("python3", &["-c", "print(1)"], samples.min(40));
    let native_node = native_spawn("node", &["-e", "console.log(1)"], samples.min(40));

    let mut throughput = serde_json::Map::new();
    for language in [Language::JavaScript, Language::Python] {
        let mut per_level = serde_json::Map::new();
        for in_flight in [2usize, 8, 32] {
            let rate = runs_per_second(&runner, language, in_flight, window).await?;
            per_level.insert(format!("c{in_flight}"), json!(rate));
        }
        throughput.insert(
            language.id().to_owned(),
            serde_json::Value::Object(per_level),
        );
    }

    let judging = judge_figures(config, samples.min(60)).await?;

    let ratio = native_python.map(|native| round3(hello_python.p50 / native));
    let figures = json!({
        "instantiate_us": instantiate,
        "hello_ms": { "python": hello_python, "javascript": hello_js },
        "native_spawn_ms": { "python3": native_python, "node": native_node },
        "python_vs_native_spawn": ratio,
        "runs_per_s": throughput,
        "judge_ms": judging,
        "peak_rss_mb": peak_rss_mb(),
    });
    println!("{figures}");
    Ok(())
}

/// One judged hello-world run; its wall time, end to end.
async fn hello(runner: &Runner, language: Language, user: &str) -> anyhow::Result<Duration> {
    let source = match language {
        Language::Python => PYTHON_HELLO,
        _ => JS_HELLO,
    };
    let tests = [TestCase {
        stdin: String::new(),
        expected: "Hello, world!\n".into(),
        visible: true,
    }];
    let started = Instant::now();
    let judgement = judge(
        runner,
        user,
        language,
        source,
        &tests,
        &Checker::Exact,
        Limits::default(),
    )
    .await?;
    let took = started.elapsed();
    anyhow::ensure!(
        judgement.verdict == Verdict::Accepted,
        "hello world in {language} was judged {:?}",
        judgement.verdict
    );
    Ok(took)
}

/// Judging the arena bench's starter ([`STARTER`]: it reads numbers and prints
/// their sum) on 8 cases, `samples` times each way, alternating: with
/// the program compiled once for its runs, and compiled by every run. Each sample
/// judges a new source (a comment differs), as each submission is.
async fn judge_figures(config: &Config, samples: usize) -> anyhow::Result<serde_json::Value> {
    let slots = config.runner_slots as usize;
    let runner_with = |compiled_bytes| -> anyhow::Result<Runner> {
        let sandbox = WasmSandbox::load(&WasmConfig {
            compiled_bytes,
            ..crate::runner::wasm_config(config)
        })?;
        Ok(Runner::new(
            vec![Arc::new(sandbox)],
            QueueConfig::for_machine(slots),
        )?)
    };
    let once = runner_with(WasmConfig::COMPILED_BYTES)?;
    let per_run = runner_with(0)?;
    let tests: Vec<TestCase> = (1..=8)
        .map(|n| TestCase {
            stdin: (1..=n * 10).map(|i| format!("{i} ")).collect(),
            expected: format!("{}\n", n * 10 * (n * 10 + 1) / 2),
            visible: n <= 2,
        })
        .collect();
    let (mut with_once, mut with_per_run) = (Vec::new(), Vec::new());
    for sample in 0..samples + 3 {
        let a = judge_submission(&once, &tests, sample).await?;
        let b = judge_submission(&per_run, &tests, sample).await?;
        // The first few page the guests in.
        if sample >= 3 {
            with_once.push(a);
            with_per_run.push(b);
        }
    }
    let once = Percentiles::of(&mut with_once, 1e-3);
    let per_run = Percentiles::of(&mut with_per_run, 1e-3);
    Ok(json!({
        "compiled_once": once,
        "compiled_per_run": per_run,
        "ratio": round3(once.p50 / per_run.p50),
    }))
}

/// Judges submission number `sample` (a new source) on `tests`; how long it took.
async fn judge_submission(
    runner: &Runner,
    tests: &[TestCase],
    sample: usize,
) -> anyhow::Result<Duration> {
    let source = format!("{STARTER}# submission {sample}\n");
    let started = Instant::now();
    let judgement = judge(
        runner,
        "bench",
        Language::Python,
        &source,
        tests,
        &Checker::Exact,
        Limits::default(),
    )
    .await?;
    anyhow::ensure!(
        judgement.verdict == Verdict::Accepted,
        "the submission was judged {:?}",
        judgement.verdict
    );
    Ok(started.elapsed())
}

/// Judged hello-world runs completed per second with `in_flight` at once (each
/// in-flight slot is its own user, as real traffic would be).
async fn runs_per_second(
    runner: &Arc<Runner>,
    language: Language,
    in_flight: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let workers = (0..in_flight).map(|worker| {
        let runner = runner.clone();
        tokio::spawn(async move {
            let user = format!("bench-{worker}");
            let mut done = 0u64;
            while started.elapsed() < window {
                hello(&runner, language, &user).await?;
                done += 1;
            }
            Ok::<_, anyhow::Error>(done)
        })
    });
    let mut total = 0;
    for worker in futures_util::future::join_all(workers).await {
        total += worker??;
    }
    Ok(round3(total as f64 / started.elapsed().as_secs_f64()))
}

/// The median time to spawn `program` and wait for it, in ms; `None` when it is
/// not installed.
fn native_spawn(program: &str, args: &[&str], samples: usize) -> Option<f64> {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let status = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        times.push(started.elapsed());
    }
    Some(Percentiles::of(&mut times, 1e-3).p50)
}
