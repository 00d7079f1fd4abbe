//! Compiled guests cached on disk, so a guest is compiled by Cranelift once per
//! machine (CPython takes seconds) and afterwards only mapped (under a millisecond).
//! The same goes for a pre-initialised snapshot, which is made (seconds) and
//! compiled once, then loaded like any other artifact.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

/// Where the artifact `name` lives for `engine`: the name says what was compiled
/// (a guest's sha256 prefix, and for a snapshot its recipe's hash), the engine's
/// compatibility hash (wasmtime's version, fuel, epochs, target features) what
/// it is valid for.
pub fn artifact_path(dir: &Path, engine: &Engine, name: &str) -> PathBuf {
    let mut hasher = Sha256Hasher::default();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let engine_key = hex(&hasher.0.finalize()[..8]);
    dir.join(format!("{name}-{engine_key}.cwasm"))
}

/// Loads the artifact `name` from the cache, or makes it with `build` and
/// stores it.
pub fn load_or_build(
    dir: &Path,
    engine: &Engine,
    name: &str,
    build: impl FnOnce() -> anyhow::Result<Module>,
) -> anyhow::Result<Module> {
    let path = artifact_path(dir, engine, name);
    if path.exists() {
        match deserialize(engine, &path) {
            Ok(module) => return Ok(module),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cached guest unusable, making it again");
            }
        }
    }
    let started = std::time::Instant::now();
    let module = build()?;
    tracing::info!(path = %path.display(), ms = started.elapsed().as_millis() as u64, "compiled guest");
    std::fs::create_dir_all(dir)?;
    // Written aside then renamed: a reader never maps a half-written artifact,
    // and two processes compiling at once both end with a whole file.
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, module.serialize()?)?;
    std::fs::rename(&partial, &path)?;
    Ok(module)
}

#[expect(unsafe_code, reason = "wasmtime marks loading compiled code as unsafe")]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Module> {
    // SAFETY: the file is one this module wrote (written whole, then renamed) into
    // the runner's own cache directory, named for this engine's settings, and
    // wasmtime checks its version and settings header before using it. Anyone who
    // can write that directory can already replace the server binary.
    Ok(unsafe { Module::deserialize_file(engine, path) }?)
}

/// The sha256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `Hash` into sha256, so the key is stable across processes and Rust versions
/// (std's `DefaultHasher` promises neither).
#[derive(Default)]
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
