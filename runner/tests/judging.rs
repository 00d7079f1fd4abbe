//! Judging through the queue: visible cases explain, hidden ones do not.

mod support;

use eduscale_runner::judge::judge;
use eduscale_runner::{Checker, Language, Limits, QueueConfig, TestCase, Verdict};

fn cases() -> Vec<TestCase> {
    vec![
        TestCase {
            stdin: "2 3\n".into(),
            expected: "5\n".into(),
            visible: true,
        },
        TestCase {
            stdin: "10 -4\n".into(),
            expected: "6\n".into(),
            visible: true,
        },
        TestCase {
            stdin: "1000000 1\n".into(),
            expected: "1000001\n".into(),
            visible: false,
        },
        TestCase {
            stdin: "secret-input 7 8\n".into(),
            expected: "secret-expected 15\n".into(),
            visible: false,
        },
    ]
}

const PYTHON_SUM: &str = "parts = input().split()\nnums = [int(p) for p in parts if p.lstrip('-').isdigit()]\nprefix = 'secret-expected ' if len(parts) == 3 else ''\nprint(prefix + str(sum(nums)) + '   ')";

#[tokio::test]
async fn a_right_program_is_accepted_on_every_case() {
    let runner = support::runner(QueueConfig::for_machine(16));
    let judgement = judge(
        &runner,
        "u",
        Language::Python,
        PYTHON_SUM,
        &cases(),
        &Checker::Exact,
        Limits::default(),
    )
    .await
    .expect("judged");
    assert_eq!(judgement.verdict, Verdict::Accepted, "{judgement:?}");
    assert_eq!((judgement.passed, judgement.total), (4, 4));
    assert_eq!((judgement.hidden_passed, judgement.hidden_total), (2, 2));
    assert!(judgement.total_fuel > 0 && judgement.max_wall_us > 0);
}

#[tokio::test]
async fn a_wrong_program_gets_a_diff_on_visible_cases_and_nothing_on_hidden_ones() {
    let runner = support::runner(QueueConfig::for_machine(16));
    // Right on the first case only; echoes its input on the others.
    let source = "line = input()\nprint(5 if line == '2 3' else line)";
    let judgement = judge(
        &runner,
        "u",
        Language::Python,
        source,
        &cases(),
        &Checker::Exact,
        Limits::default(),
    )
    .await
    .expect("judged");
    assert_eq!(judgement.verdict, Verdict::WrongAnswer);
    assert_eq!((judgement.passed, judgement.hidden_passed), (1, 0));
    let visible = judgement.cases[1]
        .details
        .as_ref()
        .expect("visible cases explain");
    assert_eq!(visible.diff[0].expected.as_deref(), Some("6"));
    assert_eq!(visible.diff[0].actual.as_deref(), Some("10 -4"));
    for case in judgement.cases.iter().filter(|c| !c.visible) {
        assert_eq!(case.verdict, Verdict::WrongAnswer);
        assert!(case.details.is_none());
    }
    let everything = serde_json::to_string(&judgement).expect("json");
    assert!(
        !everything.contains("secret"),
        "hidden input or output leaked: {everything}"
    );
}

#[tokio::test]
async fn a_crash_on_one_case_still_counts_the_others() {
    let runner = support::runner(QueueConfig::for_machine(16));
    let source = "const [a, b] = readline().split(' ').map(Number);\nif (a === 1000000) throw new Error('big');\nconsole.log(a + b);";
    let judgement = judge(
        &runner,
        "u",
        Language::JavaScript,
        source,
        &cases(),
        &Checker::Exact,
        Limits::default(),
    )
    .await
    .expect("judged");
    assert_eq!(judgement.verdict, Verdict::RuntimeError);
    assert_eq!(judgement.passed, 2);
    assert_eq!(judgement.cases[2].verdict, Verdict::RuntimeError);
    assert_eq!(judgement.cases[3].verdict, Verdict::WrongAnswer);
}

#[tokio::test]
async fn a_syntax_error_is_reported_once_as_a_compile_error() {
    let runner = support::runner(QueueConfig::for_machine(16));
    let judgement = judge(
        &runner,
        "u",
        Language::Python,
        "print(",
        &cases(),
        &Checker::Exact,
        Limits::default(),
    )
    .await
    .expect("judged");
    assert_eq!(judgement.verdict, Verdict::CompileError);
    assert!(
        judgement
            .compile_error
            .as_deref()
            .is_some_and(|e| e.contains("SyntaxError"))
    );
}

#[tokio::test]
async fn checkers_accept_every_right_answer() {
    let runner = support::runner(QueueConfig::for_machine(16));
    let case = |expected: &str| {
        vec![TestCase {
            stdin: String::new(),
            expected: expected.into(),
            visible: true,
        }]
    };
    let verdict = |source: &'static str, cases: Vec<TestCase>, checker: Checker| {
        let runner = &runner;
        async move {
            judge(
                runner,
                "u",
                Language::Python,
                source,
                &cases,
                &checker,
                Limits::default(),
            )
            .await
            .expect("judged")
            .verdict
        }
    };
    assert_eq!(
        verdict(
            "print(1/3)",
            case("0.333333"),
            Checker::Float { tolerance: 1e-5 }
        )
        .await,
        Verdict::Accepted
    );
    assert_eq!(
        verdict(
            "print(0.4)",
            case("0.333333"),
            Checker::Float { tolerance: 1e-5 }
        )
        .await,
        Verdict::WrongAnswer
    );
    assert_eq!(
        verdict("print('b\\na')", case("a\nb\n"), Checker::UnorderedLines).await,
        Verdict::Accepted
    );
    assert_eq!(
        verdict("print('1\\n2   3')", case("1 2 3"), Checker::Tokens).await,
        Verdict::Accepted
    );
    // Any pair that sums to 10 is right: a checker program decides.
    let checker = Checker::Program {
        language: Language::Python,
        source: "import json, sys\nd = json.load(sys.stdin)\na, b = map(int, d['output'].split())\nsys.exit(0 if a + b == 10 else 1)".into(),
    };
    assert_eq!(
        verdict("print(3, 7)", case("5 5"), checker.clone()).await,
        Verdict::Accepted
    );
    assert_eq!(
        verdict("print(3, 8)", case("5 5"), checker).await,
        Verdict::WrongAnswer
    );
}
