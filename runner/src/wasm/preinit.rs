//! A pre-initialised CPython: runs start from a snapshot of an interpreter that
//! has already started, instead of paying its start-up (~270 M fuel) every time.
//!
//! How the snapshot is made. The guest is a WASI command, optimised after
//! linking: it exports only `memory` and `_start`, and no C function of
//! CPython's can be named (no name section; the DWARF's code addresses are void).
//! So the interpreter is started the ordinary way, through `_start` with the
//! recipe's argv: the bootstrap defines `_eduscale_run`, preloads modules, prints
//! the address of that function object and calls `os._exit`, which reaches the
//! host as `proc_exit` and stops the guest *without unwinding it*. At that point
//! the interpreter is in a state it is in countless times in any run: a frame
//! suspended in a call into C. wizer (`wasmtime-wizer`) then writes memory and
//! globals out as a new module.
//!
//! How a run enters it. Every Python function object holds its C entry point
//! (`vectorcall`, a slot of the guest's function table, at an offset read from
//! the DWARF); the host calls that slot with the function object and no
//! arguments — exactly what the interpreter itself does to call it — so
//! `_eduscale_run` runs nested on top of the suspended frame, as if `os._exit`
//! had called back into Python. It never returns: it ends with `os._exit`, the
//! same as a run through `_start`. The stack left above it is never returned
//! into; every run starts from a fresh copy-on-write instance of the snapshot.
//!
//! What runs share, being copies of one snapshot: the preloaded modules (a
//! program's changes to them die with its instance), and CPython's string-hash
//! secret, fixed when the snapshot was made from fixed WASI randomness. So set
//! iteration order over strings is the same in every run (it varied per unseeded
//! run before), and the same on every machine: with fixed randomness and clocks,
//! a recipe makes the same snapshot anywhere, so a program's fuel is the same.
//! `random` is reseeded per run by the bootstrap, from the run's own WASI
//! randomness (fresh, or the request's seed).

use super::exports;
use super::guest::{SNAPSHOT_EXIT, SnapshotRecipe};
use super::host::HostState;
use crate::Limits;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasmtime::{Engine, Instance, Linker, Module, Store, TypedFunc, Val};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, I32Exit};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

/// Changes whenever the host's way of making a snapshot changes; with the
/// recipe's own text and the guest's hash, it names the cached snapshot.
const HOST_RECIPE_VERSION: &str = "eduscale-preinit-4";

/// The WASI random seed of the initialising run: a fixed one, so a recipe gives
/// the same snapshot (the same hash secret) on every machine.
const INIT_SEED: u64 = 0x5eed_c0de;

/// The initialising run's clocks: a fixed date (2025-01-01), and time that moves
/// 1 µs per reading. Start-up keeps a few clock readings; with the host's
/// clocks the snapshot would differ with when, and how fast, it was made.
#[derive(Default)]
struct FixedClock(AtomicU64);

impl FixedClock {
    fn tick(&self) -> u64 {
        self.0.fetch_add(1_000, Ordering::Relaxed)
    }
}

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }
    fn now(&self) -> Duration {
        Duration::from_secs(1_735_689_600) + Duration::from_nanos(self.tick())
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1_000
    }
    fn now(&self) -> u64 {
        self.tick()
    }
}

/// The function-object type and member holding the C entry point of a call.
const FUNCTION_OBJECT: (&str, &str) = ("PyFunctionObject", "vectorcall");

/// The cache name of the snapshot made from the guest `wasm_sha256` by `recipe`.
pub fn cache_name(wasm_sha256: &str, recipe: &SnapshotRecipe) -> String {
    let mut key = HOST_RECIPE_VERSION.to_owned();
    key.push('\0');
    key.push_str(&recipe.text());
    let recipe_hash = super::cache::sha256_hex(key.as_bytes());
    format!("{}-preinit-{}", &wasm_sha256[..16], &recipe_hash[..12])
}

/// Makes the pre-initialised module from the guest `wasm` (see the module docs).
/// Compiles the guest once for the initialising run: seconds.
pub async fn build(
    engine: &Engine,
    linker: &Linker<HostState>,
    wasm: &[u8],
    args: &[&str],
) -> anyhow::Result<Vec<u8>> {
    let vectorcall_offset =
        super::dwarf::member_offset(wasm, FUNCTION_OBJECT.0, FUNCTION_OBJECT.1)?;
    let prepared = exports::add_entry_exports(wasm, &[])?;
    let wizer = Wizer::new();
    let (context, instrumented) = wizer.instrument(&prepared)?;
    let (mut store, instance) = initialising(engine, linker, &instrumented, args).await?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    let outcome = start.call_async(&mut store, ()).await;
    let exit = outcome
        .as_ref()
        .err()
        .and_then(|error| error.downcast_ref::<I32Exit>());
    if exit.map(|exit| exit.0) != Some(SNAPSHOT_EXIT) {
        let stderr = String::from_utf8_lossy(&store.data().io.stderr);
        anyhow::bail!(
            "the initialising run ended with {:?} instead of exit {SNAPSHOT_EXIT}: {}",
            outcome.map_err(|error| error.to_string()),
            eduscale_core::code::tail(&stderr, 2000)
        );
    }

    let object = entry_object(&store.data().io.stdout)?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or_else(|| anyhow::anyhow!("the guest exports no memory"))?;
    // The objects the run listed become immortal (see `python_snapshot!`). The
    // run keeps every listed object alive, so each address is a live object's
    // and its first word is the reference count.
    if let Some((list, count)) = immortal_list(&store.data().io.stdout) {
        let data = memory.data_mut(&mut store);
        for i in 0..count as usize {
            let entry = (list as usize).saturating_add(4 * i);
            let Some(b) = data.get(entry..entry.saturating_add(4)) else {
                break;
            };
            let at = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
            if at.is_multiple_of(4)
                && let Some(refcount) = data.get_mut(at..at.saturating_add(4))
            {
                refcount.copy_from_slice(&IMMORTAL_REFCOUNT.to_le_bytes());
            }
        }
    }
    let at = (object as usize).saturating_add(vectorcall_offset as usize);
    let slot = memory
        .data(&store)
        .get(at..at.saturating_add(4))
        .map(|bytes| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .ok_or_else(|| anyhow::anyhow!("the entry object at {object:#x} is outside memory"))?;
    // Checked here rather than trusted: the slot must hold a function of the
    // vectorcall signature, or the snapshot is refused.
    entry_func(&mut store, &instance, slot)?;
    for (name, value) in [(exports::ENTRY_OBJECT, object), (exports::ENTRY_SLOT, slot)] {
        let global = instance
            .get_global(&mut store, name)
            .ok_or_else(|| anyhow::anyhow!("the prepared guest lacks {name}"))?;
        global.set(&mut store, Val::I32(value as i32))?;
    }
    let mut state = Captured {
        store: &mut store,
        instance,
    };
    Ok(wizer.snapshot(&context, &mut state).await?)
}

/// An instance of the `instrumented` guest for an initialising run (this one's
/// or `preinit_js.rs`'s): WASI with `args`, fixed randomness and clocks, the
/// largest limits and no wall-clock deadline (the run is ours, not a learner's).
pub(super) async fn initialising(
    engine: &Engine,
    linker: &Linker<HostState>,
    instrumented: &[u8],
    args: &[&str],
) -> anyhow::Result<(Store<HostState>, Instance)> {
    let module = Module::new(engine, instrumented)?;
    let mut wasi = super::wasi(args, INIT_SEED);
    wasi.wall_clock(FixedClock::default())
        .monotonic_clock(FixedClock::default());
    let mut store = super::new_store(engine, wasi, Vec::new(), &Limits::MAX)?;
    store.set_epoch_deadline(1 << 40);
    let instance = linker.instantiate_async(&mut store, &module).await?;
    Ok((store, instance))
}

/// The address of `_eduscale_run` that the initialising run printed.
fn entry_object(stdout: &[u8]) -> anyhow::Result<u32> {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("the initialising run printed {text:?}, not an address"))
}

/// CPython 3.12's reference count of an immortal object on a 32-bit target.
const IMMORTAL_REFCOUNT: u32 = u32::MAX >> 2;

/// Where the initialising run left the addresses of the objects to make
/// immortal, and how many: its second line.
fn immortal_list(stdout: &[u8]) -> Option<(u32, u32)> {
    let text = String::from_utf8_lossy(stdout);
    let mut line = text.lines().nth(1)?.split_whitespace();
    Some((line.next()?.parse().ok()?, line.next()?.parse().ok()?))
}

/// The `vectorcall` function (`PyObject *(*)(PyObject *callable, PyObject *const
/// *args, size_t nargsf, PyObject *kwnames)`) in table slot `slot`.
fn entry_func(
    store: &mut Store<HostState>,
    instance: &Instance,
    slot: u32,
) -> anyhow::Result<TypedFunc<(i32, i32, i32, i32), i32>> {
    let table = instance
        .get_table(&mut *store, exports::TABLE)
        .ok_or_else(|| anyhow::anyhow!("the guest does not export its table"))?;
    let func = table
        .get(&mut *store, u64::from(slot))
        .and_then(|entry| entry.as_func().flatten().copied())
        .ok_or_else(|| anyhow::anyhow!("table slot {slot} holds no function"))?;
    Ok(func.typed(&*store)?)
}

/// How a run enters a pre-initialised instance: `_eduscale_run()`, called the way
/// the interpreter calls a Python function.
pub struct Entry {
    func: TypedFunc<(i32, i32, i32, i32), i32>,
    object: i32,
}

impl Entry {
    /// Finds the entry in a fresh instance of the snapshot.
    pub fn find(store: &mut Store<HostState>, instance: &Instance) -> anyhow::Result<Entry> {
        let mut global = |name: &str| -> anyhow::Result<i32> {
            instance
                .get_global(&mut *store, name)
                .and_then(|global| global.get(&mut *store).i32())
                .ok_or_else(|| anyhow::anyhow!("the snapshot lacks {name}"))
        };
        let object = global(exports::ENTRY_OBJECT)?;
        let slot = global(exports::ENTRY_SLOT)?;
        let func = entry_func(store, instance, slot as u32)?;
        Ok(Entry { func, object })
    }

    /// Runs the program. Like `_start` it ends in `proc_exit`; a return means the
    /// bootstrap itself failed.
    pub async fn call(self, store: &mut Store<HostState>) -> wasmtime::Result<()> {
        let returned = self.func.call_async(store, (self.object, 0, 0, 0)).await?;
        Err(wasmtime::Error::msg(format!(
            "the pre-initialised interpreter returned ({returned:#x}) instead of exiting"
        )))
    }
}

/// The instance's state as wizer reads it.
pub(super) struct Captured<'a> {
    pub(super) store: &'a mut Store<HostState>,
    pub(super) instance: Instance,
}

impl InstanceState for Captured<'_> {
    async fn global_get(&mut self, name: &str, _type_hint: ValType) -> SnapshotVal {
        // wizer asks only for the globals its instrumentation exported.
        let global = self
            .instance
            .get_global(&mut *self.store, name)
            .expect("exported by wizer");
        match global.get(&mut *self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            // wizer refuses modules with reference-typed mutable globals.
            _ => panic!("wizer asked for a reference-typed global"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        // Likewise, only the memories its instrumentation exported.
        let memory = self
            .instance
            .get_memory(&mut *self.store, name)
            .expect("exported by wizer");
        contents(memory.data(&*self.store));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_name_follows_the_guest_and_the_recipe() {
        let sha = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763";
        let a = cache_name(
            sha,
            &SnapshotRecipe::Python {
                args: &["python", "-c", "1"],
            },
        );
        let b = cache_name(
            sha,
            &SnapshotRecipe::Python {
                args: &["python", "-c", "2"],
            },
        );
        assert!(a.starts_with("e5dc5a398b07b54e-preinit-"));
        assert_ne!(a, b);
    }

    #[test]
    fn the_entry_object_is_the_printed_address() {
        assert_eq!(entry_object(b"1234567\n").expect("address"), 1_234_567);
        assert_eq!(
            entry_object(b"1234567\n99 3\n").expect("address"),
            1_234_567
        );
        assert!(entry_object(b"Traceback ...").is_err());
    }

    #[test]
    fn the_immortal_list_is_the_second_line() {
        assert_eq!(immortal_list(b"1234567\n4096 3\n"), Some((4096, 3)));
        assert_eq!(immortal_list(b"1234567\n"), None);
        assert_eq!(immortal_list(b"1234567\nbroken\n"), None);
    }
}
