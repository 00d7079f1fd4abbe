//! Shared by the runner's integration tests: one sandbox per test binary, over the
//! real guests fetched by `guests/fetch.sh`.

#![allow(dead_code)]

use eduscale_runner::wasm::{WasmConfig, WasmSandbox};
use eduscale_runner::{Language, Report, RunRequest, Sandbox};
use std::path::PathBuf;
use std::sync::OnceLock;

pub fn config() -> WasmConfig {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    WasmConfig {
        guests_dir: std::env::var_os("EDUSCALE_GUESTS_DIR")
            .map_or_else(|| root.join("guests/dist"), PathBuf::from),
        cache_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guest-cache"),
        slots: 64,
        preinit: true,
        compiled_bytes: WasmConfig::COMPILED_BYTES,
    }
}

/// The runner's warnings (a snapshot that could not be made, say) in the test's
/// output; `RUST_LOG` for more.
fn log() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

pub fn sandbox() -> &'static WasmSandbox {
    static SANDBOX: OnceLock<WasmSandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        log();
        let sandbox = WasmSandbox::load(&config()).expect("engine");
        for status in sandbox.languages() {
            assert_eq!(
                status.unavailable, None,
                "{:?}: run ./guests/fetch.sh",
                status.language
            );
        }
        sandbox
    })
}

/// A sandbox whose Python starts from scratch every run (no snapshot): the
/// baseline the pre-initialised one is measured against.
pub fn cold_sandbox() -> &'static WasmSandbox {
    static SANDBOX: OnceLock<WasmSandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        baseline(WasmConfig {
            preinit: false,
            ..config()
        })
    })
}

/// A sandbox whose runs compile their own source (no compiled programs kept):
/// the baseline the compiled-once runs are held to.
pub fn compiling_sandbox() -> &'static WasmSandbox {
    static SANDBOX: OnceLock<WasmSandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        baseline(WasmConfig {
            compiled_bytes: 0,
            ..config()
        })
    })
}

/// A small sandbox with `config`, for comparisons.
fn baseline(config: WasmConfig) -> WasmSandbox {
    log();
    WasmSandbox::load(&WasmConfig { slots: 8, ..config }).expect("engine")
}

/// `request`'s report from `sandbox` (the pre-initialised or the cold one).
pub async fn run_in(sandbox: &WasmSandbox, request: RunRequest) -> Report {
    sandbox.run(&request).await.expect("host")
}

pub async fn run(language: Language, source: &str, stdin: &str) -> Report {
    sandbox()
        .run(&RunRequest::new(language, source, stdin))
        .await
        .expect("host")
}

/// A runner (fair queue) over the shared test sandbox's guests, with `config`.
pub fn runner(config: eduscale_runner::QueueConfig) -> eduscale_runner::Runner {
    let sandbox: std::sync::Arc<dyn Sandbox> =
        std::sync::Arc::new(WasmSandbox::load(&self::config()).expect("engine"));
    eduscale_runner::Runner::new(vec![sandbox], config).expect("runner")
}
