//! The wasmtime backend: CPython and QuickJS guests, an instance per run.
//!
//! A run is: a fresh `Store` (its own WASI context, memory meter, fuel and
//! deadline), `InstancePre::instantiate_async` (a pool slot and a copy-on-write
//! view of the guest's initial memory: microseconds), then the guest's entry on
//! the async path: `_start` for a command, or the bootstrap of a pre-initialised
//! interpreter (`preinit.rs`), whose initial memory is an interpreter that has
//! already started. Nothing survives the run: the store and its instance are
//! dropped, the slot's memory is reset to the image. What the host keeps between
//! runs is only a source's compiled code, made by a run that runs none of the
//! program (`compiled.rs`).

mod cache;
pub mod compiled;
mod dwarf;
pub mod engine;
mod exports;
pub mod guest;
mod host;
mod preinit;
mod preinit_js;
mod segments;

use crate::{Language, LanguageStatus, Limits, Report, RunError, RunRequest, Sandbox, Verdict};
use compiled::{Compiled, CompiledPrograms};
use guest::{GuestSpec, SnapshotRecipe};
use host::{HostState, MemoryMeter, OutputLimitExceeded, Stdio};
use rand::SeedableRng;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::{Engine, InstancePre, Linker, Module, Store, Trap, TypedFunc, UpdateDeadline};
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

/// How much of stderr a report keeps.
const STDERR_TAIL: usize = 8 << 10;

/// The limits of a run that only compiles a program (`compiled.rs`): fixed, so
/// that whether a source's code is kept never depends on the request that came
/// first. A source that needs more (far past what the largest allowed source
/// takes) is compiled by its runs, under their own limits. The output limit is
/// the largest compiled program kept.
const COMPILE_LIMITS: Limits = Limits {
    wall: Duration::from_secs(2),
    fuel: 2_000_000_000,
    memory_bytes: 256 << 20,
    output_bytes: 1 << 20,
};

/// Where the guests are and how big the pool is.
#[derive(Debug, Clone)]
pub struct WasmConfig {
    /// The folder `guests/fetch.sh` fills.
    pub guests_dir: PathBuf,
    /// Where compiled guests are cached.
    pub cache_dir: PathBuf,
    /// Pool slots: the most instances alive at once.
    pub slots: u32,
    /// Start runs from a pre-initialised interpreter where the guest has a
    /// snapshot recipe (CPython, QuickJS). Off: every run starts it from scratch.
    pub preinit: bool,
    /// Bytes of compiled programs kept for later runs of the same source, in
    /// guests that can compile apart (`compiled.rs`); 0 keeps none, and every run
    /// compiles its own source.
    pub compiled_bytes: usize,
}

impl WasmConfig {
    /// The compiled programs kept by default: a few thousand typical programs.
    pub const COMPILED_BYTES: usize = 16 << 20;
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
    entry: EntryKind,
    /// Where its runs find their program compiled, when it compiles apart.
    compiled: Option<CompiledPrograms>,
}

impl Guest {
    fn new(
        spec: GuestSpec,
        pre: InstancePre<HostState>,
        entry: EntryKind,
        config: &WasmConfig,
    ) -> Guest {
        let compiled = (spec.compiles_apart && config.compiled_bytes > 0)
            .then(|| CompiledPrograms::new(config.compiled_bytes));
        Guest {
            spec,
            pre,
            entry,
            compiled,
        }
    }
}

/// How a run enters a guest's instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    /// `_start`: the interpreter starts from scratch.
    Start,
    /// The bootstrap of a pre-initialised CPython (`preinit.rs`).
    Python,
    /// The entry of a pre-initialised QuickJS (`preinit_js.rs`).
    QuickJs,
}

impl EntryKind {
    /// How runs enter a snapshot made by `recipe`.
    fn of(recipe: &SnapshotRecipe) -> EntryKind {
        match recipe {
            SnapshotRecipe::Python { .. } => EntryKind::Python,
            SnapshotRecipe::QuickJs { .. } => EntryKind::QuickJs,
        }
    }
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
    /// (compiling it, and making its pre-initialised snapshot, on first use). A
    /// missing or altered guest makes its language unavailable, with the reason;
    /// it is not an error. A snapshot that cannot be made leaves its guest
    /// starting from scratch, with a warning.
    pub fn load(config: &WasmConfig) -> anyhow::Result<WasmSandbox> {
        let engine = engine::build(engine::EngineSettings {
            slots: config.slots,
            max_memory_bytes: Limits::MAX.memory_bytes as usize,
        })?;
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker)?;
        // Ticking before the guests load: checking a new snapshot runs it.
        let ticker = engine::EpochTicker::start(engine.clone())?;
        let mut guests = HashMap::new();
        let mut missing = HashMap::new();
        for spec in guest::ALL {
            match load_guest(&engine, &linker, spec, config) {
                Ok(guest) => {
                    guests.insert(spec.language, guest);
                }
                Err(reason) => {
                    tracing::warn!(language = %spec.language, %reason, "guest unavailable");
                    missing.insert(spec.language, reason);
                }
            }
        }
        Ok(WasmSandbox {
            engine,
            guests,
            missing,
            _ticker: ticker,
        })
    }

    /// How many programs of `language` have been compiled apart for their runs
    /// (`compiled.rs`), since the sandbox was loaded.
    pub fn compilations(&self, language: Language) -> u64 {
        self.guests
            .get(&language)
            .and_then(|guest| guest.compiled.as_ref())
            .map_or(0, CompiledPrograms::compilations)
    }

    /// Whether runs of `language` start from a pre-initialised snapshot.
    pub fn is_preinitialized(&self, language: Language) -> bool {
        self.guests
            .get(&language)
            .is_some_and(|guest| guest.entry != EntryKind::Start)
    }

    /// Creates a store and instantiates `language`'s guest without running it, and
    /// returns how long that took: the per-run cost the pool and the
    /// copy-on-write images exist to keep small.
    pub async fn time_instantiate(&self, language: Language) -> Result<Duration, RunError> {
        let guest = self.guest(language)?;
        let started = Instant::now();
        let limits = Limits::default();
        let mut store = new_store(&self.engine, wasi(guest.spec.args, 0), Vec::new(), &limits)
            .map_err(RunError::host)?;
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
}

/// WASI for one run of a guest: `args`, randomness from `seed`, the host's
/// clocks, and no environment, files or network.
fn wasi(args: &[&str], seed: u64) -> WasiCtxBuilder {
    let random = rand::rngs::StdRng::seed_from_u64(seed);
    let insecure = rand::rngs::StdRng::seed_from_u64(seed.rotate_left(17));
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(args)
        .secure_random(random)
        .insecure_random(insecure)
        .insecure_random_seed(u128::from(seed));
    wasi
}

/// A store for one run of a guest: `wasi`, `stdin` in memory, output capped,
/// memory metered, `limits.fuel` of fuel.
fn new_store(
    engine: &Engine,
    mut wasi: WasiCtxBuilder,
    stdin: Vec<u8>,
    limits: &Limits,
) -> anyhow::Result<Store<HostState>> {
    let wasi = wasi.build_p1();
    let state = HostState {
        wasi,
        io: Stdio::new(stdin, limits.output_bytes),
        meter: MemoryMeter::new(limits.memory_bytes as usize),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.meter);
    store.set_fuel(limits.fuel)?;
    Ok(store)
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
        execute(&self.engine, self.guest(request.language)?, request).await
    }
}

/// What a run calls first in its instance.
enum Call {
    Start(TypedFunc<(), ()>),
    Python(preinit::Entry),
    // Boxed: it holds four functions and the memory, the others one or two.
    QuickJs(Box<preinit_js::Entry>),
}

/// One run of `request` in a fresh instance of `guest`, from its compiled
/// program where the guest keeps one.
async fn execute(engine: &Engine, guest: &Guest, request: &RunRequest) -> Result<Report, RunError> {
    // A run with a seed sees the same "random" bytes every time (judging stays
    // reproducible, fuel included); without one, fresh entropy.
    let seed = request.seed.unwrap_or_else(rand::random);
    let input = request.stdin.as_bytes();
    let compiled = match &guest.compiled {
        Some(programs) => programs
            .get_or_compile(&request.source, || compile(engine, guest, &request.source))
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "compiling apart failed; the run compiles its source");
                Compiled::Source
            }),
        None => Compiled::Source,
    };
    let stdin = match compiled {
        Compiled::Code(code) => guest.spec.frame_compiled(&code, input),
        Compiled::Source => guest.spec.frame(&request.source, input),
    };
    let ran = run(engine, guest, stdin, &request.limits, seed).await?;
    let stderr = String::from_utf8_lossy(&ran.stderr);
    Ok(Report {
        language: request.language,
        verdict: ran.verdict,
        exit_code: ran.exit_code,
        detail: ran.detail,
        stdout: String::from_utf8_lossy(&ran.stdout).into_owned(),
        stderr: eduscale_core::code::tail(&stderr, STDERR_TAIL).to_owned(),
        wall_us: ran.wall.as_micros() as u64,
        fuel: ran.fuel,
        peak_memory_bytes: ran.peak_memory_bytes,
    })
}

/// Compiles `source` in a run of its own that runs none of it: the code when it
/// compiled cleanly, [`Compiled::Source`] for anything else (a syntax error, a
/// limit), which the program's own runs then meet and report themselves.
async fn compile(engine: &Engine, guest: &Guest, source: &str) -> Result<Compiled, RunError> {
    let stdin = guest.spec.frame_to_compile(source);
    let ran = run(engine, guest, stdin, &COMPILE_LIMITS, 0).await?;
    Ok(
        if ran.verdict == Verdict::Accepted && !ran.stdout.is_empty() {
            Compiled::Code(ran.stdout.into())
        } else {
            Compiled::Source
        },
    )
}

/// What one run of a guest did.
struct Ran {
    verdict: Verdict,
    exit_code: Option<i32>,
    detail: Option<String>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    wall: Duration,
    fuel: u64,
    peak_memory_bytes: u64,
}

/// Runs `guest` once in a fresh instance, reading `stdin`, under `limits`.
async fn run(
    engine: &Engine,
    guest: &Guest,
    stdin: Vec<u8>,
    limits: &Limits,
    seed: u64,
) -> Result<Ran, RunError> {
    let mut store =
        new_store(engine, wasi(guest.spec.args, seed), stdin, limits).map_err(RunError::host)?;
    let instance = guest
        .pre
        .instantiate_async(&mut store)
        .await
        .map_err(RunError::host)?;
    let call = match guest.entry {
        EntryKind::Start => Call::Start(
            instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .map_err(RunError::host)?,
        ),
        EntryKind::Python => {
            Call::Python(preinit::Entry::find(&mut store, &instance).map_err(RunError::host)?)
        }
        EntryKind::QuickJs => Call::QuickJs(Box::new(
            preinit_js::Entry::find(&mut store, &instance).map_err(RunError::host)?,
        )),
    };

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
    let running = async {
        match call {
            Call::Start(start) => start.call_async(&mut store, ()).await,
            Call::Python(entry) => entry.call(&mut store).await,
            Call::QuickJs(entry) => entry.call(&mut store, seed).await,
        }
    };
    // The timer covers a guest that is not running at all (sleeping in
    // poll_oneoff), which the epoch cannot reach.
    let outcome = tokio::time::timeout(limits.wall + engine::TICK * 2, running).await;
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
    if state.meter.hit_limit && verdict != Verdict::Accepted && verdict != Verdict::OutputLimit {
        verdict = Verdict::MemoryLimit;
    }
    Ok(Ran {
        verdict,
        exit_code,
        detail,
        stdout: state.io.stdout,
        stderr: state.io.stderr,
        wall,
        fuel,
        peak_memory_bytes: state.meter.peak as u64,
    })
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

/// Loads `spec`'s guest: its pre-initialised snapshot when it has a recipe (and
/// `config.preinit`), made and cached on first use; otherwise, or when the
/// snapshot cannot be made, the command itself.
fn load_guest(
    engine: &Engine,
    linker: &Linker<HostState>,
    spec: GuestSpec,
    config: &WasmConfig,
) -> Result<Guest, String> {
    let path = config.guests_dir.join(spec.file);
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
    if let (Some(recipe), true) = (spec.snapshot, config.preinit) {
        let name = preinit::cache_name(&sha256, &recipe);
        let entry = EntryKind::of(&recipe);
        let snapshot = cache::load_or_build(&config.cache_dir, engine, &name, || {
            make_snapshot(engine, linker, (spec, config), &recipe, entry, &wasm)
        })
        .and_then(|module| Ok((linker.instantiate_pre(&module)?, entry)));
        match snapshot {
            Ok((pre, entry)) => {
                return Ok(Guest::new(spec, pre, entry, config));
            }
            Err(error) => tracing::warn!(
                language = %spec.language,
                error = format!("{error:#}"),
                "no pre-initialised snapshot: runs start the interpreter from scratch"
            ),
        }
    }
    let module = cache::load_or_build(&config.cache_dir, engine, &sha256[..16], || {
        Ok(Module::new(engine, &wasm)?)
    })
    .map_err(|error| format!("{} did not compile: {error}", path.display()))?;
    let pre = linker
        .instantiate_pre(&module)
        .map_err(|error| format!("{} cannot be linked: {error}", path.display()))?;
    Ok(Guest::new(spec, pre, EntryKind::Start, config))
}

/// Makes and compiles `spec`'s snapshot, and checks that it runs a program.
fn make_snapshot(
    engine: &Engine,
    linker: &Linker<HostState>,
    (spec, config): (GuestSpec, &WasmConfig),
    recipe: &SnapshotRecipe,
    entry: EntryKind,
    wasm: &[u8],
) -> anyhow::Result<Module> {
    let started = Instant::now();
    let snapshot = match recipe {
        SnapshotRecipe::Python { args } => {
            block_on(|| preinit::build(engine, linker, wasm, args))??
        }
        SnapshotRecipe::QuickJs { bootstrap } => {
            block_on(|| preinit_js::build(engine, linker, wasm, bootstrap))??
        }
    };
    let (snapshot, spent) = segments::drop_spent(&snapshot)?;
    let module = Module::new(engine, &snapshot)?;
    let guest = Guest::new(spec, linker.instantiate_pre(&module)?, entry, config);
    block_on(|| check_snapshot(engine, &guest))??;
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(language = %spec.language, ms, spent, "made a pre-initialised snapshot");
    Ok(module)
}

/// Runs a tiny program in a new snapshot before it is cached (compiled apart
/// first, where the guest does that): one that does not run it right is never
/// used.
async fn check_snapshot(engine: &Engine, guest: &Guest) -> anyhow::Result<()> {
    let request = RunRequest::new(guest.spec.language, "print(6 * 7)", "");
    let report = execute(engine, guest, &request).await?;
    if report.verdict != Verdict::Accepted || report.stdout != "42\n" {
        anyhow::bail!(
            "the snapshot ran print(6 * 7) as {:?}: {:?} {:?} {:?}",
            report.verdict,
            report.stdout,
            report.detail,
            report.stderr
        );
    }
    Ok(())
}

/// Runs the future `make` returns to completion on a runtime of its own, on a
/// thread of its own: `load` is synchronous and may be called from inside a
/// runtime, where blocking on one is not allowed. A panic (wizer panics on what
/// it cannot snapshot) comes back as an error, so the guest falls back to `_start`.
fn block_on<F: Future<Output: Send>>(make: impl FnOnce() -> F + Send) -> anyhow::Result<F::Output> {
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| -> anyhow::Result<F::Output> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()?;
            Ok(runtime.block_on(make()))
        });
        thread.join().unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(anyhow::anyhow!("panicked: {message}"))
        })
    })
}
