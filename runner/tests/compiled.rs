//! Programs compiled once for all their runs (`wasm/compiled.rs`): a run from the
//! kept code behaves as a run that compiles its source, a source is compiled
//! once however many runs ask at once, and what cannot be kept still runs.

mod support;

use eduscale_runner::wasm::WasmSandbox;
use eduscale_runner::{Language, RunRequest, Verdict};
use support::{compiling_sandbox, run_in, sandbox};

/// A sandbox of the test's own, whose count of compilations no other test moves.
fn own_sandbox() -> WasmSandbox {
    WasmSandbox::load(&support::config()).expect("engine")
}

fn seeded(source: &str, stdin: &str) -> RunRequest {
    let mut request = RunRequest::new(Language::Python, source, stdin);
    request.seed = Some(1);
    request
}

/// A source no other test runs, so that its first run compiles it.
fn fresh(source: &str) -> String {
    format!("{source}\n# {}\n", rand::random::<u64>())
}

#[tokio::test]
async fn runs_from_kept_code_behave_as_runs_that_compile() {
    let programs = [
        ("print('é', 2 ** 100, sorted({3, 1, 2}))", ""),
        ("print(__name__, __doc__)", ""),
        ("\"\"\"The doc.\"\"\"\nprint(__doc__)", ""),
        (
            "name = input()\nprint('hi', name, sum(map(int, input().split())))",
            "Ada\n1 2 3\n",
        ),
        ("def f():\n    raise ValueError('no')\n\n\nf()", ""),
        ("import sys\nprint('a')\nsys.exit(3)", ""),
        ("x = (", ""),
        ("print('a')\n  print('b')", ""),
        ("print('nul\0')", ""),
        (
            "from __future__ import annotations\ndef f(x: Undefined) -> int:\n    return 1\nprint(f.__annotations__)",
            "",
        ),
        (
            "class A:\n    def __init__(self):\n        self.n = 0\n    def __call__(self):\n        self.n += 1\n        return self.n\n\n\ndef counter():\n    a = A()\n    return lambda: a()\n\n\nc = counter()\nc()\nprint(c(), [x * x for x in range(3)], {k: v for k, v in zip('ab', 'cd')})",
            "",
        ),
        (
            "def g(n):\n    yield from range(n)\n    return n\n\n\nprint(sum(g(5)), list(g(2)))",
            "",
        ),
        (
            "import sys\nprint(sys._getframe().f_code.co_filename, sys._getframe().f_lineno)",
            "",
        ),
    ];
    let nested = format!("x = {}{}", "(".repeat(300), ")".repeat(300));
    for (source, stdin) in programs.into_iter().chain([(nested.as_str(), "")]) {
        let source = fresh(source);
        let request = RunRequest::new(Language::Python, &source, stdin);
        let compiling = run_in(compiling_sandbox(), request.clone()).await;
        let first = run_in(sandbox(), request.clone()).await;
        let again = run_in(sandbox(), request).await;
        let seen = |r: &eduscale_runner::Report| {
            (r.verdict, r.exit_code, r.stdout.clone(), r.stderr.clone())
        };
        assert_eq!(seen(&first), seen(&compiling), "{source}");
        assert_eq!(seen(&again), seen(&compiling), "{source}");
    }
}

#[tokio::test]
async fn a_source_is_compiled_once_for_all_its_runs() {
    let source = fresh(&"total = 0\nfor i in range(10):\n    total += i * i\n".repeat(20));
    let source = format!("{source}print(total + int(input()))\n");
    let sandbox = own_sandbox();
    let runs = (0..8).map(|_| run_in(&sandbox, seeded(&source, "7\n")));
    let reports = futures_util::future::join_all(runs).await;
    assert_eq!(sandbox.compilations(Language::Python), 1);
    for report in &reports {
        assert_eq!(
            (report.verdict, report.stdout.as_str()),
            (Verdict::Accepted, "292\n")
        );
    }
    // Same work in every run, whichever compiled it; and less than compiling.
    assert!(reports.iter().all(|r| r.fuel == reports[0].fuel));
    let compiling = run_in(compiling_sandbox(), seeded(&source, "7\n")).await;
    assert!(
        reports[0].fuel * 2 < compiling.fuel,
        "{} fuel from kept code, {} compiling",
        reports[0].fuel,
        compiling.fuel
    );
}

/// Constants folded by the compiler (strings of up to 4,096 characters) make its
/// code larger than the largest kept (1 MiB), from a source within the 64 KiB
/// allowed: the program still runs,
/// compiling itself (the same fuel as a run that always compiles), and the
/// compilation that failed is not tried again.
#[tokio::test]
async fn code_too_big_to_keep_still_runs() {
    let lines: String = (0..400)
        .map(|n| format!("c{n} = '{n:04}' * 1024\n"))
        .collect();
    let source = fresh(&format!("{lines}print(len(c399), c399[:8])"));
    assert!(source.len() < eduscale_runner::queue::MAX_SOURCE_BYTES);
    let sandbox = own_sandbox();
    let compiling = run_in(compiling_sandbox(), seeded(&source, "")).await;
    for _ in 0..2 {
        let report = run_in(&sandbox, seeded(&source, "")).await;
        assert_eq!(
            (report.verdict, report.stdout.as_str(), report.fuel),
            (Verdict::Accepted, "4096 03990399\n", compiling.fuel),
            "{:?}",
            report.stderr
        );
    }
    assert_eq!(sandbox.compilations(Language::Python), 1);
}
