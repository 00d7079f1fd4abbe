//! The Docker backend: C, C++, Rust, Go and Java, each run in a fresh container
//! of the Docker engine on this machine, through its API (bollard).
//!
//! Compilers do not fit in wasmtime guests, so the compiled languages fall back
//! on containers: heavier (tens of milliseconds to start, a compiler to run),
//! so they come from a warm pool (`pool`), created ahead and used once. A run
//! takes a container, feeds it the program on stdin, reads its output under a
//! deadline and a cap, classifies how it ended (`run`, `outcome`) and removes
//! the container, whatever happened.
//!
//! Each container: no network, read-only root with a 64 MiB tmpfs at
//! `/sandbox`, the run's memory limit with no swap, one CPU, 64 processes, no
//! capabilities, no privilege escalation, user `nobody`, no core dumps, no
//! engine logs, nothing in its environment from us (the image's own `PATH` and
//! the like remain).
//!
//! Time: compiling gets its own budget ([`DockerConfig::compile_budget`]), then
//! the program gets `limits.wall` from the moment it starts; past the budget a
//! run is a compile error ("compiling took longer than…"), past the wall limit
//! a time limit. Fuel is not metered (0) and peak memory is not reported (0).
//!
//! Without an engine (no socket, nothing answering, no permission) the sandbox
//! is still built: every language is listed as unavailable with the reason,
//! and runs are refused with it. It does not probe again later: the runner
//! reads which sandbox serves which language once, when it is built, so an
//! engine started afterwards is picked up by restarting the server. Once the
//! engine was found, losing it later is survived: the pools keep retrying and
//! runs fail fast with the reason meanwhile.

mod connect;
mod languages;
mod outcome;
mod pool;
mod run;

pub use connect::DEFAULT_HOST;
pub use languages::PROGRAM_STARTS;
pub use pool::LABEL;

use crate::{Language, LanguageStatus, Limits, Report, RunError, RunRequest, Sandbox};
use bollard::Docker;
use pool::{ContainerSpec, Pool};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a run waits for a container from its pool.
const TAKE_WAIT: Duration = Duration::from_secs(30);

/// How the Docker sandbox finds its engine and shapes its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// The engine's socket, `unix:///path`; `None` for `DOCKER_HOST`, else
    /// [`DEFAULT_HOST`].
    pub host: Option<String>,
    /// Containers created ahead and waiting, per language (at least 1).
    pub pool_size: usize,
    /// The image of each language; a language missing here uses its default
    /// (`gcc:14`, `rust:1-slim`, `golang:1`, `eclipse-temurin:21`). Images are
    /// not pulled by the runner: a missing one makes its language unavailable.
    pub images: BTreeMap<Language, String>,
    /// Time for compiling, before `limits.wall` starts. Generous because a
    /// fresh container has no build cache: a Go build compiles its runtime.
    pub compile_budget: Duration,
    /// Processes and threads a container may hold at once (the JVM needs a
    /// few dozen).
    pub pids_limit: i64,
    /// Size of the writable tmpfs, in bytes.
    pub tmpfs_bytes: u64,
}

impl Default for DockerConfig {
    fn default() -> Self {
        DockerConfig {
            host: None,
            pool_size: 2,
            images: BTreeMap::new(),
            compile_budget: Duration::from_secs(30),
            pids_limit: 64,
            tmpfs_bytes: 64 << 20,
        }
    }
}

impl DockerConfig {
    /// The image `language` runs in.
    pub fn image(&self, language: Language) -> Option<String> {
        let toolchain = languages::toolchain(language)?;
        Some(
            self.images
                .get(&language)
                .cloned()
                .unwrap_or_else(|| toolchain.default_image.to_owned()),
        )
    }
}

/// The Docker sandbox: reachable, with a pool per language, or not, with why.
#[derive(Debug)]
pub struct DockerSandbox {
    engine: Result<Engine, String>,
}

#[derive(Debug)]
struct Engine {
    docker: Docker,
    pools: BTreeMap<Language, Pool>,
    compile_budget: Duration,
}

impl DockerSandbox {
    /// Connects to the engine and starts filling the pools (tasks on the
    /// current Tokio runtime). Never fails: with no engine, the sandbox lists
    /// its languages as unavailable, with why.
    pub async fn connect(config: &DockerConfig) -> DockerSandbox {
        let host = connect::resolve(config.host.as_deref());
        let docker = match connect::connect(&host).await {
            Ok(docker) => docker,
            Err(reason) => {
                tracing::warn!(%host, %reason, "the Docker sandbox is unavailable");
                return DockerSandbox {
                    engine: Err(reason),
                };
            }
        };
        let pools = languages::ALL
            .iter()
            .map(|toolchain| {
                let language = toolchain.language;
                let spec = ContainerSpec {
                    language,
                    image: config
                        .image(language)
                        .unwrap_or_else(|| toolchain.default_image.to_owned()),
                    script: toolchain.script(),
                    memory_bytes: Limits::default().memory_bytes,
                    pids_limit: config.pids_limit,
                    tmpfs_bytes: config.tmpfs_bytes,
                };
                (
                    language,
                    Pool::start(docker.clone(), spec, config.pool_size),
                )
            })
            .collect();
        DockerSandbox {
            engine: Ok(Engine {
                docker,
                pools,
                compile_budget: config.compile_budget,
            }),
        }
    }

    /// Stops refilling the pools and removes the containers waiting in them.
    pub async fn shutdown(&self) {
        if let Ok(engine) = &self.engine {
            for pool in engine.pools.values() {
                pool.shutdown().await;
            }
        }
    }
}

#[async_trait::async_trait]
impl Sandbox for DockerSandbox {
    fn languages(&self) -> Vec<LanguageStatus> {
        languages::ALL
            .iter()
            .map(|toolchain| {
                let language = toolchain.language;
                let unavailable = match &self.engine {
                    Err(reason) => Some(reason.clone()),
                    Ok(engine) => engine.pools.get(&language).and_then(Pool::problem),
                };
                LanguageStatus {
                    language,
                    backend: language.backend(),
                    unavailable,
                }
            })
            .collect()
    }

    async fn run(&self, request: &RunRequest) -> Result<Report, RunError> {
        let language = request.language;
        let unavailable = |reason: String| RunError::Unavailable { language, reason };
        let engine = self
            .engine
            .as_ref()
            .map_err(|reason| unavailable(reason.clone()))?;
        let pool = engine
            .pools
            .get(&language)
            .ok_or_else(|| unavailable("the Docker sandbox does not run it".to_owned()))?;
        let container = pool.take(TAKE_WAIT).await.map_err(unavailable)?;
        let report = run::execute(
            &engine.docker,
            container.id(),
            request,
            pool.memory_bytes(),
            engine.compile_budget,
        )
        .await;
        container.remove().await;
        if let Err(error) = &report {
            tracing::warn!(%language, %error, "a Docker run failed");
        }
        report
    }
}
