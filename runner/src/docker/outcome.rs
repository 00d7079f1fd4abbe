//! From what a container printed and how it ended to a verdict: no IO here, so
//! every rule is tested on its own.
//!
//! Output is kept up to one cap shared by stdout and stderr, as in the wasm
//! sandbox; the first byte past it ends the run ([`Capture::overflowed`]). The
//! script's [`PROGRAM_STARTS`] line is taken off the front of stdout and marks
//! the moment the program (not the compiler) starts, which decides both the
//! deadline and whether an exit belongs to the compiler or to the program.

use super::languages::PROGRAM_STARTS;
use crate::Verdict;
use crate::wasm::guest::COMPILE_ERROR_EXIT;
use std::time::{Duration, Instant};

/// A container's output, as it arrives.
#[derive(Debug)]
pub struct Capture {
    cap: usize,
    /// The program's stdout, without the script's marker.
    pub stdout: Vec<u8>,
    /// The compiler's messages, then the program's stderr.
    pub stderr: Vec<u8>,
    /// Stdout received before the marker was complete.
    before_start: Vec<u8>,
    /// When the marker arrived: the program's own start.
    pub program_started: Option<Instant>,
    /// Whether something was written past the cap.
    pub overflowed: bool,
}

impl Capture {
    /// Keeps at most `cap` bytes of output.
    pub fn new(cap: usize) -> Capture {
        Capture {
            cap,
            stdout: Vec::new(),
            stderr: Vec::new(),
            before_start: Vec::new(),
            program_started: None,
            overflowed: false,
        }
    }

    /// Takes a piece of stdout that arrived at `now`.
    pub fn stdout(&mut self, bytes: &[u8], now: Instant) {
        if self.program_started.is_some() {
            self.keep(Stream::Stdout, bytes);
            return;
        }
        self.before_start.extend_from_slice(bytes);
        let seen = &self.before_start;
        if seen.len() < PROGRAM_STARTS.len() && PROGRAM_STARTS.starts_with(seen) {
            return;
        }
        self.program_started = Some(now);
        let seen = std::mem::take(&mut self.before_start);
        // The script always writes the marker first; anything else is kept whole
        // rather than guessed at.
        let rest = seen.strip_prefix(PROGRAM_STARTS).unwrap_or(&seen);
        self.keep(Stream::Stdout, rest);
    }

    /// Takes a piece of stderr.
    pub fn stderr(&mut self, bytes: &[u8]) {
        self.keep(Stream::Stderr, bytes);
    }

    fn keep(&mut self, stream: Stream, bytes: &[u8]) {
        let room = self
            .cap
            .saturating_sub(self.stdout.len() + self.stderr.len());
        let take = bytes.len().min(room);
        let sink = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        sink.extend_from_slice(&bytes[..take]);
        if take < bytes.len() {
            self.overflowed = true;
        }
    }
}

enum Stream {
    Stdout,
    Stderr,
}

/// How a container's run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The container exited by itself.
    Exited {
        /// Its exit code (128 + n when killed by signal n).
        code: i64,
        /// Whether the kernel's OOM killer ended it.
        oom_killed: bool,
    },
    /// Its deadline passed (the compile budget, or the wall limit once the
    /// program started) and it was killed.
    TimedOut,
    /// It wrote past the output cap and was killed.
    OutputLimit,
}

/// The verdict, exit code and detail of a run, or, when the toolchain itself
/// failed (not the program), why, for a host error.
pub fn classify(
    end: End,
    program_started: bool,
    compile_budget: Duration,
) -> Result<(Verdict, Option<i32>, Option<String>), String> {
    let compile_error = i64::from(COMPILE_ERROR_EXIT);
    Ok(match end {
        End::OutputLimit => (Verdict::OutputLimit, None, None),
        End::TimedOut if program_started => (
            Verdict::TimeLimit,
            None,
            Some("wall-clock limit".to_owned()),
        ),
        End::TimedOut => (
            Verdict::CompileError,
            None,
            Some(format!(
                "compiling took longer than {} s",
                compile_budget.as_secs()
            )),
        ),
        End::Exited {
            oom_killed: true, ..
        } => {
            let detail = if program_started {
                "killed for using more than its memory"
            } else {
                "the compiler ran out of memory"
            };
            (Verdict::MemoryLimit, None, Some(detail.to_owned()))
        }
        End::Exited { code: 0, .. } if program_started => (Verdict::Accepted, Some(0), None),
        End::Exited { code, .. } if program_started => match signal(code) {
            Some(signal) => (Verdict::RuntimeError, None, Some(signal)),
            None => (Verdict::RuntimeError, Some(code as i32), None),
        },
        End::Exited { code, .. } if code == compile_error => {
            (Verdict::CompileError, Some(COMPILE_ERROR_EXIT), None)
        }
        End::Exited { code, .. } => {
            return Err(format!(
                "the toolchain's script failed before compiling (exit code {code})"
            ));
        }
    })
}

/// "killed by signal …" for an exit code a shell gives a program killed by a
/// signal (128 + its number).
fn signal(code: i64) -> Option<String> {
    let number = code.checked_sub(128).filter(|n| (1..=64).contains(n))?;
    let name = match number {
        4 => " (SIGILL, illegal instruction)",
        6 => " (SIGABRT, aborted)",
        8 => " (SIGFPE, arithmetic error such as division by zero)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV, invalid memory access or stack overflow)",
        _ => "",
    };
    Some(format!("killed by signal {number}{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_secs(30);

    #[test]
    fn the_marker_is_stripped_even_when_split_across_pieces() {
        let now = Instant::now();
        let mut capture = Capture::new(100);
        capture.stdout(&PROGRAM_STARTS[..5], now);
        assert_eq!(capture.program_started, None);
        let mut rest = PROGRAM_STARTS[5..].to_vec();
        rest.extend_from_slice(b"hi\n");
        capture.stdout(&rest, now);
        assert_eq!(capture.program_started, Some(now));
        assert_eq!(capture.stdout, b"hi\n");
        capture.stdout(PROGRAM_STARTS, now);
        assert_eq!(
            capture.stdout.len(),
            3 + PROGRAM_STARTS.len(),
            "only the first counts"
        );
    }

    #[test]
    fn output_stops_at_the_cap_across_both_streams() {
        let mut capture = Capture::new(5);
        capture.stderr(b"ab");
        capture.stdout(PROGRAM_STARTS, Instant::now());
        capture.stdout(b"cde", Instant::now());
        assert!(!capture.overflowed);
        capture.stdout(b"f", Instant::now());
        assert!(capture.overflowed);
        assert_eq!(
            (capture.stdout.as_slice(), capture.stderr.as_slice()),
            (&b"cde"[..], &b"ab"[..])
        );
    }

    #[test]
    fn exits_before_the_program_starts_belong_to_the_compiler() {
        let compile = End::Exited {
            code: 113,
            oom_killed: false,
        };
        assert_eq!(
            classify(compile, false, BUDGET),
            Ok((Verdict::CompileError, Some(113), None))
        );
        let own = classify(compile, true, BUDGET).expect("a verdict");
        assert_eq!((own.0, own.1), (Verdict::RuntimeError, Some(113)));
        assert!(
            classify(
                End::Exited {
                    code: 127,
                    oom_killed: false
                },
                false,
                BUDGET
            )
            .is_err()
        );
        let slow = classify(End::TimedOut, false, BUDGET).expect("a verdict");
        assert_eq!(slow.0, Verdict::CompileError);
    }

    #[test]
    fn signals_and_oom_get_words() {
        let segv = classify(
            End::Exited {
                code: 139,
                oom_killed: false,
            },
            true,
            BUDGET,
        );
        let (verdict, code, detail) = segv.expect("a verdict");
        assert_eq!((verdict, code), (Verdict::RuntimeError, None));
        assert!(detail.expect("detail").contains("SIGSEGV"));
        let oom = classify(
            End::Exited {
                code: 137,
                oom_killed: true,
            },
            true,
            BUDGET,
        );
        assert_eq!(oom.expect("a verdict").0, Verdict::MemoryLimit);
        let timed_out = classify(End::TimedOut, true, BUDGET).expect("a verdict");
        assert_eq!(timed_out.0, Verdict::TimeLimit);
    }
}
