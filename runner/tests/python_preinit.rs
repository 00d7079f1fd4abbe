//! The pre-initialised CPython: runs start from a snapshot of a started
//! interpreter, cost a fraction of a cold start, and behave as runs that start
//! it from scratch (verdicts, exit codes, tracebacks, limits), sharing nothing.

mod support;

use eduscale_runner::{Language, Limits, RunRequest, Verdict};
use std::time::Duration;
use support::{cold_sandbox, run, run_in, sandbox};

fn python(source: &str) -> RunRequest {
    RunRequest::new(Language::Python, source, "")
}

#[tokio::test]
async fn hello_runs_from_the_snapshot() {
    assert!(
        sandbox().is_preinitialized(Language::Python),
        "no snapshot: see the warning above"
    );
    let report = run(Language::Python, "print('hello')", "").await;
    assert_eq!(report.verdict, Verdict::Accepted, "{report:?}");
    assert_eq!(
        (report.stdout.as_str(), report.exit_code),
        ("hello\n", Some(0))
    );
}

#[tokio::test]
async fn hello_costs_a_fraction_of_a_cold_start() {
    assert!(!cold_sandbox().is_preinitialized(Language::Python));
    let cold = run_in(cold_sandbox(), python("print('hello')")).await;
    let warm = run_in(sandbox(), python("print('hello')")).await;
    assert_eq!(
        (cold.stdout.as_str(), warm.stdout.as_str()),
        ("hello\n", "hello\n")
    );
    eprintln!(
        "hello: cold {} fuel, {} us; pre-initialised {} fuel, {} us",
        cold.fuel, cold.wall_us, warm.fuel, warm.wall_us
    );
    assert!(
        warm.fuel * 20 < cold.fuel,
        "{} fuel vs {} cold",
        warm.fuel,
        cold.fuel
    );
}

#[tokio::test]
async fn preloaded_modules_cost_a_run_almost_nothing() {
    let cold = run_in(
        cold_sandbox(),
        python("import json, dataclasses\nprint(json.dumps([1]))"),
    )
    .await;
    let warm = run_in(
        sandbox(),
        python("import json, dataclasses\nprint(json.dumps([1]))"),
    )
    .await;
    assert_eq!(
        (cold.stdout.as_str(), warm.stdout.as_str()),
        ("[1]\n", "[1]\n")
    );
    assert!(
        warm.fuel * 100 < cold.fuel,
        "{} fuel vs {} cold",
        warm.fuel,
        cold.fuel
    );
}

#[tokio::test]
async fn stdin_reaches_the_program() {
    let source = "name = input()\nprint('hi', name, sum(map(int, input().split())))";
    let report = run(Language::Python, source, "Ada\n1 2 3\n").await;
    assert_eq!(
        (report.verdict, report.stdout.as_str()),
        (Verdict::Accepted, "hi Ada 6\n")
    );
}

#[tokio::test]
async fn exit_codes_are_the_programs() {
    let cases = [
        (
            "import sys\nprint('a')\nsys.exit(3)",
            Verdict::RuntimeError,
            Some(3),
            "a\n",
            "",
        ),
        (
            "print('a', end='')\nexit(0)",
            Verdict::Accepted,
            Some(0),
            "a",
            "",
        ),
        ("quit()", Verdict::Accepted, Some(0), "", ""),
        (
            "raise SystemExit('bye')",
            Verdict::RuntimeError,
            Some(1),
            "",
            "bye\n",
        ),
        (
            "import sys\nsys.exit(None)",
            Verdict::Accepted,
            Some(0),
            "",
            "",
        ),
    ];
    for (source, verdict, code, stdout, stderr) in cases {
        let report = run(Language::Python, source, "").await;
        assert_eq!(
            (
                report.verdict,
                report.exit_code,
                report.stdout.as_str(),
                report.stderr.as_str()
            ),
            (verdict, code, stdout, stderr),
            "{source}"
        );
    }
}

#[tokio::test]
async fn an_uncaught_exception_exits_1_with_the_learners_traceback() {
    let report = run(
        Language::Python,
        "print('before')\nx = {}\nx['missing']",
        "",
    )
    .await;
    assert_eq!(
        (report.verdict, report.exit_code),
        (Verdict::RuntimeError, Some(1))
    );
    assert_eq!(report.stdout, "before\n");
    assert!(
        report
            .stderr
            .starts_with("Traceback (most recent call last):\n"),
        "{}",
        report.stderr
    );
    assert!(
        report
            .stderr
            .contains("File \"main.py\", line 3, in <module>"),
        "{}",
        report.stderr
    );
    assert!(
        report.stderr.ends_with("KeyError: 'missing'\n"),
        "{}",
        report.stderr
    );
    assert!(
        !report.stderr.contains("eduscale"),
        "bootstrap frame shown: {}",
        report.stderr
    );
}

#[tokio::test]
async fn a_syntax_error_is_a_compile_error() {
    let report = run(Language::Python, "print('fine')\nif True print(1)", "").await;
    assert_eq!(
        (report.verdict, report.exit_code),
        (Verdict::CompileError, Some(113))
    );
    assert_eq!(report.stdout, "");
    assert!(
        report.stderr.contains("File \"main.py\", line 2"),
        "{}",
        report.stderr
    );
    assert!(report.stderr.contains("SyntaxError"), "{}", report.stderr);
}

#[tokio::test]
async fn runs_share_no_state() {
    let first = "import builtins, math, sys\nleaked = 1\nbuiltins.leaked = 1\nmath.leaked = 1\nsys.modules['leaked'] = math\nprint('set')";
    assert_eq!(run(Language::Python, first, "").await.stdout, "set\n");
    let second = "import builtins, math, sys\nprint('leaked' in globals(), hasattr(builtins, 'leaked'), hasattr(math, 'leaked'), 'leaked' in sys.modules)";
    assert_eq!(
        run(Language::Python, second, "").await.stdout,
        "False False False False\n"
    );
}

#[tokio::test]
async fn random_differs_between_unseeded_runs_and_repeats_with_a_seed() {
    let source = "import random\nprint(random.random(), random.randrange(10**9))";
    let a = run(Language::Python, source, "").await.stdout;
    let b = run(Language::Python, source, "").await.stdout;
    assert_ne!(a, b, "two unseeded runs drew the same numbers");

    let seeded = RunRequest {
        seed: Some(7),
        ..python(source)
    };
    let c = run_in(sandbox(), seeded.clone()).await.stdout;
    let d = run_in(sandbox(), seeded).await.stdout;
    assert_eq!(c, d, "a seeded run is not reproducible");
}

#[tokio::test]
async fn deep_recursion_and_memory_exhaustion_are_python_errors() {
    let recursion = "def f(n):\n    return f(n + 1)\nf(0)";
    let report = run(Language::Python, recursion, "").await;
    assert_eq!(
        (report.verdict, report.exit_code),
        (Verdict::RuntimeError, Some(1)),
        "{report:?}"
    );
    assert!(
        report.stderr.contains("RecursionError"),
        "{}",
        report.stderr
    );

    let memory = "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 24))";
    let request = RunRequest {
        limits: Limits {
            memory_bytes: 128 << 20,
            ..Limits::default()
        },
        ..python(memory)
    };
    let report = run_in(sandbox(), request).await;
    assert_eq!(report.verdict, Verdict::MemoryLimit, "{report:?}");
    assert!(report.stderr.contains("MemoryError"), "{}", report.stderr);
}

#[tokio::test]
async fn fuel_wall_clock_and_output_limits_still_apply() {
    let spin = RunRequest {
        limits: Limits {
            fuel: 50_000_000,
            ..Limits::default()
        },
        ..python("while True:\n    pass")
    };
    let report = run_in(sandbox(), spin).await;
    assert_eq!(report.verdict, Verdict::TimeLimit, "{report:?}");
    assert_eq!(report.detail.as_deref(), Some("fuel exhausted"));

    let sleep = RunRequest {
        limits: Limits {
            wall: Duration::from_millis(300),
            ..Limits::default()
        },
        ..python("import time\ntime.sleep(5)")
    };
    let report = run_in(sandbox(), sleep).await;
    assert_eq!(report.verdict, Verdict::TimeLimit, "{report:?}");
    assert!(report.wall_us < 2_000_000, "{report:?}");

    let flood = RunRequest {
        limits: Limits {
            output_bytes: 10_000,
            ..Limits::default()
        },
        ..python("while True:\n    print('x' * 100)")
    };
    let report = run_in(sandbox(), flood).await;
    assert_eq!(report.verdict, Verdict::OutputLimit, "{report:?}");
}

#[tokio::test]
async fn atexit_and_finalizers_run_and_buffered_output_is_flushed_on_exit() {
    let source = "import atexit, io, sys\natexit.register(lambda: print('bye'))\nprint('hi')\nsys.stdout = io.StringIO()\nprint('lost')\nsys.exit(2)";
    let report = run(Language::Python, source, "").await;
    assert_eq!(
        (report.exit_code, report.stdout.as_str()),
        (Some(2), "hi\n"),
        "{report:?}"
    );
    let source = "import atexit\natexit.register(lambda: print('bye'))\nprint('hi', end=' ')";
    assert_eq!(run(Language::Python, source, "").await.stdout, "hi bye\n");
    let source = "class Noisy:\n    def __del__(self):\n        print('deleted')\nkept = Noisy()\nprint('end')";
    assert_eq!(
        run(Language::Python, source, "").await.stdout,
        "end\ndeleted\n"
    );
}

/// The documented difference: runs share the snapshot's string-hash secret, so
/// hashes (and set order over strings) are the same in every run.
#[tokio::test]
async fn runs_share_the_snapshots_hash_secret() {
    let source = "print(hash('eduscale'), list({'a', 'b', 'c', 'd', 'e'}))";
    let a = run(Language::Python, source, "").await.stdout;
    let b = run(Language::Python, source, "").await.stdout;
    assert_eq!(a, b);
}

/// The same programs through `_start` and through the snapshot: the learner
/// cannot tell the two apart.
#[tokio::test]
async fn the_snapshot_behaves_as_a_cold_start() {
    let programs = [
        ("print('é', 2 ** 100, sorted({3, 1, 2}))", ""),
        (
            "import sys\nprint(sys.argv, sys.flags.no_site, sys.flags.isolated, sys.flags.dont_write_bytecode)",
            "",
        ),
        (
            "import sys\nprint(sys.stdout.encoding, sys.getrecursionlimit(), __name__)",
            "",
        ),
        (
            "import collections, re, json\nprint(collections.Counter('abca').most_common(1), re.sub('a', 'b', 'aa'), json.dumps([1]))",
            "",
        ),
        (
            "print(input()[::-1])\nprint(len(open(0).read()))",
            "abc\nrest\n",
        ),
        ("def f():\n    raise ValueError('no')\nf()", ""),
        ("import sys\nsys.exit('message')", ""),
        ("x = (", ""),
        // Deep recursion in C (the repr of a nested list, the json decoder):
        // the snapshot's C stack starts lower, and must still end in a
        // RecursionError, not a crash.
        (
            "l = []\nfor _ in range(100000):\n    l = [l]\nprint(len(repr(l)))",
            "",
        ),
        ("import json\njson.loads('[' * 100000 + ']' * 100000)", ""),
        ("def f(n):\n    return f(n + 1)\nf(0)", ""),
    ];
    for (source, stdin) in programs {
        let request = RunRequest::new(Language::Python, source, stdin);
        let cold = run_in(cold_sandbox(), request.clone()).await;
        let warm = run_in(sandbox(), request).await;
        assert_eq!(
            (warm.verdict, warm.exit_code, &warm.stdout, &warm.stderr),
            (cold.verdict, cold.exit_code, &cold.stdout, &cold.stderr),
            "{source}"
        );
    }
}
