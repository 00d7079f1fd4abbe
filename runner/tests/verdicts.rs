//! Every verdict, in each WASM language, through the real guests.

mod support;

use eduscale_runner::{Language, Limits, RunRequest, Sandbox, Verdict};
use std::time::Duration;
use support::{run, sandbox};

fn tight() -> Limits {
    Limits {
        wall: Duration::from_secs(2),
        fuel: 3_000_000_000,
        memory_bytes: 64 << 20,
        output_bytes: 64 << 10,
    }
}

async fn run_with(language: Language, source: &str, stdin: &str) -> eduscale_runner::Report {
    let mut request = RunRequest::new(language, source, stdin);
    request.limits = tight();
    sandbox().run(&request).await.expect("host")
}

#[tokio::test]
async fn python_reads_stdin_and_is_accepted() {
    let report = run(
        Language::Python,
        "name = input()\nprint(f'hello {name}!')",
        "Ada\n",
    )
    .await;
    assert_eq!(report.verdict, Verdict::Accepted, "{report:?}");
    assert_eq!(report.stdout, "hello Ada!\n");
    assert_eq!(report.exit_code, Some(0));
    assert!(report.fuel > 0 && report.peak_memory_bytes > 0 && report.wall_us > 0);
}

#[tokio::test]
async fn javascript_reads_stdin_and_is_accepted() {
    let source = "const n = Number(readline());\nconsole.log(n * 2, readAll().trim());";
    let report = run(Language::JavaScript, source, "21\nrest of it\n").await;
    assert_eq!(report.verdict, Verdict::Accepted, "{report:?}");
    assert_eq!(report.stdout, "42 rest of it\n");
}

#[tokio::test]
async fn javascript_console_error_and_warn_go_to_stderr() {
    let source =
        "console.error('bad', 42, {a: 1});\nconsole.warn('careful');\nconsole.info('fyi');";
    let report = run(Language::JavaScript, source, "").await;
    assert_eq!(report.verdict, Verdict::Accepted, "{report:?}");
    assert_eq!(report.stderr, "bad 42 {\"a\":1}\ncareful\n");
    assert_eq!(report.stdout, "fyi\n");
}

#[tokio::test]
async fn unicode_source_and_input_survive_the_framing() {
    let report = run(Language::Python, "print('é😀', input())", "ñ\n").await;
    assert_eq!(report.stdout, "é😀 ñ\n", "{report:?}");
    let report = run(
        Language::JavaScript,
        "console.log('é😀', readline())",
        "ñ\n",
    )
    .await;
    assert_eq!(report.stdout, "é😀 ñ\n", "{report:?}");
}

#[tokio::test]
async fn runtime_errors_carry_the_exit_code_and_the_traceback() {
    let report = run(Language::Python, "x = 1\nraise ValueError('boom')", "").await;
    assert_eq!(report.verdict, Verdict::RuntimeError);
    assert_eq!(report.exit_code, Some(1));
    assert!(
        report.stderr.contains("File \"main.py\", line 2"),
        "{}",
        report.stderr
    );
    assert!(report.stderr.contains("ValueError: boom"));
    assert!(
        !report.stderr.contains("<string>"),
        "the bootstrap's frame is hidden: {}",
        report.stderr
    );

    let report = run(
        Language::Python,
        "import sys\nprint('partial')\nsys.exit(3)",
        "",
    )
    .await;
    assert_eq!(
        (report.verdict, report.exit_code),
        (Verdict::RuntimeError, Some(3))
    );
    assert_eq!(report.stdout, "partial\n", "output before the exit is kept");

    let report = run(Language::JavaScript, "throw new TypeError('nope')", "").await;
    assert_eq!(report.verdict, Verdict::RuntimeError);
    assert!(report.stderr.contains("nope"), "{}", report.stderr);

    let report = run(
        Language::JavaScript,
        "console.log('a'); process.exit(4)",
        "",
    )
    .await;
    assert_eq!(
        (report.verdict, report.exit_code),
        (Verdict::RuntimeError, Some(4))
    );
    assert_eq!(report.stdout, "a\n");
}

#[tokio::test]
async fn exiting_with_zero_is_accepted() {
    let report = run(Language::Python, "print('ok')\nexit(0)", "").await;
    assert_eq!(
        (report.verdict, report.stdout.as_str()),
        (Verdict::Accepted, "ok\n")
    );
    let report = run(
        Language::JavaScript,
        "console.log('ok'); process.exit(0)",
        "",
    )
    .await;
    assert_eq!(
        (report.verdict, report.stdout.as_str()),
        (Verdict::Accepted, "ok\n")
    );
}

#[tokio::test]
async fn syntax_errors_are_compile_errors() {
    let report = run(Language::Python, "print('a'\n", "").await;
    assert_eq!(report.verdict, Verdict::CompileError, "{report:?}");
    assert!(report.stderr.contains("SyntaxError"));
    let report = run(Language::JavaScript, "let = = 1;", "").await;
    assert_eq!(report.verdict, Verdict::CompileError, "{report:?}");
    assert!(report.stderr.contains("SyntaxError"));
}

#[tokio::test]
async fn busy_loops_run_out_of_fuel() {
    for (language, source) in [
        (Language::Python, "while True: pass"),
        (Language::JavaScript, "for (;;) {}"),
    ] {
        let report = run_with(language, source, "").await;
        assert_eq!(report.verdict, Verdict::TimeLimit, "{language}: {report:?}");
        assert_eq!(report.detail.as_deref(), Some("fuel exhausted"));
        assert!(report.fuel >= tight().fuel - 1_000_000);
    }
}

#[tokio::test]
async fn a_sleeping_program_is_stopped_at_the_wall_clock_limit() {
    let report = run_with(Language::Python, "import time\ntime.sleep(60)", "").await;
    assert_eq!(report.verdict, Verdict::TimeLimit, "{report:?}");
    assert!(
        report.wall_us < 3_000_000,
        "stopped near the 2 s limit: {report:?}"
    );
}

#[tokio::test]
async fn the_wall_clock_limit_holds_even_with_fuel_to_spare() {
    let mut request = RunRequest::new(Language::JavaScript, "for (;;) {}", "");
    request.limits = Limits {
        wall: Duration::from_millis(300),
        fuel: u64::MAX / 2,
        ..tight()
    };
    let report = sandbox().run(&request).await.expect("host");
    assert_eq!(report.verdict, Verdict::TimeLimit, "{report:?}");
    assert_eq!(report.detail.as_deref(), Some("wall-clock limit"));
    assert!(report.wall_us < 1_000_000, "{report:?}");
}

#[tokio::test]
async fn growing_past_the_memory_limit_is_a_memory_limit() {
    let python = "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))";
    let javascript = "const a = [];\nfor (;;) a.push(new Array(100000).fill(1.5));";
    for (language, source) in [
        (Language::Python, python),
        (Language::JavaScript, javascript),
    ] {
        let report = run_with(language, source, "").await;
        assert_eq!(
            report.verdict,
            Verdict::MemoryLimit,
            "{language}: {report:?}"
        );
        assert!(
            report.peak_memory_bytes <= tight().memory_bytes,
            "{report:?}"
        );
    }
}

#[tokio::test]
async fn flooding_output_is_an_output_limit_and_keeps_what_fits() {
    let python = "while True:\n    print('x' * 100)";
    let javascript = "for (;;) console.log('x'.repeat(100));";
    for (language, source) in [
        (Language::Python, python),
        (Language::JavaScript, javascript),
    ] {
        let report = run_with(language, source, "").await;
        assert_eq!(
            report.verdict,
            Verdict::OutputLimit,
            "{language}: {report:?}"
        );
        assert!(report.stdout.len() <= tight().output_bytes);
        assert!(report.stdout.starts_with("xxxx"));
        assert!(
            report.wall_us < 1_000_000,
            "stopped at once, not at the deadline: {report:?}"
        );
    }
}

#[tokio::test]
async fn each_run_starts_from_a_fresh_instance() {
    let python = "import sys\nx = globals().get('seen', 0)\nseen = 1\nsys.modules.setdefault('marker', 1)\nprint(x)";
    for _ in 0..2 {
        assert_eq!(run(Language::Python, python, "").await.stdout, "0\n");
    }
    let javascript = "console.log(typeof globalThis.seen); globalThis.seen = 1;";
    for _ in 0..2 {
        assert_eq!(
            run(Language::JavaScript, javascript, "").await.stdout,
            "undefined\n"
        );
    }
}

#[tokio::test]
async fn a_seed_makes_randomness_and_fuel_reproducible() {
    let source = "import random\nprint(random.random())";
    let mut request = RunRequest::new(Language::Python, source, "");
    request.seed = Some(7);
    let (a, b) = (
        sandbox().run(&request).await.expect("host"),
        sandbox().run(&request).await.expect("host"),
    );
    assert_eq!((a.stdout.as_str(), a.fuel), (b.stdout.as_str(), b.fuel));
    request.seed = None;
    let c = sandbox().run(&request).await.expect("host");
    let d = sandbox().run(&request).await.expect("host");
    assert_ne!(c.stdout, d.stdout, "unseeded runs draw fresh randomness");
}
