//! The `eduscale` command line, run as a process: account creation, help, and the
//! one-line errors a newcomer meets when a service is missing.

use crate::harness::PASSWORD;
use sqlx::PgPool;
use std::process::{Command, Output};

/// The built binary, with none of the caller's EduScale settings.
fn eduscale(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eduscale"));
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("EDUSCALE_CONFIG");
    command
}

/// A URL for the database `#[sqlx::test]` made for this test.
fn url_of(db: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for sqlx::test");
    let name = db
        .connect_options()
        .get_database()
        .expect("a database name")
        .to_owned();
    format!(
        "{}/{name}",
        base.rsplit_once('/').expect("a URL with a path").0
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the eduscale binary runs")
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn user_create_makes_any_role_and_if_missing_makes_it_repeatable(db: PgPool) {
    let url = url_of(&db);
    let args = [
        "user",
        "create",
        "--email",
        "Teach@Example.com",
        "--role",
        "instructor",
        "--password",
        PASSWORD,
    ];
    let first = run(eduscale(&args).env("DATABASE_URL", &url));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("created teach@example.com"),
        "{}",
        text(&first.stdout)
    );
    let role: String =
        sqlx::query_scalar("SELECT role FROM users WHERE email = 'teach@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(role, "instructor");

    let again = run(eduscale(&args).env("DATABASE_URL", &url));
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already has an account"),
        "{}",
        text(&again.stderr)
    );

    let tolerant =
        run(eduscale(&[&args[..], &["--if-missing"]].concat()).env("DATABASE_URL", &url));
    assert!(tolerant.status.success(), "{}", text(&tolerant.stderr));
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn user_create_without_a_password_prints_a_generated_one_that_logs_in(db: PgPool) {
    let url = url_of(&db);
    let out = run(eduscale(&["user", "create", "--email", "gen@example.com"])
        .env("DATABASE_URL", &url)
        .env_remove("EDUSCALE_USER_PASSWORD"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("the generated password is printed");
    let app = crate::harness::TestApp::new(db).await;
    let reply = app
        .client()
        .call(
            "log_in",
            &[("email", "gen@example.com"), ("password", password)],
        )
        .await;
    assert_eq!(reply.status, axum::http::StatusCode::OK, "{}", reply.body);
    app.cleanup().await;
}

#[test]
fn a_missing_database_is_one_clear_line_not_a_panic() {
    let out =
        run(eduscale(&["migrate"]).env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "eduscale: cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/nowhere"
        ),
        "{stderr}"
    );
    assert!(
        last.contains("DATABASE_URL"),
        "the line says how to fix it: {last}"
    );
}

#[sqlx::test(migrator = "eduscale_server::db::MIGRATOR")]
async fn a_missing_redis_is_one_clear_line_not_a_panic(db: PgPool) {
    let out = run(eduscale(&["serve"])
        .env("DATABASE_URL", url_of(&db))
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "eduscale: cannot reach Redis at redis://127.0.0.1:1 (connection refused)"
        ),
        "{stderr}"
    );
}

#[test]
fn invalid_settings_are_refused_before_anything_starts() {
    let out = run(eduscale(&["migrate"]).env("DATABASE_URL", "mysql://nope"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("DATABASE_URL must look like postgres://"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_lists_every_command() {
    let out = run(&mut eduscale(&["--help"]));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in ["serve", "migrate", "user"] {
        assert!(help.contains(command), "{help}");
    }
    let user = text(&run(&mut eduscale(&["user", "create", "--help"])).stdout);
    assert!(
        user.contains("--role") && user.contains("--if-missing"),
        "{user}"
    );
}

/// `eduscale` set up to run programs with the real guests, logging as it does
/// for a person (errors only).
fn eduscale_runner(args: &[&str]) -> Command {
    let mut command = eduscale(args);
    command
        .env_remove("RUST_LOG")
        .env(
            "EDUSCALE_GUESTS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/guests/dist"),
        )
        .env(
            "EDUSCALE_RUNNER_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/guest-cache"),
        );
    command
}

fn run_with_stdin(command: &mut Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the eduscale binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("it ends")
}

#[test]
fn run_passes_stdin_through_and_ends_with_a_verdict_line() {
    let dir = std::env::temp_dir().join(format!("eduscale-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let program = dir.join("greet.py");
    std::fs::write(
        &program,
        "import sys\nprint('hello', input())\nprint('careful', file=sys.stderr)\n",
    )
    .expect("write program");
    let out = run_with_stdin(
        &mut eduscale_runner(&["run", "--lang", "python", program.to_str().expect("utf-8")]),
        "Ada\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello Ada\n");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "careful");
    assert!(lines[1].starts_with("Accepted in "), "{stderr}");
    assert!(
        lines[1].contains("MiB") && lines[1].contains("fuel"),
        "{stderr}"
    );

    let failing = dir.join("fail.js");
    std::fs::write(&failing, "console.log('before'); process.exit(3);").expect("write program");
    let out = run_with_stdin(
        &mut eduscale_runner(&["run", "-l", "js", failing.to_str().expect("utf-8")]),
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "before\n");
    assert!(
        text(&out.stderr).trim_end().ends_with("exit code 3"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn run_refuses_an_unknown_language_in_one_line() {
    let out = run(&mut eduscale_runner(&[
        "run",
        "--lang",
        "cobol",
        "nothing.cob",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "eduscale: unknown language \"cobol\"; `eduscale languages` lists them"
    );
}

#[test]
fn languages_lists_what_runs_here_and_why_the_rest_does_not() {
    let out =
        run(eduscale_runner(&["languages"]).env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let line = |id: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} missing from:\n{listing}"))
            .to_owned()
    };
    assert!(line("python").ends_with("available"), "{listing}");
    assert!(line("javascript").ends_with("available"), "{listing}");
    for compiled in ["c", "cpp", "rust", "go", "java"] {
        assert!(line(compiled).contains("unavailable: "), "{listing}");
    }
}
