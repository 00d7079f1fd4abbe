//! One run in one container: attach, start, feed stdin, read the output under
//! the deadline and the output cap, then find out how it ended.
//!
//! The program goes in through the container's stdin (attached before the
//! start, so no output is missed), never through argv or the environment.
//! Stdin is written by a task of its own while the output is read, so a
//! program that prints before reading cannot deadlock against a full pipe;
//! closing our side of the attach closes the program's stdin (the container
//! has `StdinOnce`).
//!
//! Time: the compile budget runs from the start, the wall limit from the
//! moment the script says the program starts (see `languages`). The reported
//! wall time is the program's alone. A container whose output ends but which
//! keeps running is still held to its deadline by the wait for its exit.

use super::outcome::{self, Capture, End};
use crate::{Report, RunError, RunRequest};
use bollard::Docker;
use bollard::container::{AttachContainerResults, LogOutput};
use bollard::models::ContainerUpdateBody;
use bollard::query_parameters::{AttachContainerOptionsBuilder, WaitContainerOptionsBuilder};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

/// How much of stderr a report keeps.
const STDERR_TAIL: usize = 8 << 10;

/// Runs `request` in the created, never started container `id`, whose memory
/// limit is `memory_bytes`.
pub async fn execute(
    docker: &Docker,
    id: &str,
    request: &RunRequest,
    memory_bytes: u64,
    compile_budget: Duration,
) -> Result<Report, RunError> {
    let limits = request.limits;
    if limits.memory_bytes != memory_bytes {
        let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
        let update = ContainerUpdateBody {
            memory: Some(memory),
            memory_swap: Some(memory),
            ..ContainerUpdateBody::default()
        };
        docker
            .update_container(id, update)
            .await
            .map_err(RunError::host)?;
    }
    let attach = AttachContainerOptionsBuilder::default()
        .stream(true)
        .stdin(true)
        .stdout(true)
        .stderr(true)
        .build();
    let AttachContainerResults {
        mut output,
        mut input,
    } = docker
        .attach_container(id, Some(attach))
        .await
        .map_err(RunError::host)?;
    docker
        .start_container(id, None)
        .await
        .map_err(RunError::host)?;
    let started = Instant::now();

    let framed = super::languages::frame(&request.source, request.stdin.as_bytes());
    let _feeder = AbortOnDrop(tokio::spawn(async move {
        // A program that exits without reading all of it closes the pipe: not
        // an error of ours.
        let _ = input.write_all(&framed).await;
        let _ = input.shutdown().await;
    }));

    let mut capture = Capture::new(limits.output_bytes);
    let mut deadline = started + compile_budget;
    let (end, mut ended_at) = loop {
        let next = match tokio::time::timeout_at(deadline, output.next()).await {
            Err(_) => break (Some(End::TimedOut), Instant::now()),
            Ok(None) => break (None, Instant::now()),
            Ok(Some(Err(error))) => {
                kill(docker, id).await;
                return Err(RunError::host(format!(
                    "reading the container's output: {error}"
                )));
            }
            Ok(Some(Ok(next))) => next,
        };
        let was_running = capture.program_started.is_some();
        match next {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                capture.stdout(&message, Instant::now().into_std());
            }
            LogOutput::StdErr { message } => capture.stderr(&message),
            LogOutput::StdIn { .. } => {}
        }
        if capture.overflowed {
            break (Some(End::OutputLimit), Instant::now());
        }
        if let (false, Some(at)) = (was_running, capture.program_started) {
            deadline = Instant::from_std(at) + limits.wall;
        }
    };
    drop(output);

    let end = match end {
        Some(end) => {
            kill(docker, id).await;
            end
        }
        None => {
            let end = exit(docker, id, deadline).await?;
            if end == End::TimedOut {
                // It went on after closing its output: it ran until killed.
                ended_at = Instant::now();
            }
            end
        }
    };
    let program_started = capture.program_started.map(Instant::from_std);
    let (verdict, exit_code, detail) =
        outcome::classify(end, program_started.is_some(), compile_budget).map_err(|problem| {
            let stderr = String::from_utf8_lossy(&capture.stderr);
            RunError::Host(format!(
                "{problem}: {}",
                eduscale_core::code::tail(&stderr, 2048)
            ))
        })?;
    let wall = program_started.map_or(Duration::ZERO, |at| ended_at.saturating_duration_since(at));
    let stderr = String::from_utf8_lossy(&capture.stderr);
    Ok(Report {
        language: request.language,
        verdict,
        exit_code,
        detail,
        stdout: String::from_utf8_lossy(&capture.stdout).into_owned(),
        stderr: eduscale_core::code::tail(&stderr, STDERR_TAIL).to_owned(),
        wall_us: wall.as_micros() as u64,
        fuel: 0,
        // The engine only reports memory through a stats stream sampled once a
        // second, too coarse and too costly per run to be worth reporting.
        peak_memory_bytes: 0,
    })
}

/// How the container exited, once its output has ended: its exit code and
/// whether the OOM killer ended it. A container still running at `deadline`
/// (it closed its output and went on) is killed and timed out.
async fn exit(docker: &Docker, id: &str, deadline: Instant) -> Result<End, RunError> {
    let options = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    let mut wait = docker.wait_container(id, Some(options));
    let code = match tokio::time::timeout_at(deadline, wait.next()).await {
        Err(_) => {
            kill(docker, id).await;
            return Ok(End::TimedOut);
        }
        Ok(Some(Ok(exited))) => exited.status_code,
        // bollard reports a non-zero exit as an error carrying the code.
        Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => code,
        Ok(Some(Err(error))) => return Err(RunError::host(error)),
        Ok(None) => {
            return Err(RunError::host(
                "the engine's wait ended without an exit code",
            ));
        }
    };
    let state = docker
        .inspect_container(id, None)
        .await
        .map_err(RunError::host)?
        .state;
    let oom_killed = state.as_ref().and_then(|s| s.oom_killed).unwrap_or(false);
    Ok(End::Exited { code, oom_killed })
}

/// Kills a container (SIGKILL); one that already stopped is no error.
async fn kill(docker: &Docker, id: &str) {
    if let Err(error) = docker.kill_container(id, None).await {
        tracing::debug!(container = id, %error, "killing a sandbox container failed");
    }
}

/// Aborts the task when the run ends, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
