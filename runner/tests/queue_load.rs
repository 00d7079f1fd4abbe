//! The queue under ten times its capacity: every job finishes or is told "busy"
//! with a time to retry, nothing hangs, and memory stays bounded.

mod support;

use eduscale_runner::queue::Executor;
use eduscale_runner::{Language, QueueConfig, RunError, RunRequest, Verdict};
use std::sync::Arc;
use std::time::Duration;

fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_times_the_capacity_finishes_or_gets_busy_and_nothing_hangs() {
    let config = QueueConfig {
        concurrency: 4,
        max_running_per_user: 2,
        max_waiting: 16,
        max_waiting_per_user: 8,
    };
    let capacity = config.concurrency + config.max_waiting;
    let runner = Arc::new(support::runner(config));
    // Warm the pool slots, so the memory figure compares like with like.
    for _ in 0..4 {
        runner
            .execute(
                "warm",
                RunRequest::new(Language::JavaScript, "console.log(1)", ""),
            )
            .await
            .expect("warm");
    }
    let before = resident_mb();

    let jobs = capacity * 10;
    let tasks: Vec<_> = (0..jobs)
        .map(|job| {
            let runner = runner.clone();
            let (language, source) = if job % 3 == 0 {
                (
                    Language::Python,
                    format!("import time\ntime.sleep(0.05)\nprint({job})"),
                )
            } else {
                (Language::JavaScript, format!("console.log({job})"))
            };
            tokio::spawn(async move {
                let request = RunRequest::new(language, source, "");
                let user = format!("user-{}", job % 20);
                let outcome =
                    tokio::time::timeout(Duration::from_secs(60), runner.execute(&user, request))
                        .await;
                (job, outcome)
            })
        })
        .collect();

    let (mut finished, mut busy) = (0, 0);
    for task in tasks {
        let (job, outcome) = task.await.expect("task");
        match outcome.expect("no job hangs") {
            Ok(report) => {
                assert_eq!(
                    (report.verdict, report.stdout.trim()),
                    (Verdict::Accepted, job.to_string().as_str())
                );
                finished += 1;
            }
            Err(RunError::Busy { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1));
                busy += 1;
            }
            Err(other) => panic!("job {job}: {other}"),
        }
    }
    assert_eq!(finished + busy, jobs);
    assert!(
        finished >= capacity,
        "at least a full queue's worth ran ({finished})"
    );
    assert!(busy > 0, "the overflow was told to come back");
    assert_eq!(runner.load(), (0, 0), "nothing left running or waiting");
    let after = resident_mb();
    assert!(
        after - before < 512.0,
        "resident memory grew from {before:.0} MiB to {after:.0} MiB"
    );
    println!("{finished} finished, {busy} busy; resident {before:.0} -> {after:.0} MiB");
}
