//! A warm pool per language: containers created (not started) ahead of the
//! runs that will use them, each used once and then force-removed.
//!
//! Creating a container costs the engine tens of milliseconds and sometimes
//! much more; doing it ahead keeps that off a learner's wait. The pool is a
//! bounded channel of container ids with one filler task: it reserves room in
//! the channel *before* asking the engine for a container, so at most `size`
//! containers wait at any time, and a take frees room that the filler refills
//! in the background. Every container taken is removed when its run ends
//! ([`Container::remove`], or its `Drop` if the run was cancelled), so the
//! engine never holds more than `size` waiting containers plus one per run in
//! flight, and runs in flight are bounded by the runner's queue.
//!
//! Containers are created with the default memory limit; a run asking for
//! another one updates its container before starting it.
//!
//! When creating fails (an image that is not pulled, an engine that went away),
//! the filler records why, in words for learners, and retries with a growing
//! pause: runs fail fast with that reason instead of waiting, and the language
//! comes back by itself once the engine can create containers again.

use crate::Language;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, ResourcesUlimits};
use bollard::query_parameters::RemoveContainerOptionsBuilder;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The label on every container the sandbox creates (its value: the language),
/// so an operator can find leftovers: `docker ps -a --filter label=eduscale.sandbox`.
pub const LABEL: &str = "eduscale.sandbox";

/// The user programs run as: `nobody`, in every image.
const USER: &str = "65534:65534";

/// The writable directory (a tmpfs) where sources and binaries go.
pub const WORKDIR: &str = "/sandbox";

/// One CPU, in the engine's unit (billionths of a CPU).
const ONE_CPU: i64 = 1_000_000_000;

/// The first and the longest pause between failed creations.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// What every container of one language is created with.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// The language (its label value).
    pub language: Language,
    /// The image.
    pub image: String,
    /// The script the container runs (`sh -c`).
    pub script: String,
    /// Memory, and memory plus swap (no swap), in bytes.
    pub memory_bytes: u64,
    /// Processes and threads at once.
    pub pids_limit: i64,
    /// Size of the tmpfs at [`WORKDIR`].
    pub tmpfs_bytes: u64,
}

impl ContainerSpec {
    /// The engine's create request: no network, read-only root, a small tmpfs,
    /// no capabilities, no privilege escalation, not root, limits on memory,
    /// CPU and processes, no core dumps, no logs kept by the engine (output is
    /// read through the attach stream, and an engine log would let a flood fill
    /// the host's disk).
    pub fn create_body(&self) -> ContainerCreateBody {
        let memory = i64::try_from(self.memory_bytes).unwrap_or(i64::MAX);
        let tmpfs_options = format!("rw,exec,nosuid,nodev,size={},mode=1777", self.tmpfs_bytes);
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]),
            cmd: Some(vec![self.script.clone()]),
            user: Some(USER.to_owned()),
            working_dir: Some(WORKDIR.to_owned()),
            env: Some(Vec::new()),
            hostname: Some("sandbox".to_owned()),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(true),
            tty: Some(false),
            network_disabled: Some(true),
            labels: Some(HashMap::from([(
                LABEL.to_owned(),
                self.language.id().to_owned(),
            )])),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                memory: Some(memory),
                memory_swap: Some(memory),
                nano_cpus: Some(ONE_CPU),
                pids_limit: Some(self.pids_limit),
                readonly_rootfs: Some(true),
                tmpfs: Some(HashMap::from([(WORKDIR.to_owned(), tmpfs_options)])),
                cap_drop: Some(vec!["ALL".to_owned()]),
                security_opt: Some(vec!["no-new-privileges".to_owned()]),
                privileged: Some(false),
                ulimits: Some(vec![ResourcesUlimits {
                    name: Some("core".to_owned()),
                    soft: Some(0),
                    hard: Some(0),
                }]),
                log_config: Some(HostConfigLogConfig {
                    typ: Some("none".to_owned()),
                    config: None,
                }),
                auto_remove: Some(false),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        }
    }
}

/// The warm containers of one language.
pub struct Pool {
    spec: ContainerSpec,
    docker: Docker,
    ready: tokio::sync::Mutex<mpsc::Receiver<String>>,
    problem: watch::Receiver<Option<String>>,
    filler: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("language", &self.spec.language)
            .field("image", &self.spec.image)
            .field("problem", &*self.problem.borrow())
            .finish()
    }
}

impl Pool {
    /// Starts filling a pool of `size` containers (at least one) made from `spec`.
    pub fn start(docker: Docker, spec: ContainerSpec, size: usize) -> Pool {
        let (sender, ready) = mpsc::channel(size.max(1));
        let (problem_sender, problem) = watch::channel(None);
        let filler = tokio::spawn(fill(docker.clone(), spec.clone(), sender, problem_sender));
        Pool {
            spec,
            docker,
            ready: tokio::sync::Mutex::new(ready),
            problem,
            filler: Mutex::new(Some(filler)),
        }
    }

    /// The memory limit the pool's containers are created with.
    pub fn memory_bytes(&self) -> u64 {
        self.spec.memory_bytes
    }

    /// Why the pool cannot make containers now, if it cannot.
    pub fn problem(&self) -> Option<String> {
        self.problem.borrow().clone()
    }

    /// Takes a container, waiting at most `wait` for one. When none is ready
    /// and the filler is failing, returns its reason at once.
    pub async fn take(&self, wait: Duration) -> Result<Container, String> {
        let deadline = tokio::time::Instant::now() + wait;
        let not_ready = || {
            self.problem().unwrap_or_else(|| {
                "the Docker engine on this server is too slow to answer".to_owned()
            })
        };
        let mut ready = tokio::time::timeout_at(deadline, self.ready.lock())
            .await
            .map_err(|_| not_ready())?;
        let mut problem = self.problem.clone();
        let id = tokio::select! {
            id = ready.recv() => id.ok_or_else(|| "the sandbox is shutting down".to_owned())?,
            _ = problem.wait_for(Option::is_some) => {
                // A container may have come in just before the failure.
                ready.try_recv().map_err(|_| not_ready())?
            }
            () = tokio::time::sleep_until(deadline) => return Err(not_ready()),
        };
        Ok(Container {
            docker: self.docker.clone(),
            id,
            removed: false,
        })
    }

    /// Stops the filler and removes every waiting container.
    pub async fn shutdown(&self) {
        let mut ready = self.ready.lock().await;
        ready.close();
        let filler = self.filler.lock().map(|mut f| f.take()).unwrap_or(None);
        if let Some(filler) = filler {
            // It removes what it was creating when it sees the pool closed.
            let _ = tokio::time::timeout(Duration::from_secs(30), filler).await;
        }
        while let Some(id) = ready.recv().await {
            remove(&self.docker, &id).await;
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Ok(mut filler) = self.filler.lock()
            && let Some(filler) = filler.take()
        {
            filler.abort();
        }
        // Best effort, for a sandbox dropped without `shutdown`: waiting
        // containers are removed if a runtime is still there to do it.
        let ready = self.ready.get_mut();
        ready.close();
        let mut waiting = Vec::new();
        while let Ok(id) = ready.try_recv() {
            waiting.push(id);
        }
        if let (false, Ok(runtime)) = (waiting.is_empty(), tokio::runtime::Handle::try_current()) {
            let docker = self.docker.clone();
            runtime.spawn(async move {
                for id in waiting {
                    remove(&docker, &id).await;
                }
            });
        }
    }
}

/// Keeps the pool full until it is closed.
async fn fill(
    docker: Docker,
    spec: ContainerSpec,
    ready: mpsc::Sender<String>,
    problem: watch::Sender<Option<String>>,
) {
    let body = spec.create_body();
    let mut pause = RETRY_FIRST;
    // Waits for room before creating: the bound on waiting containers.
    while let Ok(room) = ready.reserve().await {
        match docker.create_container(None, body.clone()).await {
            Ok(created) => {
                problem.send_if_modified(|p| p.take().is_some());
                pause = RETRY_FIRST;
                if ready.is_closed() {
                    remove(&docker, &created.id).await;
                    return;
                }
                room.send(created.id);
            }
            Err(error) => {
                let reason = describe_create_error(&spec, &error);
                tracing::warn!(language = %spec.language, %error, "creating a sandbox container failed");
                problem.send_replace(Some(reason));
                drop(room);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Why creating failed, in words for learners.
fn describe_create_error(spec: &ContainerSpec, error: &bollard::errors::Error) -> String {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError {
            status_code: 404, ..
        } => format!(
            "the {} toolchain ({}) is not installed on this server; an administrator can run `docker pull {}`",
            spec.language.name(),
            spec.image,
            spec.image
        ),
        Error::DockerResponseServerError { message, .. } => {
            format!("the Docker engine on this server refused to create a sandbox: {message}")
        }
        other => format!("the Docker engine on this server stopped answering ({other})"),
    }
}

/// A container taken from a pool: the run's own, removed when it ends.
#[derive(Debug)]
pub struct Container {
    docker: Docker,
    id: String,
    removed: bool,
}

impl Container {
    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Force-removes it (killing it if it still runs), and waits for that.
    pub async fn remove(mut self) {
        remove(&self.docker, &self.id).await;
        self.removed = true;
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // A cancelled run: remove it anyway, in the background.
        if !self.removed
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (docker, id) = (self.docker.clone(), std::mem::take(&mut self.id));
            runtime.spawn(async move { remove(&docker, &id).await });
        }
    }
}

/// Force-removes a container; a failure is logged (the label finds leftovers).
async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    if let Err(error) = docker.remove_container(id, Some(options)).await {
        tracing::warn!(container = id, %error, "removing a sandbox container failed");
    }
}
