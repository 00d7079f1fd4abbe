//! The guest interpreters: which file, which hash, how a program reaches them.
//!
//! Every guest gets the learner's program on stdin, behind a one-line header with
//! its length, and the program's own stdin after it; CPython may get the program
//! compiled by an earlier run instead of its source (`compiled.rs`, the header
//! says which). Nothing goes through argv or
//! the environment, so the guest's command line is constant: the same for every
//! run, and free of anything a learner wrote.

use crate::Language;

/// The exit code a bootstrap uses for "the program did not compile". A program
/// that exits with it itself only mislabels its own failure.
pub const COMPILE_ERROR_EXIT: i32 = 113;

/// The Python bootstrap, as a literal so that `concat!` can end it two ways: with
/// a call of `_eduscale_run()` (a run through `_start`), or with the snapshot
/// step (a pre-initialised run calls `_eduscale_run` itself, see `preinit.rs`).
///
/// `_eduscale_run` reads a one-line header, then what it announces (see
/// [`GuestSpec::frame`]): the program's source, which it compiles; or the source
/// to compile only, whose code object it writes to stdout with `marshal` (and
/// runs nothing); or such a code object, which it runs without compiling. It runs
/// the program as `__main__` from `main.py`, so tracebacks
/// name the learner's file and lines, and ends the process itself with
/// `os._exit`, doing first what CPython's exit would: `SystemExit` to an exit
/// code, an uncaught exception printed (without the bootstrap's frame) and exit
/// 1, `atexit` callbacks, the program's globals cleared (their `__del__` runs, as
/// at CPython's shutdown), the standard streams flushed (120 if stdout cannot be).
/// A syntax error exits with [`COMPILE_ERROR_EXIT`]. A preloaded `random` is
/// reseeded from the run's own WASI randomness, so runs never share a sequence.
macro_rules! python_bootstrap {
    () => {
        r#"
import sys, builtins, os, marshal
builtins.exit = builtins.quit = sys.exit

def _eduscale_exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code if -2**31 <= code < 2**31 else -1
    try:
        sys.stderr.write(str(code) + "\n")
    except BaseException:
        pass
    return 1

def _eduscale_main():
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    head = sys.stdin.buffer.readline()
    if head[:1] == b"m":
        program = marshal.loads(sys.stdin.buffer.read(int(head[1:])))
    else:
        compile_only = head[:1] == b"c"
        n = int(head[1:] if compile_only else head)
        source = sys.stdin.buffer.read(n).decode("utf-8", "replace")
        try:
            program = compile(source, "main.py", "exec")
        except (SyntaxError, ValueError) as e:
            import traceback
            sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))
            return 113
        if compile_only:
            sys.stdout.buffer.write(marshal.dumps(program))
            return 0
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(program, namespace)
        code = 0
    except SystemExit as e:
        code = _eduscale_exit_code(e)
    except BaseException as e:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)
        code = 1
    import atexit
    atexit._run_exitfuncs()
    namespace.clear()
    return code

def _eduscale_run():
    try:
        code = _eduscale_main()
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.__stdout__, sys.stderr, sys.__stderr__):
        try:
            if stream is not None and not getattr(stream, "closed", False):
                stream.flush()
        except BaseException:
            if stream is sys.stdout:
                code = 120
    os._exit(code)

"#
    };
}

/// The end of the initialising run: what every run would otherwise pay for
/// first, then the snapshot point.
///
/// - Preloaded modules: this build compiles the standard library from source on
///   import (no bytecode files), so an import is costly (`dataclasses` ~190 M
///   fuel, `typing` ~85 M, `json` ~35 M); preloaded, it costs a run nothing.
///   `traceback` is the bootstrap's own (~290 M, on every failing run).
/// - One `compile()`: CPython builds the `ast` module's node types on the first
///   call of the builtin (~45 M fuel), and the bootstrap calls it in every run.
/// - `gc.freeze()`: the collector never walks the snapshot's objects again.
/// - Every object the snapshot holds is made immortal (PEP 683): the run lists
///   the addresses of all it can reach (the collector's objects and what they
///   refer to, code objects' constants and names too) and keeps them alive; the
///   host sets each one's reference count to the immortal value before the
///   snapshot is taken (`preinit.rs`). A run then reads those objects without
///   writing their counts, so it dirties far fewer pages of the snapshot: a
///   page written is a copy-on-write fault, and wasmtime resets a slot's
///   dirty pages in place only while they form at most 32 runs (past that it
///   unmaps them, and the next run faults them in again). Measured with
///   `eduscale bench runner --quick`: 6,300-7,000 Python runs/s against
///   1,080-1,460, for 4 MiB more of guest memory.
///
/// Then it prints where `_eduscale_run` lives, and on a second line where the
/// list of objects to make immortal is and its length, and exits with [`SNAPSHOT_EXIT`]
/// without unwinding anything.
macro_rules! python_snapshot {
    () => {
        r#"
import gc
for _eduscale_name in ("atexit", "traceback", "random", "math", "collections", "itertools",
                       "functools", "heapq", "bisect", "string", "re", "operator", "copy",
                       "json", "typing", "dataclasses", "datetime", "fractions", "decimal",
                       "statistics", "enum", "textwrap", "time", "array"):
    __import__(_eduscale_name)
del _eduscale_name
compile("", "main.py", "exec")
gc.collect()
import array
_eduscale_keep = gc.get_objects()
_eduscale_seen = set(map(id, _eduscale_keep))
for _eduscale_object in _eduscale_keep:
    _eduscale_refs = gc.get_referents(_eduscale_object)
    if type(_eduscale_object) is type(_eduscale_run.__code__):
        _eduscale_refs += list(_eduscale_object.co_consts) + [
            _eduscale_object.co_consts, _eduscale_object.co_names,
            _eduscale_object.co_varnames, _eduscale_object.co_freevars,
            _eduscale_object.co_cellvars, _eduscale_object.co_filename,
            _eduscale_object.co_name, _eduscale_object.co_qualname,
            _eduscale_object.co_linetable, _eduscale_object.co_exceptiontable]
    for _eduscale_ref in _eduscale_refs:
        if id(_eduscale_ref) not in _eduscale_seen:
            _eduscale_seen.add(id(_eduscale_ref))
            _eduscale_keep.append(_eduscale_ref)
del _eduscale_object, _eduscale_refs, _eduscale_ref, _eduscale_seen
_eduscale_immortal = array.array("I", map(id, _eduscale_keep))
gc.freeze()
sys.stdout.write("%d\n%d %d\n" % ((id(_eduscale_run),) + _eduscale_immortal.buffer_info()))
sys.stdout.flush()
os._exit(97)
"#
    };
}

/// One guest interpreter.
#[derive(Debug, Clone, Copy)]
pub struct GuestSpec {
    /// The language it runs.
    pub language: Language,
    /// Its file in the guests folder (written by `guests/fetch.sh`).
    pub file: &'static str,
    /// The pinned sha256 of that file; a different file is refused.
    pub sha256: &'static str,
    /// Its argv (argv[0] included) when a run enters through `_start`.
    pub args: &'static [&'static str],
    /// How the header counts the program's length.
    pub length_unit: LengthUnit,
    /// A snapshot to start runs from instead of `_start`, when it can be made.
    pub snapshot: Option<SnapshotRecipe>,
    /// Whether the bootstrap can compile a program without running it, and run
    /// what it compiled ([`GuestSpec::frame_to_compile`],
    /// [`GuestSpec::frame_compiled`]), so that the runs of one program compile
    /// it once (`compiled.rs`).
    pub compiles_apart: bool,
}

/// How a pre-initialised guest is made.
#[derive(Debug, Clone, Copy)]
pub enum SnapshotRecipe {
    /// CPython (`preinit.rs`): `_start` runs with `args` until the guest prints
    /// the address of its entry function object and exits with
    /// [`SNAPSHOT_EXIT`]; that state is the snapshot every run starts from.
    Python {
        /// Argv for the initialising run.
        args: &'static [&'static str],
    },
    /// QuickJS (`preinit_js.rs`): the host makes a context with `std`, evaluates
    /// `bootstrap` in it (which defines the entry `__eduscale_run`), and
    /// snapshots that.
    QuickJs {
        /// The script that prepares every run.
        bootstrap: &'static str,
    },
}

impl SnapshotRecipe {
    /// The recipe as text, for naming its cached snapshot.
    pub fn text(&self) -> String {
        match self {
            SnapshotRecipe::Python { args } => format!("python\0{}", args.join("\0")),
            SnapshotRecipe::QuickJs { bootstrap } => format!("quickjs\0{bootstrap}"),
        }
    }
}

/// The exit code with which an initialising run says "snapshot me now".
pub const SNAPSHOT_EXIT: i32 = 97;

/// Units of the program length in the stdin header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthUnit {
    /// UTF-8 bytes (the bootstrap reads bytes).
    Bytes,
    /// UTF-16 code units (the bootstrap slices a JavaScript string).
    Utf16,
}

/// CPython 3.12.0 (VMware Wasm Labs build, full standard library packed inside).
/// `-S`: no `site` (nothing to find, and it is a third of start-up); `-I`: ignore
/// the environment and the user site; `-B`: no bytecode files (there is no disk).
///
/// Runs start from a snapshot of the interpreter taken once its start-up, the
/// bootstrap and its preloaded imports are done (`python_snapshot!`); `_start` (the same
/// bootstrap, nothing preloaded) is the fallback when no snapshot can be made.
pub const PYTHON: GuestSpec = GuestSpec {
    language: Language::Python,
    file: "python-3.12.0.wasm",
    sha256: "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763",
    args: &[
        "python",
        "-S",
        "-I",
        "-B",
        "-c",
        concat!(python_bootstrap!(), "_eduscale_run()\n"),
    ],
    length_unit: LengthUnit::Bytes,
    snapshot: Some(SnapshotRecipe::Python {
        args: &[
            "python",
            "-S",
            "-I",
            "-B",
            "-c",
            concat!(python_bootstrap!(), python_snapshot!()),
        ],
    }),
    compiles_apart: true,
};

/// The JavaScript bootstrap, a literal so that `concat!` can end it with a call
/// of its entry (a run through `_start`); a pre-initialised run calls the entry
/// itself (see `preinit_js.rs`).
///
/// Prepares what every run shares: `console.error` and `console.warn` (to
/// stderr, which the built-in console lacks), `console.info`/`debug`, a small
/// `process` (`exit`, `stdout.write`, `argv`, `env`) like Node's, and removes
/// `std`, `os` and `bjson`, keeping privately only what it needs. The entry,
/// `__eduscale_run`, removes itself, reads the program and its input from stdin,
/// gives the program `readline()` (next line of stdin, or `null` at the end) and
/// `readAll()` (the rest), refuses a syntax error with [`COMPILE_ERROR_EXIT`],
/// and runs the program.
macro_rules! js_bootstrap {
    () => {
        r#"
(function (std) {
  const exit = std.exit, out = std.out, err = std.err, evalScript = std.evalScript, stdin = std.in;
  globalThis.process = {
    argv: ["node", "main.js"], env: {},
    exit: function (code) { out.flush(); exit(code === undefined ? 0 : code | 0); },
    stdout: { write: function (s) { out.puts(String(s)); return true; } },
    stderr: { write: function (s) { err.puts(String(s)); return true; } },
  };
  const show = function (v) {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.stack ? v.name + ": " + v.message + "\n" + v.stack : String(v);
    if (typeof v === "object" && v !== null) { try { return JSON.stringify(v); } catch (_) { return String(v); } }
    return String(v);
  };
  const toStderr = function () { err.puts(Array.prototype.map.call(arguments, show).join(" ") + "\n"); };
  console.error = toStderr;
  console.warn = toStderr;
  console.info = console.log;
  console.debug = console.log;
  globalThis.__eduscale_run = function () {
    delete globalThis.__eduscale_run;
    const all = stdin.readAsString();
    const eol = all.indexOf("\n");
    const n = parseInt(all.slice(0, eol), 10);
    const source = all.slice(eol + 1, eol + 1 + n);
    const input = all.slice(eol + 1 + n);
    let pos = 0;
    globalThis.readline = function () {
      if (pos >= input.length) return null;
      let end = input.indexOf("\n", pos);
      if (end < 0) end = input.length;
      const line = input.slice(pos, end);
      pos = end + 1;
      return line.endsWith("\r") ? line.slice(0, -1) : line;
    };
    globalThis.readAll = function () { const rest = input.slice(pos); pos = input.length; return rest; };
    try {
      new Function(source);
    } catch (e) {
      if (e instanceof SyntaxError) {
        err.puts("SyntaxError: " + e.message + "\n");
        err.flush();
        exit(113);
      }
    }
    evalScript(source);
  };
})(std);
delete globalThis.std; delete globalThis.os; delete globalThis.bjson;
"#
    };
}

/// QuickJS-NG `qjs` 0.11 (prebuilt for WASI). `--std` gives the bootstrap `std`
/// to read stdin; it removes `std`, `os` and `bjson` before the program runs.
///
/// Runs start from a snapshot of a context in which the bootstrap has already
/// run (`preinit_js.rs`), so a run pays for neither the runtime's start-up nor
/// the bootstrap's parsing; `_start` (the same bootstrap, then its entry) is the
/// fallback when no snapshot can be made.
pub const JAVASCRIPT: GuestSpec = GuestSpec {
    language: Language::JavaScript,
    file: "quickjs-ng-0.11.wasm",
    sha256: "f9742952f9989b1558c4a79bedfb351d6ca33ff22a41e886517cae5196e6d783",
    args: &[
        "qjs",
        "--std",
        "-e",
        concat!(js_bootstrap!(), "__eduscale_run();\n"),
    ],
    length_unit: LengthUnit::Utf16,
    snapshot: Some(SnapshotRecipe::QuickJs {
        bootstrap: js_bootstrap!(),
    }),
    compiles_apart: false,
};

/// Every guest the runner knows.
pub const ALL: [GuestSpec; 2] = [PYTHON, JAVASCRIPT];

impl GuestSpec {
    /// What the guest reads on stdin: the header, the program, then its input.
    pub fn frame(&self, source: &str, stdin: &[u8]) -> Vec<u8> {
        let length = match self.length_unit {
            LengthUnit::Bytes => source.len(),
            LengthUnit::Utf16 => source.encode_utf16().count(),
        };
        framed("", length, source.as_bytes(), stdin)
    }

    /// Stdin for a run that only compiles `source` and writes the compiled
    /// program to stdout (only where [`GuestSpec::compiles_apart`]).
    pub fn frame_to_compile(&self, source: &str) -> Vec<u8> {
        debug_assert!(self.compiles_apart && self.length_unit == LengthUnit::Bytes);
        framed("c", source.len(), source.as_bytes(), b"")
    }

    /// Stdin for a run of a program compiled by a run of
    /// [`GuestSpec::frame_to_compile`]'s, with its input.
    pub fn frame_compiled(&self, compiled: &[u8], stdin: &[u8]) -> Vec<u8> {
        debug_assert!(self.compiles_apart);
        framed("m", compiled.len(), compiled, stdin)
    }
}

/// A header (`mark`, then the length of `body`, then a newline), `body`, `rest`.
fn framed(mark: &str, length: usize, body: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(body.len() + rest.len() + 12);
    framed.extend_from_slice(mark.as_bytes());
    framed.extend_from_slice(length.to_string().as_bytes());
    framed.push(b'\n');
    framed.extend_from_slice(body);
    framed.extend_from_slice(rest);
    framed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_step_exits_with_the_code_the_host_waits_for() {
        assert!(python_snapshot!().contains(&format!("os._exit({SNAPSHOT_EXIT})")));
    }

    #[test]
    fn frame_counts_in_the_guests_units() {
        assert_eq!(PYTHON.frame("é", b"in"), "2\néin".as_bytes());
        assert_eq!(JAVASCRIPT.frame("é😀", b""), "3\né😀".as_bytes());
    }

    #[test]
    fn compiling_frames_are_marked_in_their_header() {
        assert_eq!(PYTHON.frame_to_compile("é"), "c2\né".as_bytes());
        assert_eq!(PYTHON.frame_compiled(b"\xe3\x00", b"in"), b"m2\n\xe3\x00in");
    }
}
