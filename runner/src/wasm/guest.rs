//! The guest interpreters: which file, which hash, how a program reaches them.
//!
//! Every guest gets the learner's program on stdin, behind a one-line header with
//! its length, and the program's own stdin after it. Nothing goes through argv or
//! the environment, so the guest's command line is constant: the same for every
//! run, and free of anything a learner wrote.

use crate::Language;

/// The exit code a bootstrap uses for "the program did not compile". A program
/// that exits with it itself only mislabels its own failure.
pub const COMPILE_ERROR_EXIT: i32 = 113;

/// One guest interpreter.
#[derive(Debug, Clone, Copy)]
pub struct GuestSpec {
    /// The language it runs.
    pub language: Language,
    /// Its file in the guests folder (written by `guests/fetch.sh`).
    pub file: &'static str,
    /// The pinned sha256 of that file; a different file is refused.
    pub sha256: &'static str,
    /// Its argv (argv[0] included).
    pub args: &'static [&'static str],
    /// How the header counts the program's length.
    pub length_unit: LengthUnit,
}

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
pub const PYTHON: GuestSpec = GuestSpec {
    language: Language::Python,
    file: "python-3.12.0.wasm",
    sha256: "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763",
    args: &["python", "-S", "-I", "-B", "-c", PYTHON_BOOTSTRAP],
    length_unit: LengthUnit::Bytes,
};

/// QuickJS-NG `qjs` 0.11 (prebuilt for WASI). `--std` gives the bootstrap `std`
/// to read stdin; it removes `std`, `os` and `bjson` before the program runs.
pub const JAVASCRIPT: GuestSpec = GuestSpec {
    language: Language::JavaScript,
    file: "quickjs-ng-0.11.wasm",
    sha256: "f9742952f9989b1558c4a79bedfb351d6ca33ff22a41e886517cae5196e6d783",
    args: &["qjs", "--std", "-e", JS_BOOTSTRAP],
    length_unit: LengthUnit::Utf16,
};

/// Every guest the runner knows.
pub const ALL: [GuestSpec; 2] = [PYTHON, JAVASCRIPT];

/// Runs the program as `__main__` from `main.py`, so tracebacks name the learner's
/// file and lines; a syntax error exits with [`COMPILE_ERROR_EXIT`].
const PYTHON_BOOTSTRAP: &str = r#"
import sys, builtins
def _eduscale_load():
    n = int(sys.stdin.buffer.readline())
    source = sys.stdin.buffer.read(n).decode("utf-8", "replace")
    try:
        return compile(source, "main.py", "exec")
    except (SyntaxError, ValueError) as e:
        import traceback
        sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))
        sys.stderr.flush()
        raise SystemExit(113)
_eduscale_code = _eduscale_load()
builtins.exit = builtins.quit = sys.exit
_eduscale_main = {"__name__": "__main__", "__builtins__": builtins}
del _eduscale_load
try:
    exec(_eduscale_code, _eduscale_main)
except SystemExit:
    raise
except BaseException as e:
    import traceback
    traceback.print_exception(type(e), e, e.__traceback__.tb_next)
    sys.stderr.flush()
    sys.exit(1)
"#;

/// Gives the program `readline()` (next line of stdin, or `null` at the end),
/// `readAll()` (the rest of stdin), `console.log` (built in), `print`, and a small
/// `process` (`exit`, `stdout.write`, `argv`, `env`) like Node's.
const JS_BOOTSTRAP: &str = r#"
(function () {
  const all = std.in.readAsString();
  const eol = all.indexOf("\n");
  const n = parseInt(all.slice(0, eol), 10);
  const source = all.slice(eol + 1, eol + 1 + n);
  const input = all.slice(eol + 1 + n);
  let pos = 0;
  const exit = std.exit, out = std.out, err = std.err, evalScript = std.evalScript;
  globalThis.readline = function () {
    if (pos >= input.length) return null;
    let end = input.indexOf("\n", pos);
    if (end < 0) end = input.length;
    const line = input.slice(pos, end);
    pos = end + 1;
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  };
  globalThis.readAll = function () { const rest = input.slice(pos); pos = input.length; return rest; };
  globalThis.process = {
    argv: ["node", "main.js"], env: {},
    exit: function (code) { out.flush(); exit(code === undefined ? 0 : code | 0); },
    stdout: { write: function (s) { out.puts(String(s)); return true; } },
    stderr: { write: function (s) { err.puts(String(s)); return true; } },
  };
  delete globalThis.std; delete globalThis.os; delete globalThis.bjson;
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
})();
"#;

impl GuestSpec {
    /// What the guest reads on stdin: the header, the program, then its input.
    pub fn frame(&self, source: &str, stdin: &[u8]) -> Vec<u8> {
        let length = match self.length_unit {
            LengthUnit::Bytes => source.len(),
            LengthUnit::Utf16 => source.encode_utf16().count(),
        };
        let mut framed = Vec::with_capacity(source.len() + stdin.len() + 12);
        framed.extend_from_slice(length.to_string().as_bytes());
        framed.push(b'\n');
        framed.extend_from_slice(source.as_bytes());
        framed.extend_from_slice(stdin);
        framed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_in_the_guests_units() {
        assert_eq!(PYTHON.frame("é", b"in"), "2\néin".as_bytes());
        assert_eq!(JAVASCRIPT.frame("é😀", b""), "3\né😀".as_bytes());
    }
}
