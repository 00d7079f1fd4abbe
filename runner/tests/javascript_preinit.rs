//! The pre-initialised QuickJS: runs start from a snapshot of a prepared context,
//! cost a fraction of a start from scratch, behave as such a start does
//! (output, verdicts, exit codes, errors, promises and timers), share nothing,
//! and never share a `Math.random` sequence unless asked to by a seed.

mod support;

use eduscale_runner::{Language, RunRequest, Verdict};
use support::{cold_sandbox, run, run_in, sandbox};

fn js(source: &str, stdin: &str) -> RunRequest {
    RunRequest::new(Language::JavaScript, source, stdin)
}

/// Stack frames through the bootstrap name its line; everything else must match.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[tokio::test]
async fn runs_start_from_the_snapshot_for_a_fraction_of_the_work() {
    assert!(
        sandbox().is_preinitialized(Language::JavaScript),
        "no snapshot: see the warning above"
    );
    assert!(!cold_sandbox().is_preinitialized(Language::JavaScript));
    let cold = run_in(cold_sandbox(), js("console.log('hello')", "")).await;
    let warm = run_in(sandbox(), js("console.log('hello')", "")).await;
    assert_eq!(
        (cold.stdout.as_str(), warm.stdout.as_str()),
        ("hello\n", "hello\n")
    );
    eprintln!(
        "hello: cold {} fuel, {} us; pre-initialised {} fuel, {} us",
        cold.fuel, cold.wall_us, warm.fuel, warm.wall_us
    );
    assert!(
        warm.fuel * 5 < cold.fuel,
        "{} fuel vs {} cold",
        warm.fuel,
        cold.fuel
    );
}

#[tokio::test]
async fn programs_behave_as_when_started_from_scratch() {
    let cases = [
        ("console.log(6 * 7)", ""),
        ("print('a', 1, [2])", ""),
        (
            "let line; while ((line = readline()) !== null) console.log(line.toUpperCase());",
            "one\r\ntwo\nthree",
        ),
        (
            "process.stdout.write(readAll().split('').reverse().join(''))",
            "abc",
        ),
        (
            "console.error('oops', {a: 1}); console.warn(new Error('w').message)",
            "",
        ),
        ("console.log('before'); process.exit(3)", ""),
        ("process.exit()", ""),
        ("throw new TypeError('nope')", ""),
        ("function f() { return g(); }\nf();", ""),
        ("let = = 1;", ""),
        (
            "Promise.resolve(5).then(v => console.log('then', v)); console.log('sync')",
            "",
        ),
        (
            "(async () => { await null; console.log('awaited'); })()",
            "",
        ),
        (
            "(async () => { await null; throw new Error('async boom'); })()",
            "",
        ),
        (
            "setTimeout(() => console.log('timer'), 5); console.log('first')",
            "",
        ),
        ("setTimeout(() => { throw new Error('late'); }, 0)", ""),
        (
            "console.log(typeof std, typeof os, typeof bjson, typeof __eduscale_run)",
            "",
        ),
        (
            "console.log(JSON.stringify([1n].map(String)), 2n ** 70n)",
            "",
        ),
        (
            "const a = []; a.length = 3; console.log(a, `${[1, [2, 3]]}`)",
            "",
        ),
    ];
    for (source, stdin) in cases {
        let cold = run_in(cold_sandbox(), js(source, stdin)).await;
        let warm = run_in(sandbox(), js(source, stdin)).await;
        assert_eq!(
            (
                warm.verdict,
                warm.exit_code,
                warm.stdout.as_str(),
                first_line(&warm.stderr)
            ),
            (
                cold.verdict,
                cold.exit_code,
                cold.stdout.as_str(),
                first_line(&cold.stderr)
            ),
            "{source}\nwarm stderr: {}\ncold stderr: {}",
            warm.stderr,
            cold.stderr
        );
    }
}

#[tokio::test]
async fn errors_keep_their_verdicts() {
    let thrown = run(Language::JavaScript, "throw new RangeError('far')", "").await;
    assert_eq!(
        (thrown.verdict, thrown.exit_code),
        (Verdict::RuntimeError, Some(1))
    );
    assert!(
        thrown.stderr.contains("RangeError: far"),
        "{}",
        thrown.stderr
    );
    let syntax = run(Language::JavaScript, "if (", "").await;
    assert_eq!(
        (syntax.verdict, syntax.exit_code),
        (Verdict::CompileError, Some(113))
    );
    let deep = run(
        Language::JavaScript,
        "function f(n) { return f(n + 1) + 1; } f(0)",
        "",
    )
    .await;
    assert_eq!(deep.verdict, Verdict::RuntimeError, "{deep:?}");
}

#[tokio::test]
async fn runs_share_no_state() {
    let first =
        "globalThis.leaked = 1; Array.prototype.leaked = 2; Math.max = () => 0; console.log('set')";
    assert_eq!(run(Language::JavaScript, first, "").await.stdout, "set\n");
    let second = "console.log(typeof leaked, [].leaked, Math.max(1, 2))";
    assert_eq!(
        run(Language::JavaScript, second, "").await.stdout,
        "undefined undefined 2\n"
    );
}

#[tokio::test]
async fn math_random_differs_per_run_and_repeats_with_a_seed() {
    let source = "console.log(Math.random(), Math.random())";
    let a = run(Language::JavaScript, source, "").await.stdout;
    let b = run(Language::JavaScript, source, "").await.stdout;
    assert_ne!(a, b, "two unseeded runs drew the same numbers");
    let seeded = |seed| {
        let mut request = js(source, "");
        request.seed = Some(seed);
        async move { run_in(sandbox(), request).await.stdout }
    };
    assert_eq!(seeded(7).await, seeded(7).await);
    assert_ne!(seeded(7).await, seeded(8).await);
}
