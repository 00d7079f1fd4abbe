//! The compiled languages' toolchains: which image, which file, how to compile
//! and run, and the one shell script every container runs.
//!
//! A container's command is fixed when the pool creates it, before anyone has
//! asked for a run, so it cannot hold the learner's program: the script reads it
//! from stdin, framed as for the wasm guests (a line with the source's length in
//! bytes, the source, then the program's own stdin), writes it into the tmpfs,
//! compiles it and `exec`s the result on the rest of stdin.
//!
//! The script tells the host where compiling ends and the program begins by
//! writing [`PROGRAM_STARTS`] as the very first bytes of stdout (the compiler's
//! own output goes to a file, so nothing can come before it). From that moment
//! the run's wall limit applies; before it, the compile budget. A program cannot
//! fake the line to gain time: only the first one counts, and it is already out
//! when the program starts.

use crate::Language;
use crate::wasm::guest::COMPILE_ERROR_EXIT;

/// What the script writes on stdout between compiling and running; the host
/// strips it from the program's output.
pub const PROGRAM_STARTS: &[u8] = b"\x1eeduscale: compiled, running\n";

/// How much of a compiler's messages the script passes on (their end is cut).
const COMPILER_MESSAGE_BYTES: usize = 16 << 10;

/// One language's toolchain inside its image.
#[derive(Debug, Clone, Copy)]
pub struct Toolchain {
    /// The language.
    pub language: Language,
    /// The image used unless the configuration names another.
    pub default_image: &'static str,
    /// The file the source is written to, in `/sandbox`.
    file: &'static str,
    /// Shell variables the compiler needs (caches and homes in the tmpfs).
    env: &'static str,
    /// The compile command, run in `/sandbox`.
    compile: &'static str,
    /// The command that runs the compiled program.
    run: &'static str,
}

/// Every language the Docker sandbox runs, in the pickers' order.
pub const ALL: [Toolchain; 5] = [
    Toolchain {
        language: Language::C,
        default_image: "gcc:14",
        file: "main.c",
        env: "",
        compile: "gcc -O2 -pipe -std=gnu17 -o main main.c -lm",
        run: "./main",
    },
    Toolchain {
        language: Language::Cpp,
        default_image: "gcc:14",
        file: "main.cpp",
        env: "",
        compile: "g++ -O2 -pipe -std=gnu++20 -o main main.cpp",
        run: "./main",
    },
    Toolchain {
        language: Language::Rust,
        default_image: "rust:1-slim",
        file: "main.rs",
        env: "",
        compile: "rustc --edition 2021 -O -C debuginfo=0 -o main main.rs",
        run: "./main",
    },
    Toolchain {
        language: Language::Go,
        default_image: "golang:1",
        file: "main.go",
        // A fresh container has an empty build cache, so the first build
        // compiles the runtime too: the reason the compile budget is generous.
        env: "export GOCACHE=/sandbox/.cache/go GOPATH=/sandbox/go GOTOOLCHAIN=local CGO_ENABLED=0",
        compile: "go build -trimpath -o main main.go",
        run: "./main",
    },
    Toolchain {
        language: Language::Java,
        default_image: "eclipse-temurin:21",
        // javac wants a public class in a file of its name: programs declare `Main`.
        file: "Main.java",
        env: "",
        compile: "javac -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -J-XX:-UsePerfData -encoding UTF-8 -d . Main.java",
        run: "java -XX:+UseSerialGC -XX:-UsePerfData -XX:MaxRAMPercentage=75 -Xss64m -Djava.io.tmpdir=/sandbox -cp . Main",
    },
];

/// The toolchain of `language`, if the Docker sandbox runs it.
pub fn toolchain(language: Language) -> Option<&'static Toolchain> {
    ALL.iter().find(|t| t.language == language)
}

impl Toolchain {
    /// The script the container runs (`sh -c`). The same for every run of the
    /// language: nothing in it comes from a learner.
    pub fn script(&self) -> String {
        format!(
            r#"set -u
export HOME=/sandbox TMPDIR=/sandbox
{env}
cd /sandbox || exit 112
IFS= read -r length || exit 112
head -c "$length" > {file}
if ! {compile} > compile.log 2>&1; then
  tail -c {message} compile.log >&2
  exit {compile_error}
fi
rm -f compile.log
ulimit -s 65536 2>/dev/null
printf '{starts}'
exec {run}
"#,
            env = self.env,
            file = self.file,
            compile = self.compile,
            message = COMPILER_MESSAGE_BYTES,
            compile_error = COMPILE_ERROR_EXIT,
            starts = printf_escaped(PROGRAM_STARTS),
            run = self.run,
        )
    }
}

/// What the container reads on stdin: the header, the program, then its input.
pub fn frame(source: &str, stdin: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(source.len() + stdin.len() + 12);
    framed.extend_from_slice(source.len().to_string().as_bytes());
    framed.push(b'\n');
    framed.extend_from_slice(source.as_bytes());
    framed.extend_from_slice(stdin);
    framed
}

/// `bytes` as a `printf` format that prints exactly them (octal escapes for
/// everything but letters, digits, spaces and `:,`).
fn printf_escaped(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' | b':' | b',' => (b as char).to_string(),
            _ => format!("\\{b:03o}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_bytes() {
        assert_eq!(frame("é", b"in"), "2\néin".as_bytes());
    }

    #[test]
    fn the_script_prints_the_marker_exactly() {
        assert_eq!(
            printf_escaped(PROGRAM_STARTS),
            "\\036eduscale: compiled, running\\012"
        );
    }

    #[test]
    fn every_docker_language_has_one_toolchain() {
        for language in Language::ALL {
            let docker = language.backend() == crate::Backend::Docker;
            assert_eq!(toolchain(language).is_some(), docker, "{language}");
        }
    }
}
