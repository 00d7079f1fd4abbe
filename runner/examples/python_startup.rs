//! What a Python run costs, started from scratch (`_start`) and from the
//! pre-initialised snapshot: fuel and wall time of a few small programs, and of
//! instantiation alone (medians).
//!
//! `cargo run --release -p eduscale-runner --example python_startup`, with the
//! guests in `guests/dist` (or `EDUSCALE_GUESTS_DIR`); compiled guests and the
//! snapshot are cached in `target/tmp/guest-cache` (or `EDUSCALE_CACHE_DIR`).

use eduscale_runner::wasm::{WasmConfig, WasmSandbox};
use eduscale_runner::{Language, RunRequest, Sandbox};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const RUNS: usize = 21;

const PROGRAMS: [(&str, &str); 4] = [
    ("hello", "print('hello')"),
    ("error", "x = {}\nx['missing']"),
    (
        "import json, dataclasses",
        "import json, dataclasses\nprint(json.dumps([1]))",
    ),
    (
        "fib(25)",
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(25))",
    ),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = |var: &str, default: PathBuf| std::env::var_os(var).map_or(default, PathBuf::from);
    let config = WasmConfig {
        guests_dir: path("EDUSCALE_GUESTS_DIR", root.join("guests/dist")),
        cache_dir: path("EDUSCALE_CACHE_DIR", root.join("target/tmp/guest-cache")),
        slots: 8,
        preinit: true,
        compiled_bytes: WasmConfig::COMPILED_BYTES,
    };
    for preinit in [false, true] {
        let started = Instant::now();
        let sandbox = WasmSandbox::load(&WasmConfig {
            preinit,
            ..config.clone()
        })?;
        let label = if sandbox.is_preinitialized(Language::Python) {
            "snapshot"
        } else {
            "_start"
        };
        println!("{label}: loaded in {:?}", started.elapsed());
        let mut instantiate = Vec::new();
        for _ in 0..RUNS {
            instantiate.push(sandbox.time_instantiate(Language::Python).await?);
        }
        println!("  instantiate: {:?}", median(instantiate));
        for (name, source) in PROGRAMS {
            let request = RunRequest::new(Language::Python, source, "");
            let (mut fuel, mut run_wall, mut total) = (0, Vec::new(), Vec::new());
            for _ in 0..RUNS {
                let started = Instant::now();
                let report = sandbox.run(&request).await?;
                total.push(started.elapsed());
                run_wall.push(Duration::from_micros(report.wall_us));
                fuel = report.fuel;
            }
            println!(
                "  {name:<26} {fuel:>12} fuel  run {:>10.2?}  with instantiation {:>10.2?}",
                median(run_wall),
                median(total)
            );
        }
    }
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
