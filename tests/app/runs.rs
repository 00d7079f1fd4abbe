//! The runner's server functions over HTTP, on the real guests: `languages`,
//! `run_code` and `submit` — who may run, the limits, the errors a learner sees,
//! and that hidden test cases never leave the server.

use crate::harness::{Client, PASSWORD, RUNS_PER_MINUTE, Reply, TestApp};
use axum::http::StatusCode;
use eduscale_core::code::{Checker, Language, Limits, MAX_SOURCE_BYTES, TestCase};
use eduscale_server::challenges::{self, NewChallenge};
use eduscale_server::submissions;
use sqlx::PgPool;

async fn learner(app: &TestApp, email: &str) -> Client {
    let client = app.client();
    client.sign_up(email, PASSWORD).await;
    client
}

async fn run(client: &Client, language: &str, source: &str, stdin: &str) -> Reply {
    client
        .call(
            "run_code",
            &[("language", language), ("source", source), ("stdin", stdin)],
        )
        .await
}

async fn submit(client: &Client, challenge: &str, language: &str, source: &str) -> Reply {
    client
        .call(
            "submit",
            &[
                ("challenge", challenge),
                ("language", language),
                ("source", source),
            ],
        )
        .await
}

/// "Add two numbers": one visible case, one hidden case whose numbers appear
/// nowhere else (so finding them in a response means a leak).
async fn sum_challenge(app: &TestApp) -> uuid::Uuid {
    challenges::create(
        &app.state.db,
        &NewChallenge {
            slug: "sum-two".into(),
            title: "Add two numbers".into(),
            statement: "Read `a b`, print `a + b`.".into(),
            checker: Checker::Exact,
            limits: Limits::default(),
            tests: vec![
                TestCase {
                    stdin: "1 2\n".into(),
                    expected: "3\n".into(),
                    visible: true,
                },
                TestCase {
                    stdin: "7130 9021\n".into(),
                    expected: "16151\n".into(),
                    visible: false,
                },
            ],
        },
    )
    .await
    .unwrap()
}

const HIDDEN_SECRETS: [&str; 4] = ["7130", "9021", "16151", "LEAK"];

fn assert_reveals_no_hidden_case(reply: &Reply) {
    for secret in HIDDEN_SECRETS {
        assert!(
            !reply.body.contains(secret),
            "the response reveals {secret:?}: {}",
            reply.body
        );
    }
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_visitor_sees_the_languages_but_cannot_run_or_submit(db: PgPool) {
    let app = TestApp::new(db).await;
    sum_challenge(&app).await;
    let visitor = app.client();

    let languages = visitor.call("languages", &[]).await;
    assert_eq!(languages.status, StatusCode::OK, "{}", languages.body);
    let list = languages.json();
    let status_of = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["language"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
            .clone()
    };
    assert!(status_of("python")["unavailable"].is_null());
    assert!(status_of("javascript")["unavailable"].is_null());
    assert!(status_of("c")["unavailable"].is_string());

    let ran = run(&visitor, "python", "print(1)", "").await;
    assert_eq!(ran.status, StatusCode::UNAUTHORIZED, "{}", ran.body);
    let submitted = submit(&visitor, "sum-two", "python", "print(3)").await;
    assert_eq!(
        submitted.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        submitted.body
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM submissions")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn python_and_javascript_programs_run_on_the_input_and_print(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = learner(&app, "runner@example.com").await;

    let python = run(&client, "python", "print(input()[::-1])", "stressed\n").await;
    assert_eq!(python.status, StatusCode::OK, "{}", python.body);
    let report = python.json();
    assert_eq!(report["language"], "python");
    assert_eq!(report["verdict"], "accepted");
    assert_eq!(report["stdout"], "desserts\n");
    assert_eq!(report["exit_code"], 0);
    assert!(report["fuel"].as_u64().unwrap() > 0);
    assert!(report["peak_memory_bytes"].as_u64().unwrap() > 0);

    let javascript = run(
        &client,
        "javascript",
        "console.log(readline().toUpperCase()); process.stderr.write('note\\n')",
        "shout\n",
    )
    .await;
    assert_eq!(javascript.status, StatusCode::OK, "{}", javascript.body);
    let report = javascript.json();
    assert_eq!(report["verdict"], "accepted");
    assert_eq!(report["stdout"], "SHOUT\n");
    assert_eq!(report["stderr"], "note\n");

    // A program that fails is an answer, not an error.
    let crash = run(&client, "python", "raise ValueError('nope')", "").await;
    assert_eq!(crash.status, StatusCode::OK, "{}", crash.body);
    assert_eq!(crash.json()["verdict"], "runtime_error");
    assert!(
        crash.json()["stderr"]
            .as_str()
            .unwrap()
            .contains("ValueError: nope")
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_syntax_error_is_a_compile_error_with_the_message(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = learner(&app, "typo@example.com").await;
    for (language, source) in [("python", "print('hi'"), ("javascript", "let = ;")] {
        let reply = run(&client, language, source, "").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let report = reply.json();
        assert_eq!(report["verdict"], "compile_error", "{language}: {report}");
        assert!(
            report["stderr"].as_str().unwrap().contains("SyntaxError"),
            "{language}: {report}"
        );
    }
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_oversized_program_or_input_is_400_saying_the_limit(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = learner(&app, "big@example.com").await;
    // Over the limit by a little, with characters that form-encoding triples.
    let big = format!("# {}\nprint(1)\n", "()".repeat(MAX_SOURCE_BYTES / 2));
    let reply = run(&client, "python", &big, "").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        reply.json()["BadRequest"],
        "The program is 65 KiB; the limit is 64 KiB."
    );

    let reply = run(&client, "python", "print(1)", &"1\n".repeat(40_000)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        reply.json()["BadRequest"],
        "The input is 79 KiB; the limit is 64 KiB."
    );

    let reply = run(&client, "python", "  \n", "").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.json()["BadRequest"], "Write a program first.");

    let reply = run(&client, "cobol", "DISPLAY 'HI'.", "").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("Unknown language"), "{}", reply.body);

    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn too_many_runs_in_a_minute_is_429_with_the_seconds_to_wait(db: PgPool) {
    let app = TestApp::new(db).await;
    let eager = learner(&app, "eager@example.com").await;
    let other = learner(&app, "calm@example.com").await;
    for n in 0..RUNS_PER_MINUTE.get() {
        let reply = run(&eager, "javascript", "console.log(1)", "").await;
        assert_eq!(reply.status, StatusCode::OK, "run {n}: {}", reply.body);
    }
    let limited = run(&eager, "javascript", "console.log(1)", "").await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    let seconds = limited.json()["RateLimited"].as_u64().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    // A submission counts against the same allowance.
    sum_challenge(&app).await;
    let submitted = submit(&eager, "sum-two", "python", "print(3)").await;
    assert_eq!(
        submitted.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        submitted.body
    );
    // Someone else is not slowed down.
    let calm = run(&other, "javascript", "console.log(2)", "").await;
    assert_eq!(calm.status, StatusCode::OK, "{}", calm.body);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_unavailable_language_is_400_naming_the_reason(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = learner(&app, "c-fan@example.com").await;
    let reason = app
        .state
        .runner
        .languages()
        .into_iter()
        .find(|s| s.language == Language::C)
        .and_then(|s| s.unavailable)
        .expect("C does not run on this machine");
    let reply = run(
        &client,
        "c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); }",
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        reply.json()["BadRequest"].as_str().unwrap(),
        format!("C (gcc) is not available here: {reason}")
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_right_answer_is_accepted_and_the_submission_is_stored(db: PgPool) {
    let app = TestApp::new(db).await;
    let challenge = sum_challenge(&app).await;
    let client = learner(&app, "solver@example.com").await;
    let source = "a, b = map(int, input().split())\nprint(a + b)\n";
    let reply = submit(&client, "sum-two", "python", source).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let judgement = reply.json();
    assert_eq!(judgement["verdict"], "accepted");
    assert_eq!(
        (judgement["passed"].as_u64(), judgement["total"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(judgement["hidden_passed"], 1);
    assert_reveals_no_hidden_case(&reply);

    // The id works as well as the slug; JavaScript too.
    let js = "const [a, b] = readline().split(' ').map(Number); console.log(a + b);";
    let reply = submit(&client, &challenge.to_string(), "javascript", js).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["verdict"], "accepted");

    let user: uuid::Uuid = client.who().await["id"].as_str().unwrap().parse().unwrap();
    let stored = submissions::mine(&app.state.db, user, challenge, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    let python = stored
        .iter()
        .find(|s| s.language == Some(Language::Python))
        .unwrap();
    assert_eq!(python.source, source);
    assert_eq!(python.verdict, Some(eduscale_core::code::Verdict::Accepted));
    assert_eq!((python.passed, python.total), (2, 2));
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_wrong_answer_shows_the_visible_case_with_a_line_diff(db: PgPool) {
    let app = TestApp::new(db).await;
    let challenge = sum_challenge(&app).await;
    let client = learner(&app, "minus@example.com").await;
    let reply = submit(
        &client,
        "sum-two",
        "python",
        "a, b = map(int, input().split())\nprint(a - b)\n",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let judgement = reply.json();
    assert_eq!(judgement["verdict"], "wrong_answer");
    assert_eq!(judgement["passed"], 0);
    let visible = &judgement["cases"][0];
    assert_eq!(visible["visible"], true);
    assert_eq!(visible["details"]["stdin"], "1 2\n");
    assert_eq!(visible["details"]["expected"], "3\n");
    assert_eq!(visible["details"]["actual"], "-1\n");
    assert_eq!(
        visible["details"]["diff"],
        serde_json::json!([{ "line": 1, "expected": "3", "actual": "-1" }])
    );
    let hidden = &judgement["cases"][1];
    assert_eq!(
        (hidden["visible"].as_bool(), hidden["verdict"].as_str()),
        (Some(false), Some("wrong_answer"))
    );
    assert!(hidden["details"].is_null());
    assert_reveals_no_hidden_case(&reply);

    let user: uuid::Uuid = client.who().await["id"].as_str().unwrap().parse().unwrap();
    let stored = submissions::mine(&app.state.db, user, challenge, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].verdict,
        Some(eduscale_core::code::Verdict::WrongAnswer)
    );
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_failing_hidden_case_reveals_neither_its_input_nor_its_output(db: PgPool) {
    let app = TestApp::new(db).await;
    sum_challenge(&app).await;
    let client = learner(&app, "snoop@example.com").await;
    // Right on the visible case; on any other, prints its input everywhere it can.
    let echo = "import sys\n\
                line = input()\n\
                a, b = map(int, line.split())\n\
                if a == 1:\n    print(a + b)\n\
                else:\n    print('LEAK', line)\n    print('LEAK', line, file=sys.stderr)\n";
    let reply = submit(&client, "sum-two", "python", echo).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let judgement = reply.json();
    assert_eq!(judgement["verdict"], "wrong_answer");
    assert_eq!(
        (
            judgement["passed"].as_u64(),
            judgement["hidden_passed"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_reveals_no_hidden_case(&reply);

    // The same, dressed up as a compile error (the exit code the guests use for one).
    let fake = "import sys\n\
                line = input()\n\
                if not line.startswith('1 '):\n    sys.stderr.write('LEAK ' + line)\n    sys.exit(113)\n\
                print(3)\n";
    let reply = submit(&client, "sum-two", "python", fake).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["verdict"], "compile_error");
    assert_reveals_no_hidden_case(&reply);
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn an_unknown_challenge_is_404(db: PgPool) {
    let app = TestApp::new(db).await;
    let client = learner(&app, "lost@example.com").await;
    for key in ["no-such-challenge", &uuid::Uuid::new_v4().to_string()] {
        let reply = submit(&client, key, "python", "print(1)").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{key}: {}", reply.body);
        assert_eq!(reply.json()["NotFound"], "No such challenge.");
    }
    app.cleanup().await;
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn the_playground_is_rendered_on_the_server_with_the_program_in_a_textarea(db: PgPool) {
    let app = TestApp::new(db).await;
    let visitor = app.client();
    let page = visitor.get("/playground").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Log in to use the playground"),
        "{}",
        page.body
    );

    let client = learner(&app, "ssr@example.com").await;
    let page = client.get("/playground").await;
    assert_eq!(page.status, StatusCode::OK);
    // Usable before the WASM and the editor load: a textarea holding the starter program.
    assert!(page.body.contains(r#"id="code""#), "{}", page.body);
    assert!(page.body.contains("sys.stdin.readline()"), "{}", page.body);
    assert!(page.body.contains(r#"href="/playground""#), "no nav link");
    assert!(
        page.body.contains("C (gcc) (not available)"),
        "{}",
        page.body
    );
    app.cleanup().await;
}
