//! `eduscale`: serve (the default, so cargo-leptos can run it), migrate, manage users,
//! serve the runner alone.

use clap::Parser;
use eduscale::cli::{Cli, Command};
use eduscale::{commands, config, telemetry};
use std::process::ExitCode;

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
    telemetry::init(&config.log);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve(config).await,
        Command::Migrate => commands::migrate(&config).await,
        Command::User(user) => commands::user(&config, user).await,
        Command::Runner(runner) => commands::runner(&config, runner).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on; the details went to the log.
            eprintln!("eduscale: {e:#}");
            ExitCode::FAILURE
        }
    }
}
