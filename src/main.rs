//! `eduscale`: serve (the default, so cargo-leptos can run it), migrate, manage users,
//! run programs in the sandbox, serve the runner alone, benchmark.

use clap::Parser;
use eduscale::cli::{BenchCommand, Cli, Command, InsightsCommand};
use eduscale::{bench, commands, config, evaluate, seed, telemetry};
use std::process::ExitCode;

/// mimalloc, not glibc's malloc: an instance holding 10,000 sockets spent a
/// tenth of its time in glibc's free lists (`unlink_chunk`, `malloc_consolidate`)
/// and kept freed memory in per-thread arenas (`eduscale bench arena`).
///
/// Built without transparent huge pages (`no_thp` in Cargo.toml): mimalloc asks
/// for them on its arenas, and a 2 MiB page is resident as soon as one byte of
/// it is touched. Sockets' many small allocations then held whole huge pages:
/// with 10,000 sockets over two instances, each instance had 45 to 80 MB of
/// its heap in huge pages, and the instances grew by 8.7 to 10.1 KB per socket;
/// without them, 5.7, close to the live heap heaptrack found (about 6). The
/// arena bench's latency showed no cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("eduscale: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    // Commands whose stderr a person reads (or a program parses) get errors only,
    // unless asked: "Docker is unavailable" is not news to `eduscale run`.
    let quiet = matches!(
        command,
        Command::Run(_) | Command::Languages | Command::Bench(_) | Command::Insights(_)
    );
    let filter = if quiet && std::env::var_os("RUST_LOG").is_none() {
        "error"
    } else {
        &config.log
    };
    telemetry::init(filter);
    let outcome = match command {
        Command::Serve => commands::serve(config).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => commands::migrate(&config).await.map(|()| ExitCode::SUCCESS),
        Command::User(user) => commands::user(&config, user)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Run(args) => commands::run(&config, args).await,
        Command::Languages => commands::languages(&config)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Import(args) => commands::import(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Runner(args)) => bench::runner::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Paths(args)) => bench::paths::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Arena(args)) => bench::arena::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Insights(args)) => bench::insights::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Seed(args) => seed::run(&config, &args).await.map(|()| ExitCode::SUCCESS),
        Command::Insights(InsightsCommand::Evaluate(args)) => evaluate::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Runner(runner) => commands::runner(&config, runner)
            .await
            .map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            // One line a person can act on; the details went to the log.
            eprintln!("eduscale: {e:#}");
            ExitCode::FAILURE
        }
    }
}
