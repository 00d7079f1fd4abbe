//! The pre-initialised CPython: runs start from a snapshot of a started
//! interpreter, and behave as runs that start it from scratch.

mod support;

use eduscale_runner::{Language, RunRequest, Sandbox, Verdict};
use support::{cold_sandbox, run, sandbox};

#[tokio::test]
async fn hello_runs_from_the_snapshot() {
    assert!(sandbox().is_preinitialized(Language::Python), "no snapshot: see the warning above");
    let report = run(Language::Python, "print('hello')", "").await;
    assert_eq!(report.verdict, Verdict::Accepted, "{report:?}");
    assert_eq!(report.stdout, "hello\n");
}
