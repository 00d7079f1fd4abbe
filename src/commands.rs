//! What each command does: connect, then serve, migrate or manage users; run a
//! program in the sandbox; list the languages; or serve the runner alone, which
//! needs neither PostgreSQL nor Redis.

use crate::cli::{CreateUser, RunArgs, RunnerCommand, ServeRunner, UserCommand};
use crate::config::Config;
use crate::web;
use anyhow::Context;
use eduscale_core::account::{DisplayName, Email, NewPassword, Role};
use eduscale_server::arena::Arena;
use eduscale_server::auth::{AuthError, accounts};
use eduscale_server::redis::redlock::Redlock;
use eduscale_server::redis::{KeyPrefix, Redis};
use eduscale_server::{AppState, db};
use rand::Rng;
use std::sync::Arc;

/// Connects to PostgreSQL and Redis and builds the shared state.
pub async fn connect(config: &Config) -> anyhow::Result<AppState> {
    let pool = db::connect(&config.database_url, config.db_max_connections).await?;
    let redis = Redis::connect(
        &config.redis_url,
        config.redis_pool_size,
        KeyPrefix::new(&config.redis_prefix),
    )
    .await?;
    let realtime = eduscale_server::realtime::Hub::start(&redis)
        .await
        .context("subscribing to the realtime channel")?;
    let runner = crate::runner::executor(config).await?;
    let locks = Redlock::connect(&config.lock_nodes())
        .await
        .context("connecting to the lock nodes (EDUSCALE_LOCK_REDIS_URLS)")?;
    let arena = Arena::start(
        pool.clone(),
        redis.clone(),
        locks,
        realtime.clone(),
        runner.clone(),
        config.arena_config(),
    )
    .await
    .context("starting the arena")?;
    let insights = eduscale_server::insights::Insights::start(
        pool.clone(),
        redis.clone(),
        config.insights_config(),
    );
    arena.record_events(insights.events.clone());
    Ok(AppState {
        insights: Arc::new(insights),
        db: pool,
        redis,
        realtime,
        arena,
        auth: Arc::new(config.auth_settings()),
        runner,
        run_limit: Arc::new(crate::runner::rate_limit(config)),
    })
}

/// `eduscale serve`: migrate, then serve until a signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let leptos = config.leptos_options()?;
    let state = connect(&config).await?;
    db::migrate(&state.db, &config.database_url).await?;
    let router = web::router(
        web::WebState {
            app: state.clone(),
            leptos,
        },
        config.body_limit_bytes,
    );
    let served = web::serve(router, config.site_addr).await;
    state.db.close().await;
    state.redis.quit().await;
    served
}

/// `eduscale import`: check the folder, then import it in one transaction.
pub async fn import(config: &Config, args: &crate::cli::ImportArgs) -> anyhow::Result<()> {
    use eduscale_server::paths::{content, import};
    let loaded = content::load(&args.dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.check {
        println!(
            "{}: {} paths and {} challenges are valid",
            args.dir.display(),
            loaded.paths.len(),
            loaded.challenges.len()
        );
        return Ok(());
    }
    let pool = db::connect(&config.database_url, 2).await?;
    db::migrate(&pool, &config.database_url).await?;
    let report = import::import(&pool, &loaded).await?;
    println!(
        "imported {}: paths {} new, {} changed, {} unchanged; challenges {} new, {} changed, {} unchanged",
        args.dir.display(),
        report.paths_created,
        report.paths_updated,
        report.paths_unchanged,
        report.challenges_created,
        report.challenges_updated,
        report.challenges_unchanged,
    );
    Ok(())
}

/// `eduscale migrate`
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let pool = db::connect(&config.database_url, 2).await?;
    db::migrate(&pool, &config.database_url).await?;
    println!(
        "database {} is up to date",
        db::redact(&config.database_url)
    );
    Ok(())
}

/// `eduscale user ...`
pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create(args) => create_user(config, args).await,
    }
}

async fn create_user(config: &Config, args: CreateUser) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)?;
    let role = Role::parse(&args.role)?;
    let default_name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("user")
        .to_owned();
    let name = DisplayName::parse(args.name.as_deref().unwrap_or(&default_name))?;
    let (password, generated) = match args.password {
        Some(p) => (p, false),
        None => (generate_password(), true),
    };
    let password = NewPassword::parse(&password, Some(&email))?;
    let pool = db::connect(&config.database_url, 2).await?;
    db::migrate(&pool, &config.database_url).await?;
    match accounts::create(&pool, &email, &name, &password, role).await {
        Ok(user) => {
            println!(
                "created {} ({}) as {}",
                user.email, user.display_name, user.role
            );
            if generated {
                println!("password: {}", password.expose());
            }
            Ok(())
        }
        Err(AuthError::EmailTaken) if args.if_missing => {
            println!("{} already has an account; left as it is", email);
            Ok(())
        }
        Err(AuthError::EmailTaken) => anyhow::bail!("{email} already has an account"),
        Err(e) => Err(e.into()),
    }
}

/// `eduscale runner ...`
pub async fn runner(config: &Config, command: RunnerCommand) -> anyhow::Result<()> {
    match command {
        RunnerCommand::Serve(args) => serve_runner(config, args).await,
    }
}

/// `eduscale runner serve`: the local runner over gRPC until a signal. The guests
/// are loaded before the port is opened, so the printed address means ready.
async fn serve_runner(config: &Config, args: ServeRunner) -> anyhow::Result<()> {
    let runner = crate::runner::local(config).await?;
    for status in eduscale_runner::Executor::languages(&runner) {
        if let Some(reason) = status.unavailable {
            tracing::info!(language = %status.language, %reason, "language unavailable on this runner");
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read the port from this line (with --addr HOST:0).
    println!("runner listening on http://{addr}");
    tracing::info!(%addr, "runner listening");
    eduscale_runner::remote::serve(listener, Arc::new(runner), web::shutdown_signal()).await?;
    tracing::info!("runner stopped");
    Ok(())
}

/// 20 characters from letters and digits: ~119 bits, and always passes the policy.
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    loop {
        let p: String = (0..20)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        if p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(char::is_alphabetic) {
            return p;
        }
    }
}

/// `eduscale run --lang L FILE`: the program's stdout on stdout; its stderr, then
/// one verdict line (verdict, time, memory, fuel) on stderr.
pub async fn run(config: &Config, args: RunArgs) -> anyhow::Result<std::process::ExitCode> {
    use eduscale_runner::queue::Executor;
    use std::io::{Read, Write};
    let language = eduscale_runner::Language::from_id(&args.language).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown language {:?}; `eduscale languages` lists them",
            args.language
        )
    })?;
    let source = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let mut stdin = String::new();
    std::io::stdin().read_to_string(&mut stdin)?;
    anyhow::ensure!(
        args.time_limit.is_finite() && args.time_limit > 0.0,
        "--time-limit must be a positive number of seconds"
    );
    let mut request = eduscale_runner::RunRequest::new(language, source, stdin);
    request.limits.wall = std::time::Duration::from_secs_f64(args.time_limit);
    request.limits.memory_bytes = args.memory_mb << 20;
    let runner = crate::runner::local(config).await?;
    let report = runner.execute("cli", request).await?;
    std::io::stdout().write_all(report.stdout.as_bytes())?;
    std::io::stdout().flush()?;
    let mut stderr = std::io::stderr();
    stderr.write_all(report.stderr.as_bytes())?;
    if !report.stderr.is_empty() && !report.stderr.ends_with('\n') {
        writeln!(stderr)?;
    }
    writeln!(stderr, "{}", report.summary())?;
    Ok(if report.verdict == eduscale_runner::Verdict::Accepted {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// `eduscale languages`
pub async fn languages(config: &Config) -> anyhow::Result<()> {
    use eduscale_runner::queue::Executor;
    let runner = crate::runner::local(config).await?;
    for status in runner.languages() {
        let backend = match status.backend {
            eduscale_runner::Backend::Wasm => "wasm",
            eduscale_runner::Backend::Docker => "docker",
        };
        match status.unavailable {
            None => println!(
                "{:<11} {:<22} {backend:<6} available",
                status.language.id(),
                status.language.name()
            ),
            Some(reason) => println!(
                "{:<11} {:<22} {backend:<6} unavailable: {reason}",
                status.language.id(),
                status.language.name()
            ),
        }
    }
    Ok(())
}
