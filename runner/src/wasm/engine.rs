//! The one wasmtime `Engine` every guest shares, and the clock that interrupts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

/// How often the epoch advances. A running guest yields to the executor at every
/// tick and is stopped at the first tick past its wall deadline, so this is both
/// the scheduling quantum and the precision of the time limit.
pub const TICK: Duration = Duration::from_millis(1);

/// Settings of the engine that change the compiled code or the pool's shape.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Instances that may exist at once (pool slots). Each reserves address space,
    /// not memory: resident memory is what guests touch.
    pub slots: u32,
    /// The largest linear memory a guest may grow to, in bytes.
    pub max_memory_bytes: usize,
}

/// Builds the engine: pooling allocator with copy-on-write memory images (an
/// instance is a few page-table updates over the guest's pre-built image), fuel
/// metering, epoch interruption, and async support so a sleeping guest can be cut
/// off by a timer rather than only by its own next instruction.
pub fn build(settings: EngineSettings) -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(settings.slots)
        .total_memories(settings.slots)
        .total_tables(settings.slots)
        .total_stacks(settings.slots)
        .total_component_instances(0)
        .max_memory_size(settings.max_memory_bytes)
        // CPython's instance state (globals, tables) is larger than the default.
        .max_core_instance_size(4 << 20)
        .table_elements(100_000)
        // Keep the first MiBs of a freed slot resident: the next instance of the
        // same guest then skips most page faults. Measured against 256 KiB here:
        // CPython instantiated in 48 us instead of 67 (resetting a resident page
        // of a snapshot copies it from the image), but with 8 runs in flight
        // the page faults halved throughput (QuickJS hello 3,600/s against
        // 8,700/s, CPython 470/s against 550/s).
        //
        // 16 MiB rather than 4, and the tables too (all of a 100,000-element
        // table): a page reset in place stays a private page, while a page
        // unmapped comes back through a copy-on-write fault, and every such
        // fault, like every unmapping, is a TLB shootdown, an interrupt to each
        // core running the process's threads (a quarter of the runner bench's
        // time was spent sending them). Measured by `eduscale bench runner`,
        // alternating with 4 MiB and no table kept: QuickJS hello 10,900 and
        // 11,450 runs/s (c32) against 6,080 and 6,180, CPython 1,240 and 1,270
        // (c2) against 930 and 960, peak RSS 91 MB against 88.
        .linear_memory_keep_resident(16 << 20)
        .table_keep_resident(1 << 20)
        // Where the kernel has PAGEMAP_SCAN (Linux 6.7+), reset only the pages a
        // run touched instead of copying back all it keeps or unmapping them (each
        // unmapping is a TLB shootdown on every core). Measured here (same
        // machine, alternating): CPython instantiation p50 37 us against 42,
        // hello p50 0.50 ms against 0.74, 1,800 Python runs/s against 1,050,
        // peak RSS 110 MB against 133.
        //
        // Known limit (wasmtime 48 and 49): one scan reports at most 32 runs of
        // dirty pages, and everything past the 32nd is unmapped, to fault back
        // in on the slot's next run. Before the snapshot's objects were made
        // immortal (`python_snapshot!` in guest.rs), a CPython run left about
        // 66 runs and raising the limit (a patched crate, not shipped) took
        // `eduscale bench runner` from 1,230-1,460 Python runs/s to
        // 5,350-5,940. Now a hello run leaves 7 runs of pages (92 KiB), and a
        // judged program 16 to 41 in a slot's first runs (a trial build that
        // scanned each slot after its run). Merging runs below 32 by making the
        // pages between them private was tried and not kept: it copied more on
        // every reset than it saved (Python hello 8,650-9,660 runs/s against
        // 9,570-14,340 without, judging 3.80 ms against 3.85).
        .pagemap_scan(Enabled::Auto)
        .max_unused_warm_slots(settings.slots);

    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true)
        // Deep recursion traps at this depth instead of exhausting the host.
        .max_wasm_stack(2 << 20)
        .async_stack_size(4 << 20);
    Ok(Engine::new(&config)?)
}

/// Advances the engine's epoch every [`TICK`] on its own thread, until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub fn start(engine: Engine) -> std::io::Result<EpochTicker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("eduscale-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for EpochTicker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochTicker")
    }
}
