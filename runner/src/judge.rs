//! Judging: a program against a challenge's test cases, each in a fresh instance.
//!
//! Visible cases explain a failure (input, expected, actual, a line diff); hidden
//! cases only say pass or fail and how, never their input, expected output, or
//! what the program printed on them (which could echo the input).

use crate::queue::Executor;
use crate::{Language, Limits, RunError, RunRequest, Verdict};
use eduscale_core::code::{
    CaseDetails, CaseResult, Checker, DiffLine, Judgement, MAX_DIFF_LINES, TestCase,
};

/// Runs `source` on every case (concurrently, through the executor's fair queue)
/// and compares.
pub async fn judge(
    executor: &dyn Executor,
    user: &str,
    language: Language,
    source: &str,
    tests: &[TestCase],
    checker: &Checker,
    limits: Limits,
) -> Result<Judgement, RunError> {
    if tests.is_empty() {
        return Err(RunError::Invalid(
            "the challenge has no test cases".to_owned(),
        ));
    }
    let runs = tests.iter().enumerate().map(|(index, case)| {
        let request = RunRequest {
            language,
            source: source.to_owned(),
            stdin: case.stdin.clone(),
            limits,
            // Reproducible: the same submission gets the same verdict and fuel.
            seed: Some(index as u64),
        };
        async move {
            let report = executor.execute(user, request).await?;
            let verdict = match report.verdict {
                Verdict::Accepted => check(executor, user, checker, case, &report.stdout).await?,
                other => other,
            };
            Ok::<_, RunError>((report, verdict))
        }
    });
    let results = futures_util::future::join_all(runs).await;

    let mut judgement = Judgement {
        verdict: Verdict::Accepted,
        passed: 0,
        total: tests.len(),
        hidden_passed: 0,
        hidden_total: tests.iter().filter(|t| !t.visible).count(),
        compile_error: None,
        cases: Vec::with_capacity(tests.len()),
        max_wall_us: 0,
        total_fuel: 0,
        peak_memory_bytes: 0,
    };
    for (index, (case, result)) in tests.iter().zip(results).enumerate() {
        let (report, verdict) = result?;
        if verdict == Verdict::Accepted {
            judgement.passed += 1;
            judgement.hidden_passed += usize::from(!case.visible);
        } else if judgement.verdict == Verdict::Accepted {
            judgement.verdict = verdict;
        }
        if verdict == Verdict::CompileError && case.visible && judgement.compile_error.is_none() {
            judgement.compile_error = Some(report.stderr.clone());
        }
        judgement.max_wall_us = judgement.max_wall_us.max(report.wall_us);
        judgement.total_fuel += report.fuel;
        judgement.peak_memory_bytes = judgement.peak_memory_bytes.max(report.peak_memory_bytes);
        let details = case.visible.then(|| CaseDetails {
            diff: if verdict == Verdict::WrongAnswer {
                diff(&case.expected, &report.stdout)
            } else {
                Vec::new()
            },
            stdin: case.stdin.clone(),
            expected: case.expected.clone(),
            actual: report.stdout,
            stderr: report.stderr,
            detail: report.detail,
        });
        judgement.cases.push(CaseResult {
            index,
            visible: case.visible,
            verdict,
            wall_us: report.wall_us,
            fuel: report.fuel,
            peak_memory_bytes: report.peak_memory_bytes,
            details,
        });
    }
    if judgement.compile_error.is_none()
        && judgement
            .cases
            .iter()
            .any(|c| c.verdict == Verdict::CompileError)
    {
        judgement.compile_error =
            compiler_message(executor, user, language, source, limits).await?;
    }
    Ok(judgement)
}

/// The compiler's message for a program that failed to compile only on hidden
/// cases. Their stderr cannot be shown (a program can print its input and exit
/// with the compile-error code itself), so the message comes from one more run
/// on empty input, where there is nothing secret to echo.
async fn compiler_message(
    executor: &dyn Executor,
    user: &str,
    language: Language,
    source: &str,
    limits: Limits,
) -> Result<Option<String>, RunError> {
    let request = RunRequest {
        language,
        source: source.to_owned(),
        stdin: String::new(),
        limits,
        seed: Some(0),
    };
    let report = executor.execute(user, request).await?;
    Ok((report.verdict == Verdict::CompileError).then_some(report.stderr))
}

async fn check(
    executor: &dyn Executor,
    user: &str,
    checker: &Checker,
    case: &TestCase,
    output: &str,
) -> Result<Verdict, RunError> {
    let accepted = match checker {
        Checker::Exact => normalise(&case.expected) == normalise(output),
        Checker::Tokens => case
            .expected
            .split_whitespace()
            .eq(output.split_whitespace()),
        Checker::Float { tolerance } => floats_match(&case.expected, output, *tolerance),
        Checker::UnorderedLines => {
            let mut expected = normalise(&case.expected);
            let mut actual = normalise(output);
            expected.sort_unstable();
            actual.sort_unstable();
            expected == actual
        }
        Checker::Program { language, source } => {
            let input = serde_json::json!({
                "input": case.stdin, "expected": case.expected, "output": output,
            });
            let request = RunRequest {
                language: *language,
                source: source.clone(),
                stdin: input.to_string(),
                limits: Limits::default(),
                seed: Some(0),
            };
            let report = executor.execute(user, request).await?;
            match report.verdict {
                Verdict::Accepted => true,
                Verdict::RuntimeError if report.exit_code.is_some() => false,
                // A checker that crashes or hangs is the challenge's fault, not
                // the learner's.
                other => {
                    return Err(RunError::Host(format!(
                        "the challenge's checker failed: {} {}",
                        other.label(),
                        report.stderr
                    )));
                }
            }
        }
    };
    Ok(if accepted {
        Verdict::Accepted
    } else {
        Verdict::WrongAnswer
    })
}

/// Lines without trailing whitespace, without trailing blank lines.
fn normalise(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn floats_match(expected: &str, actual: &str, tolerance: f64) -> bool {
    let (mut expected, mut actual) = (expected.split_whitespace(), actual.split_whitespace());
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return true,
            (Some(e), Some(a)) if e == a => {}
            (Some(e), Some(a)) => match (e.parse::<f64>(), a.parse::<f64>()) {
                (Ok(e), Ok(a)) if a.is_finite() => {
                    let difference = (e - a).abs();
                    if difference > tolerance && difference > tolerance * e.abs() {
                        return false;
                    }
                }
                _ => return false,
            },
            _ => return false,
        }
    }
}

/// The differing lines of two outputs, after normalising.
pub fn diff(expected: &str, actual: &str) -> Vec<DiffLine> {
    let (expected, actual) = (normalise(expected), normalise(actual));
    (0..expected.len().max(actual.len()))
        .filter_map(|i| {
            let (e, a) = (expected.get(i), actual.get(i));
            (e != a).then(|| DiffLine {
                line: i + 1,
                expected: e.map(|s| (*s).to_owned()),
                actual: a.map(|s| (*s).to_owned()),
            })
        })
        .take(MAX_DIFF_LINES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LanguageStatus, Report};

    /// Claims every program failed to compile, and prints its input as the message:
    /// what a hostile program can do with the compile-error exit code.
    #[derive(Debug)]
    struct EchoesInputAsCompileError;

    #[async_trait::async_trait]
    impl Executor for EchoesInputAsCompileError {
        fn languages(&self) -> Vec<LanguageStatus> {
            Vec::new()
        }
        async fn execute(&self, _user: &str, request: RunRequest) -> Result<Report, RunError> {
            Ok(Report {
                language: request.language,
                verdict: Verdict::CompileError,
                exit_code: Some(113),
                detail: None,
                stdout: String::new(),
                stderr: format!("input was [{}]", request.stdin),
                wall_us: 1,
                fuel: 1,
                peak_memory_bytes: 1,
            })
        }
    }

    fn case(stdin: &str, visible: bool) -> TestCase {
        TestCase {
            stdin: stdin.to_owned(),
            expected: "ok".to_owned(),
            visible,
        }
    }

    #[tokio::test]
    async fn a_compile_error_on_hidden_cases_never_shows_their_stderr() {
        let judgement = judge(
            &EchoesInputAsCompileError,
            "u",
            Language::Python,
            "x",
            &[case("hidden secret", false)],
            &Checker::Exact,
            Limits::default(),
        )
        .await
        .expect("judged");
        assert_eq!(judgement.verdict, Verdict::CompileError);
        assert_eq!(judgement.compile_error.as_deref(), Some("input was []"));
        assert!(judgement.cases.iter().all(|c| c.details.is_none()));
    }

    #[tokio::test]
    async fn a_compile_error_on_a_visible_case_shows_that_case_stderr() {
        let judgement = judge(
            &EchoesInputAsCompileError,
            "u",
            Language::Python,
            "x",
            &[case("hidden secret", false), case("shown", true)],
            &Checker::Exact,
            Limits::default(),
        )
        .await
        .expect("judged");
        assert_eq!(
            judgement.compile_error.as_deref(),
            Some("input was [shown]")
        );
    }

    #[test]
    fn trailing_whitespace_and_blank_lines_do_not_matter() {
        assert_eq!(normalise("1 2  \r\n3\n\n\n"), normalise("1 2\n3"));
        assert_ne!(normalise("1 2\n3"), normalise("1  2\n3"));
        assert_ne!(normalise("\n1"), normalise("1"));
    }

    #[test]
    fn floats_within_tolerance() {
        assert!(floats_match("0.3333", "0.33333333", 1e-3));
        assert!(floats_match("1e9 x", "1000000001 x", 1e-6));
        assert!(!floats_match("0.5", "0.6", 1e-3));
        assert!(!floats_match("1", "NaN", 1e-3));
        assert!(!floats_match("1 2", "1", 1e-3));
    }

    #[test]
    fn diff_lists_changed_missing_and_extra_lines() {
        let d = diff("a\nb\nc", "a\nB\nc\nd\n");
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].line, d[0].expected.as_deref(), d[0].actual.as_deref()),
            (2, Some("b"), Some("B"))
        );
        assert_eq!(
            (d[1].line, d[1].expected.as_deref(), d[1].actual.as_deref()),
            (4, None, Some("d"))
        );
    }
}
