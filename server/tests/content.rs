//! The shipped curriculum, through the real sandbox: every reference solution
//! passes every test, and every planted wrong solution passes the visible
//! examples yet fails a hidden test, so the hidden tests really bite.

use eduscale_core::code::{Language, Verdict};
use eduscale_runner::wasm::{WasmConfig, WasmSandbox};
use eduscale_runner::{QueueConfig, Runner, Sandbox};
use eduscale_server::paths::content;
use std::path::PathBuf;
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content")
}

fn runner() -> Runner {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = WasmConfig {
        guests_dir: std::env::var_os("EDUSCALE_GUESTS_DIR")
            .map_or_else(|| repo.join("guests/dist"), PathBuf::from),
        // The runner's tests use the same folder: the Python snapshot is made once.
        cache_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guest-cache"),
        slots: 32,
        preinit: true,
        compiled_bytes: WasmConfig::COMPILED_BYTES,
    };
    let sandbox: Arc<dyn Sandbox> = Arc::new(WasmSandbox::load(&config).expect("engine"));
    for status in sandbox.languages() {
        assert_eq!(status.unavailable, None, "run ./eduscale.sh setup");
    }
    Runner::new(vec![sandbox], QueueConfig::for_machine(32)).expect("runner")
}

async fn judge(
    runner: &Runner,
    c: &content::ChallengeContent,
    language: Language,
    source: &str,
) -> Result<eduscale_core::code::Judgement, eduscale_runner::RunError> {
    eduscale_runner::judge::judge(
        runner,
        "content-test",
        language,
        source,
        &c.tests,
        &c.checker,
        c.limits,
    )
    .await
}

#[test]
fn the_shipped_content_loads_with_three_paths_and_thirty_challenges() {
    let content = content::load(&root()).unwrap_or_else(|e| panic!("{e}"));
    assert!(content.paths.len() >= 3, "{} paths", content.paths.len());
    assert!(
        content.challenges.len() >= 30,
        "{} challenges",
        content.challenges.len()
    );
    for c in &content.challenges {
        assert!(!c.solutions.is_empty(), "{}: no solution.*", c.slug);
        assert!(!c.wrong.is_empty(), "{}: no wrong.*", c.slug);
        assert!(
            c.tests.iter().any(|t| t.visible),
            "{}: no visible example",
            c.slug
        );
        assert!(
            c.tests.iter().any(|t| !t.visible),
            "{}: no hidden test",
            c.slug
        );
    }
    let slugs: Vec<&str> = content.paths.iter().map(|p| p.slug.as_str()).collect();
    for wanted in ["python-foundations", "javascript-foundations", "algorithms"] {
        assert!(slugs.contains(&wanted), "{wanted} missing from {slugs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_solution_passes_and_every_wrong_solution_fails_a_hidden_test() {
    let content = content::load(&root()).unwrap_or_else(|e| panic!("{e}"));
    let runner = runner();
    let mut failures = Vec::new();
    for c in &content.challenges {
        for (language, source) in &c.solutions {
            let j = judge(&runner, c, *language, source).await.expect("host");
            if j.verdict != Verdict::Accepted {
                failures.push(format!(
                    "{} solution.{}: {:?} ({}/{})",
                    c.slug,
                    language.extension(),
                    j.verdict,
                    j.passed,
                    j.total
                ));
            }
        }
        for (language, source) in &c.wrong {
            let j = judge(&runner, c, *language, source).await.expect("host");
            let visible_ok = j
                .cases
                .iter()
                .filter(|r| r.visible)
                .all(|r| r.verdict == Verdict::Accepted);
            let hidden_caught = j
                .cases
                .iter()
                .any(|r| !r.visible && r.verdict != Verdict::Accepted);
            if !visible_ok || !hidden_caught {
                failures.push(format!(
                    "{} wrong.{}: visible all pass = {visible_ok}, a hidden test fails = {hidden_caught}",
                    c.slug,
                    language.extension()
                ));
            }
        }
        for (language, starter) in &c.starters {
            let language = Language::from_id(language).expect("known language");
            let j = judge(&runner, c, language, starter).await.expect("host");
            if j.verdict == Verdict::CompileError {
                failures.push(format!(
                    "{} starter.{}: does not compile",
                    c.slug,
                    language.extension()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
