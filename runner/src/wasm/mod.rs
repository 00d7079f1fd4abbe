//! The wasmtime backend: CPython and QuickJS guests, an instance per run.
//!
//! A run is: a fresh `Store` (its own WASI context, memory meter, fuel and
//! deadline), `InstancePre::instantiate_async` (a pool slot and a copy-on-write
//! view of the guest's initial memory: microseconds), then `_start` on the async
//! path. Nothing survives the run: the store and its instance are dropped, the
//! slot's memory is reset to the image.

mod cache;
pub mod engine;
pub mod guest;
mod host;

use crate::{Language, LanguageStatus, Limits, Report, RunError, RunRequest, Sandbox, Verdict};
use guest::GuestSpec;
use host::{HostState, MemoryMeter, OutputLimitExceeded, Stdio};
use rand::SeedableRng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::{Engine, InstancePre, Linker, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

/// How much of stderr a report keeps.
const STDERR_TAIL: usize = 8 << 10;

/// Where the guests are and how big the pool is.
#[derive(Debug, Clone)]
pub struct WasmConfig {
    /// The folder `guests/fetch.sh` fills.
    pub guests_dir: PathBuf,
    /// Where compiled guests are cached.
    pub cache_dir: PathBuf,
    /// Pool slots: the most instances alive at once.
    pub slots: u32,
}

/// The wasmtime sandbox.
pub struct WasmSandbox {
    engine: Engine,
    guests: HashMap<Language, Guest>,
    missing: HashMap<Language, String>,
    _ticker: engine::EpochTicker,
}

struct Guest {
    spec: GuestSpec,
    pre: InstancePre<HostState>,
}

impl std::fmt::Debug for WasmSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmSandbox")
            .field("guests", &self.guests.keys().collect::<Vec<_>>())
            .field("missing", &self.missing)
            .finish()
    }
}

impl WasmSandbox {
    /// Builds the engine and loads every guest found in `config.guests_dir`
    /// (compiling it on first use). A missing or altered guest makes its language
    /// unavailable, with the reason; it is not an error.
    pub fn load(config: &WasmConfig) -> anyhow::Result<WasmSandbox> {
        let engine = engine::build(engine::EngineSettings {
            slots: config.slots,
            max_memory_bytes: Limits::MAX.memory_bytes as usize,
        })?;
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker)?;
        let mut guests = HashMap::new();
        let mut missing = HashMap::new();
        for spec in guest::ALL {
            match load_guest(
                &engine,
                &linker,
                &spec,
                &config.guests_dir,
                &config.cache_dir,
            ) {
                Ok(pre) => {
                    guests.insert(spec.language, Guest { spec, pre });
                }
                Err(reason) => {
                    tracing::warn!(language = %spec.language, %reason, "guest unavailable");
                    missing.insert(spec.language, reason);
                }
            }
        }
        let ticker = engine::EpochTicker::start(engine.clone())?;
        Ok(WasmSandbox {
            engine,
            guests,
            missing,
            _ticker: ticker,
        })
    }

    /// Creates a store and instantiates `language`'s guest without running it, and
    /// returns how long that took: the per-run cost the pool and the
    /// copy-on-write images exist to keep small.
    pub async fn time_instantiate(&self, language: Language) -> Result<Duration, RunError> {
        let guest = self.guest(language)?;
        let started = Instant::now();
        let mut store = self.store(guest, &RunRequest::new(language, "", ""), Some(0))?;
        let instance = guest
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(RunError::host)?;
        let elapsed = started.elapsed();
        let _ = instance;
        Ok(elapsed)
    }

    fn guest(&self, language: Language) -> Result<&Guest, RunError> {
        self.guests
            .get(&language)
            .ok_or_else(|| RunError::Unavailable {
                language,
                reason: self
                    .missing
                    .get(&language)
                    .cloned()
                    .unwrap_or_else(|| "not a WASM language".to_owned()),
            })
    }

    fn store(
        &self,
        guest: &Guest,
        request: &RunRequest,
        seed: Option<u64>,
    ) -> Result<Store<HostState>, RunError> {
        let limits = request.limits;
        // A run with a seed sees the same "random" bytes every time (judging
        // stays reproducible, fuel included); without one, fresh entropy.
        let seed = seed.unwrap_or_else(rand::random);
        let random = rand::rngs::StdRng::seed_from_u64(seed);
        let insecure = rand::rngs::StdRng::seed_from_u64(seed.rotate_left(17));
        let wasi = WasiCtxBuilder::new()
            .args(guest.spec.args)
            .secure_random(random)
            .insecure_random(insecure)
            .insecure_random_seed(u128::from(seed))
            .build_p1();
        let state = HostState {
            wasi,
            io: Stdio::new(
                guest.spec.frame(&request.source, request.stdin.as_bytes()),
                limits.output_bytes,
            ),
            meter: MemoryMeter::new(limits.memory_bytes as usize),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.meter);
        store.set_fuel(limits.fuel).map_err(RunError::host)?;
        Ok(store)
    }
}

#[async_trait::async_trait]
impl Sandbox for WasmSandbox {
    fn languages(&self) -> Vec<LanguageStatus> {
        guest::ALL
            .iter()
            .map(|spec| LanguageStatus {
                language: spec.language,
                backend: spec.language.backend(),
                unavailable: self.missing.get(&spec.language).cloned(),
            })
            .collect()
    }

    async fn run(&self, request: &RunRequest) -> Result<Report, RunError> {
        let guest = self.guest(request.language)?;
        let limits = request.limits;
        let mut store = self.store(guest, request, request.seed)?;
        let instance = guest
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(RunError::host)?;
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(RunError::host)?;

        let started = Instant::now();
        let deadline = started + limits.wall;
        // At every tick: past the deadline, stop; otherwise yield, so one guest
        // never holds an executor thread for more than a tick.
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        store.set_epoch_deadline(1);
        // The timer covers a guest that is not running at all (sleeping in
        // poll_oneoff), which the epoch cannot reach.
        let outcome = tokio::time::timeout(
            limits.wall + engine::TICK * 2,
            start.call_async(&mut store, ()),
        )
        .await;
        let wall = started.elapsed();
        let fuel = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();

        let (mut verdict, exit_code, detail) = match outcome {
            Err(_elapsed) => (
                Verdict::TimeLimit,
                None,
                Some("wall-clock limit".to_owned()),
            ),
            Ok(Ok(())) => (Verdict::Accepted, Some(0), None),
            Ok(Err(error)) => classify(&error),
        };
        if state.meter.hit_limit && verdict != Verdict::Accepted && verdict != Verdict::OutputLimit
        {
            verdict = Verdict::MemoryLimit;
        }
        let stderr = String::from_utf8_lossy(&state.io.stderr);
        Ok(Report {
            language: request.language,
            verdict,
            exit_code,
            detail,
            stdout: String::from_utf8_lossy(&state.io.stdout).into_owned(),
            stderr: eduscale_core::code::tail(&stderr, STDERR_TAIL).to_owned(),
            wall_us: wall.as_micros() as u64,
            fuel,
            peak_memory_bytes: state.meter.peak as u64,
        })
    }
}

/// The verdict, exit code and detail for a run that ended with `error`.
fn classify(error: &wasmtime::Error) -> (Verdict, Option<i32>, Option<String>) {
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return match exit.0 {
            0 => (Verdict::Accepted, Some(0), None),
            guest::COMPILE_ERROR_EXIT => (Verdict::CompileError, Some(exit.0), None),
            code => (Verdict::RuntimeError, Some(code), None),
        };
    }
    if error.downcast_ref::<OutputLimitExceeded>().is_some() {
        return (Verdict::OutputLimit, None, None);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => (Verdict::TimeLimit, None, Some("fuel exhausted".to_owned())),
        Some(Trap::Interrupt) => (
            Verdict::TimeLimit,
            None,
            Some("wall-clock limit".to_owned()),
        ),
        Some(Trap::StackOverflow) => (
            Verdict::RuntimeError,
            None,
            Some("stack overflow".to_owned()),
        ),
        // QuickJS ends very deep recursion in an out-of-bounds access of its own
        // stack, not in a JavaScript error.
        Some(Trap::MemoryOutOfBounds) => (
            Verdict::RuntimeError,
            None,
            Some("stack overflow or invalid memory access".to_owned()),
        ),
        Some(trap) => (
            Verdict::RuntimeError,
            None,
            Some(format!("crashed: {trap}")),
        ),
        None => (
            Verdict::RuntimeError,
            None,
            Some(format!("crashed: {error}")),
        ),
    }
}

fn load_guest(
    engine: &Engine,
    linker: &Linker<HostState>,
    spec: &GuestSpec,
    guests_dir: &Path,
    cache_dir: &Path,
) -> Result<InstancePre<HostState>, String> {
    let path = guests_dir.join(spec.file);
    let wasm = std::fs::read(&path).map_err(|error| {
        format!(
            "{} is not installed ({}: {error}); run ./eduscale.sh setup",
            spec.language.name(),
            path.display()
        )
    })?;
    let sha256 = cache::sha256_hex(&wasm);
    if sha256 != spec.sha256 {
        return Err(format!(
            "{} does not match its pinned sha256 (found {sha256}); run ./eduscale.sh setup",
            path.display()
        ));
    }
    let module = cache::load_or_compile(cache_dir, engine, &wasm, &sha256)
        .map_err(|error| format!("{} did not compile: {error}", path.display()))?;
    linker
        .instantiate_pre(&module)
        .map_err(|error| format!("{} cannot be linked: {error}", path.display()))
}
