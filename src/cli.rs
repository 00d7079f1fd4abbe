//! The command line (clap). `eduscale` with no command serves.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// EduScale: learning paths, coding battles, a sandboxed runner and insights.
#[derive(Debug, Parser)]
#[command(name = "eduscale", version, about, long_about = None)]
pub struct Cli {
    /// Read settings from this TOML file (default: ./eduscale.toml when it exists).
    #[arg(long, global = true, env = "EDUSCALE_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the web app on LEPTOS_SITE_ADDR until SIGTERM or Ctrl-C.
    Serve,
    /// Create the database if needed and apply every pending migration, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Run a program in the sandbox: its stdout on stdout, its stderr and then one
    /// verdict line on stderr; stdin is passed through. Exits 0 only when the
    /// program succeeded.
    Run(RunArgs),
    /// List the languages and whether each can run here.
    Languages,
    /// Check a content folder (paths, lessons, challenges) and import it into the
    /// database, all or nothing; unchanged files are skipped.
    Import(ImportArgs),
    /// Measure; each prints one JSON object.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The sandbox as a service for web servers on other machines.
    #[command(subcommand)]
    Runner(RunnerCommand),
    /// Generate a realistic, reproducible history of learners and events (for the
    /// dashboards, the model's evaluation and the benchmarks).
    Seed(crate::seed::SeedArgs),
    /// The instructors' insights: knowledge tracing.
    #[command(subcommand)]
    Insights(InsightsCommand),
}

/// `eduscale insights ...`
#[derive(Debug, Subcommand)]
pub enum InsightsCommand {
    /// Fit the knowledge-tracing model on part of the recorded attempts and print
    /// its AUC on the held-out rest.
    Evaluate(EvaluateArgs),
}

/// `eduscale insights evaluate`
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Print one JSON object: `{"model":…,"attempts":…,"auc":…}`.
    #[arg(long)]
    pub json: bool,
    /// The share of learners held out for the AUC (the model never sees their attempts).
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
}

/// `eduscale run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// python, javascript, c, cpp, rust, go or java.
    #[arg(long = "lang", short = 'l')]
    pub language: String,
    /// The program's source file.
    pub file: PathBuf,
    /// Wall-clock limit in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub time_limit: f64,
    /// Memory limit in MiB.
    #[arg(long, default_value_t = 256)]
    pub memory_mb: u64,
}

/// `eduscale bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The runner: instantiation, hello-world runs against native interpreters, throughput.
    Runner(BenchArgs),
    /// Learning paths: open nodes and unlocks after a pass, on a 1,000-node path
    /// with 10,000 learners (in a scratch database made and dropped by the run).
    Paths(BenchArgs),
    /// The arena: N sockets in battles of K over I instances, a typing trace,
    /// latency, bytes per delta against whole states, memory per socket.
    Arena(crate::bench::arena::ArenaBenchArgs),
    /// Insights: dashboard queries, staleness of the views and ingestion, on
    /// 10,000 learners and 5,000,000 events with ingestion running.
    Insights(crate::bench::insights::InsightsBenchArgs),
}

/// `eduscale import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The content folder (see content/README.md for its format).
    #[arg(default_value = "content")]
    pub dir: std::path::PathBuf,
    /// Check the folder only; write nothing.
    #[arg(long)]
    pub check: bool,
}

/// Options every benchmark takes.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print the figures as one JSON object (the only output format).
    #[arg(long)]
    pub json: bool,
    /// Shorter runs (fewer samples), for a quick look.
    #[arg(long)]
    pub quick: bool,
    /// Keep the scratch database a benchmark makes (to EXPLAIN its queries there).
    #[arg(long)]
    pub keep_db: bool,
}

/// `eduscale runner ...`
#[derive(Debug, Subcommand)]
pub enum RunnerCommand {
    /// Serve the sandbox over gRPC until SIGTERM or Ctrl-C (web servers reach it
    /// through EDUSCALE_RUNNER_REMOTES). Needs the guests, not PostgreSQL or Redis.
    Serve(ServeRunner),
}

/// `eduscale runner serve`
#[derive(Debug, Args)]
pub struct ServeRunner {
    /// Where to listen. Port 0 takes a free port; the first line printed is
    /// `runner listening on http://ADDRESS`, with the port taken.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub addr: SocketAddr,
}

/// `eduscale user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account with any role (sign-up on the web only makes learners).
    Create(CreateUser),
}

/// `eduscale user create`
#[derive(Debug, Args)]
pub struct CreateUser {
    /// The log-in e-mail.
    #[arg(long)]
    pub email: String,
    /// learner, instructor or admin.
    #[arg(long, default_value = "learner")]
    pub role: String,
    /// The name others see (default: the part of the e-mail before the @).
    #[arg(long)]
    pub name: Option<String>,
    /// The password; read from EDUSCALE_USER_PASSWORD, or generated and printed when absent.
    #[arg(long, env = "EDUSCALE_USER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Succeed without changes when the e-mail already has an account (for scripts run twice).
    #[arg(long)]
    pub if_missing: bool,
}
