//! A pre-initialised QuickJS: runs start from a snapshot of a context in which
//! the bootstrap has already run, instead of paying for the runtime, the
//! context's built-ins, the `std` module and the bootstrap's parsing every time
//! (most of a hello world's work).
//!
//! How the snapshot is made. `qjs` is a WASI command, but unlike the CPython
//! guest it keeps its name section, so its C functions can be named: the module
//! surgery (`exports.rs`) exports the few this needs, and the host plays the part
//! of `qjs`'s `main` itself, call by call: a runtime, the `std` handlers, a
//! context, the `std` module and the helpers (`print`, `console.log`), `std`
//! made global by a one-line module (as `qjs --std` does), then the bootstrap
//! (`guest::js_bootstrap!`), which prepares everything a run shares and defines
//! the entry, `__eduscale_run`. Every call returns normally, so nothing is left
//! suspended: wizer writes memory and globals out as a new module, and two
//! exported globals keep the context and the address of the entry script.
//!
//! How a run enters it: `JS_Eval` of `__eduscale_run()` in that context, then
//! `js_std_loop` (promises and timers, as `qjs` runs them after its script),
//! then `exit` with the status `qjs` would return, which flushes stdio and ends
//! in `proc_exit`, like a run through `_start`. An exception out of the script is
//! printed by `js_std_dump_error`, as `qjs` prints it, and exits 1.
//!
//! What runs share, being copies of one snapshot: the built-ins as the bootstrap
//! left them (a program's changes die with its instance) and `Math.random`'s
//! state, which is therefore overwritten before every run from the run's own
//! seed (fresh, or the request's): no two runs share a sequence, and a seeded
//! run is reproducible. The guest's DWARF covers only its libc, so where that
//! state lives is found by experiment: the initialisation calls `Math.random()`
//! once and looks in the context for the one 64-bit word that moved by exactly
//! a step of QuickJS's xorshift64*.

use super::exports;
use super::host::HostState;
use super::preinit::Captured;
use wasmtime::{Engine, Instance, Linker, Memory, Store, TypedFunc, Val};
use wasmtime_wizer::Wizer;

/// The C functions the host calls, exported by the module surgery.
const FUNCTIONS: [&str; 12] = [
    "__wasm_call_ctors",
    "malloc",
    "JS_NewRuntime",
    "JS_SetHostPromiseRejectionTracker",
    "js_std_init_handlers",
    "JS_NewContext",
    "js_init_module_std",
    "js_init_module_os",
    "js_std_add_helpers",
    "JS_Eval",
    "js_std_loop",
    "js_std_dump_error",
];

/// What `qjs` reports a promise rejected with no handler through, as a run
/// through `_start` does ("Possibly unhandled promise rejection", exit 1).
const REJECTION_TRACKER: &str = "js_std_promise_rejection_tracker";

/// `exit` is exported by the same surgery but called only by runs.
const EXIT: &str = "exit";

/// `JS_Eval` flags: a global script, and a module.
const EVAL_GLOBAL: i32 = 0;
const EVAL_MODULE: i32 = 1;

/// QuickJS's exception tag. On wasm32 a `JSValue` is NaN-boxed into 64 bits, the
/// tag of a non-number in the high 32.
const TAG_EXCEPTION: i64 = 6;

/// What `qjs --std` evaluates to make `std` and `os` visible to scripts (`os`
/// also starts the timers that `setTimeout` needs; `bjson` the bootstrap would
/// only delete).
const IMPORT_STD: &str = "import * as std from 'qjs:std';\nimport * as os from 'qjs:os';\n\
                          globalThis.std = std;\nglobalThis.os = os;\n";

/// A run's whole script: the bootstrap's entry.
const ENTRY_SCRIPT: &str = "__eduscale_run()";

/// The name `qjs -e` gives its script: stack traces through the bootstrap read
/// the same as in a run through `_start`.
const SCRIPT_NAME: &str = "<cmdline>";

/// How far into the context `Math.random`'s state is looked for: past the end of
/// QuickJS's `JSContext` (a few hundred bytes), well short of the heap's end.
const CONTEXT_SPAN: usize = 4096;

/// Makes the pre-initialised module from the guest `wasm` (see the module docs).
pub async fn build(
    engine: &Engine,
    linker: &Linker<HostState>,
    wasm: &[u8],
    bootstrap: &str,
) -> anyhow::Result<Vec<u8>> {
    let mut functions = FUNCTIONS.to_vec();
    functions.push(EXIT);
    let prepared = exports::add_entry_exports(wasm, &functions)?;
    let wizer = Wizer::new();
    let (context, instrumented) = wizer.instrument(&prepared)?;
    let (mut store, instance) =
        super::preinit::initialising(engine, linker, &instrumented, &["qjs"]).await?;
    let mut init = Init {
        store: &mut store,
        instance,
    };
    init.func::<(), ()>("__wasm_call_ctors")?
        .call_async(&mut *init.store, ())
        .await?;
    let runtime = init
        .func::<(), i32>("JS_NewRuntime")?
        .call_async(&mut *init.store, ())
        .await?;
    anyhow::ensure!(runtime != 0, "JS_NewRuntime failed");
    let tracker = i32::try_from(exports::table_slot(wasm, REJECTION_TRACKER)?)?;
    init.func::<(i32, i32, i32), ()>("JS_SetHostPromiseRejectionTracker")?
        .call_async(&mut *init.store, (runtime, tracker, 0))
        .await?;
    init.func::<i32, ()>("js_std_init_handlers")?
        .call_async(&mut *init.store, runtime)
        .await?;
    let ctx = init
        .func::<i32, i32>("JS_NewContext")?
        .call_async(&mut *init.store, runtime)
        .await?;
    anyhow::ensure!(ctx != 0, "JS_NewContext failed");
    let std_name = init.c_string("qjs:std").await?;
    let std_module = init
        .func::<(i32, i32), i32>("js_init_module_std")?
        .call_async(&mut *init.store, (ctx, std_name))
        .await?;
    anyhow::ensure!(std_module != 0, "js_init_module_std failed");
    let os_name = init.c_string("qjs:os").await?;
    let os_module = init
        .func::<(i32, i32), i32>("js_init_module_os")?
        .call_async(&mut *init.store, (ctx, os_name))
        .await?;
    anyhow::ensure!(os_module != 0, "js_init_module_os failed");
    init.func::<(i32, i32, i32), ()>("js_std_add_helpers")?
        .call_async(&mut *init.store, (ctx, 0, 0))
        .await?;
    init.eval(ctx, IMPORT_STD, "<input>", EVAL_MODULE).await?;
    // The module's evaluation is a job: run it.
    let status = init
        .func::<i32, i32>("js_std_loop")?
        .call_async(&mut *init.store, ctx)
        .await?;
    anyhow::ensure!(status == 0, "importing std failed ({status})");
    init.eval(ctx, bootstrap, SCRIPT_NAME, EVAL_GLOBAL).await?;
    let random_state = init.find_random_state(ctx).await?;
    // The entry block: the address of the random state (4 bytes, little-endian),
    // the entry script, and after its NUL the name it runs under.
    let entry = init
        .c_string(&format!("----{ENTRY_SCRIPT}\0{SCRIPT_NAME}"))
        .await?;
    let memory = init.memory()?;
    memory.write(
        &mut *init.store,
        entry as usize,
        &random_state.to_le_bytes(),
    )?;
    for (name, value) in [(exports::ENTRY_OBJECT, ctx), (exports::ENTRY_SLOT, entry)] {
        let global = instance
            .get_global(&mut *init.store, name)
            .ok_or_else(|| anyhow::anyhow!("the prepared guest lacks {name}"))?;
        global.set(&mut *init.store, Val::I32(value))?;
    }
    let stderr = &init.store.data().io.stderr;
    anyhow::ensure!(
        stderr.is_empty(),
        "the initialisation wrote to stderr: {}",
        String::from_utf8_lossy(stderr)
    );
    let mut state = Captured {
        store: &mut store,
        instance,
    };
    Ok(wizer.snapshot(&context, &mut state).await?)
}

/// The initialising instance, with the calls `build` makes into it.
struct Init<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
}

impl Init<'_> {
    fn func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
    ) -> anyhow::Result<TypedFunc<P, R>> {
        Ok(self
            .instance
            .get_typed_func::<P, R>(&mut *self.store, name)?)
    }

    fn memory(&mut self) -> anyhow::Result<Memory> {
        self.instance
            .get_memory(&mut *self.store, "memory")
            .ok_or_else(|| anyhow::anyhow!("the guest exports no memory"))
    }

    /// `text` as a NUL-terminated string in the guest's heap (QuickJS reads one
    /// byte past a script's length).
    async fn c_string(&mut self, text: &str) -> anyhow::Result<i32> {
        let size = i32::try_from(text.len() + 1)?;
        let at = self
            .func::<i32, i32>("malloc")?
            .call_async(&mut *self.store, size)
            .await?;
        anyhow::ensure!(at != 0, "malloc failed");
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        let memory = self.memory()?;
        memory.write(&mut *self.store, at as usize, &bytes)?;
        Ok(at)
    }

    /// The address of `Math.random`'s state in the context `ctx`: the one aligned
    /// 64-bit word near it that a call of `Math.random()` moves by exactly one
    /// xorshift64* step.
    async fn find_random_state(&mut self, ctx: i32) -> anyhow::Result<u32> {
        let memory = self.memory()?;
        let start = ctx as usize;
        let end = start
            .saturating_add(CONTEXT_SPAN)
            .min(memory.data_size(&*self.store));
        let before = memory.data(&*self.store)[start..end].to_vec();
        self.eval(ctx, "Math.random()", SCRIPT_NAME, EVAL_GLOBAL)
            .await?;
        let after = &memory.data(&*self.store)[start..end];
        let word = |bytes: &[u8], at: usize| {
            u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
        };
        // wasm32 aligns a uint64_t member to 8; the context comes from malloc (8 or 16).
        let found: Vec<usize> = (0..before.len().saturating_sub(7))
            .step_by(8)
            .filter(|&at| {
                let old = word(&before, at);
                old != 0 && word(after, at) == xorshift64_step(old)
            })
            .collect();
        match found.as_slice() {
            [at] => Ok(u32::try_from(start + at)?),
            _ => anyhow::bail!(
                "Math.random's state not found in the context ({} candidates)",
                found.len()
            ),
        }
    }

    /// Evaluates `source`; an exception is an error, with what QuickJS printed.
    async fn eval(&mut self, ctx: i32, source: &str, name: &str, flags: i32) -> anyhow::Result<()> {
        let text = self.c_string(source).await?;
        let name = self.c_string(name).await?;
        let length = i32::try_from(source.len())?;
        let value = self
            .func::<(i32, i32, i32, i32, i32), i64>("JS_Eval")?
            .call_async(&mut *self.store, (ctx, text, length, name, flags))
            .await?;
        if value >> 32 == TAG_EXCEPTION {
            self.func::<i32, ()>("js_std_dump_error")?
                .call_async(&mut *self.store, ctx)
                .await?;
            anyhow::bail!(
                "evaluating the bootstrap threw: {}",
                String::from_utf8_lossy(&self.store.data().io.stderr)
            );
        }
        Ok(())
    }
}

/// How a run enters a pre-initialised QuickJS.
pub struct Entry {
    eval: TypedFunc<(i32, i32, i32, i32, i32), i64>,
    run_jobs: TypedFunc<i32, i32>,
    dump_error: TypedFunc<i32, ()>,
    exit: TypedFunc<i32, ()>,
    memory: Memory,
    ctx: i32,
    script: i32,
    random_state: usize,
}

/// The state after one step of QuickJS's `Math.random` generator (xorshift64*,
/// whose output is this state times a constant).
fn xorshift64_step(mut x: u64) -> u64 {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    x
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
        let ctx = global(exports::ENTRY_OBJECT)?;
        let block = global(exports::ENTRY_SLOT)?;
        let memory = instance
            .get_memory(&mut *store, "memory")
            .ok_or_else(|| anyhow::anyhow!("the snapshot exports no memory"))?;
        let mut address = [0u8; 4];
        memory.read(&*store, block as usize, &mut address)?;
        Ok(Entry {
            eval: instance.get_typed_func(&mut *store, "JS_Eval")?,
            run_jobs: instance.get_typed_func(&mut *store, "js_std_loop")?,
            dump_error: instance.get_typed_func(&mut *store, "js_std_dump_error")?,
            exit: instance.get_typed_func(&mut *store, EXIT)?,
            memory,
            ctx,
            script: block + 4,
            random_state: u32::from_le_bytes(address) as usize,
        })
    }

    /// Runs the program with `Math.random` seeded from `seed`. Like `_start` it
    /// ends in `proc_exit`; a return means the entry itself failed.
    pub async fn call(self, store: &mut Store<HostState>, seed: u64) -> wasmtime::Result<()> {
        // xorshift64* must not start at zero.
        let state = splitmix64(seed) | 1;
        self.memory
            .write(&mut *store, self.random_state, &state.to_le_bytes())
            .map_err(wasmtime::Error::msg)?;
        let length = ENTRY_SCRIPT.len() as i32;
        let name = self.script + length + 1;
        let value = self
            .eval
            .call_async(
                &mut *store,
                (self.ctx, self.script, length, name, EVAL_GLOBAL),
            )
            .await?;
        let status = if value >> 32 == TAG_EXCEPTION {
            self.dump_error.call_async(&mut *store, self.ctx).await?;
            1
        } else if self.run_jobs.call_async(&mut *store, self.ctx).await? != 0 {
            1
        } else {
            0
        };
        self.exit.call_async(&mut *store, status).await?;
        Err(wasmtime::Error::msg(
            "the pre-initialised interpreter returned instead of exiting",
        ))
    }
}

/// One step of SplitMix64: spreads a seed (possibly small, like 0 or 1) over
/// all 64 bits.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_step_is_quickjss() {
        // QuickJS's xorshift64* from state 1: the state after one call.
        assert_eq!(xorshift64_step(1), 0x0200_0001);
    }

    #[test]
    fn close_seeds_give_unrelated_states() {
        assert_ne!(splitmix64(0), 0);
        assert_ne!(splitmix64(1) >> 32, splitmix64(2) >> 32);
    }

    #[test]
    fn the_host_calls_only_functions_it_exports() {
        assert!(FUNCTIONS.contains(&"JS_Eval") && !FUNCTIONS.contains(&EXIT));
    }
}
