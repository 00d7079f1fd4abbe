//! Builds the runner the server and the command line use: the in-process one
//! (wasmtime guests, Docker fallback, fair queue), or a client of remote runners
//! when `EDUSCALE_RUNNER_REMOTES` names some.

use crate::config::Config;
use eduscale_runner::Sandbox;
use eduscale_runner::docker::{DockerConfig, DockerSandbox};
use eduscale_runner::queue::{Executor, QueueConfig, Runner};
use eduscale_runner::rate::RunRateLimit;
use eduscale_runner::remote::{RemoteConfig, RemoteRunners};
use eduscale_runner::wasm::{WasmConfig, WasmSandbox};
use std::num::NonZeroU32;
use std::sync::Arc;

/// The sandbox settings from the configuration.
pub fn wasm_config(config: &Config) -> WasmConfig {
    WasmConfig {
        guests_dir: config.guests_dir.clone(),
        cache_dir: config.runner_cache_dir.clone(),
        slots: config.runner_slots,
        preinit: true,
        compiled_bytes: WasmConfig::COMPILED_BYTES,
    }
}

/// The in-process runner: WASM guests, and Docker for the compiled languages
/// (listed unavailable, with the reason, when no engine answers). Loading compiles
/// a guest the first time on this machine (seconds), so it runs off the async
/// threads.
pub async fn local(config: &Config) -> anyhow::Result<Runner> {
    let wasm = wasm_config(config);
    let sandbox = tokio::task::spawn_blocking(move || WasmSandbox::load(&wasm)).await??;
    let docker = DockerSandbox::connect(&DockerConfig {
        host: Some(config.docker_host.clone()).filter(|h| !h.is_empty()),
        pool_size: config.docker_pool_size,
        ..DockerConfig::default()
    })
    .await;
    let sandboxes: Vec<Arc<dyn Sandbox>> = vec![Arc::new(sandbox), Arc::new(docker)];
    Ok(Runner::new(
        sandboxes,
        QueueConfig::for_machine(config.runner_slots as usize),
    )?)
}

/// What the web server runs code with: the remote runners when some are
/// configured, the in-process runner otherwise.
pub async fn executor(config: &Config) -> anyhow::Result<Arc<dyn Executor>> {
    let remotes = config.remote_runners();
    if remotes.is_empty() {
        return Ok(Arc::new(local(config).await?));
    }
    let runners = RemoteRunners::new(&remotes, RemoteConfig::default())?;
    // Starting while runners are down is allowed: jobs try them again, and the
    // first answer fills in the languages.
    match runners.refresh_languages().await {
        Ok(_) => tracing::info!(runners = remotes.len(), "running code on remote runners"),
        Err(error) => tracing::warn!(%error, "no remote runner answered yet"),
    }
    Ok(Arc::new(runners))
}

/// The per-user run limit from the configuration.
pub fn rate_limit(config: &Config) -> RunRateLimit {
    RunRateLimit::per_minute(NonZeroU32::new(config.runs_per_minute).unwrap_or(NonZeroU32::MIN))
}
