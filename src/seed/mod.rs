//! `eduscale seed`: a realistic, reproducible history for the insights — learners
//! with hidden skill levels following learning curves, their sessions, attempts,
//! failures, remediation, battles and dropouts — written into the database the
//! platform uses.
//!
//! In: the imported content (paths, nodes, prerequisites, challenge skills) and
//! `--learners N --events M --seed S`. Out: instructors, cohorts and learners
//! (every e-mail `@seed.eduscale.test`, one shared password), exactly M events,
//! the progress rows those events imply, and each learner's hidden levels in
//! `insights_seed_truth` so the model can be checked against the truth; then the
//! materialized views are refreshed. The same seed and sizes give the same rows,
//! ids included (times are relative to [`SeedOptions::now`]).
//!
//! The flow: [`catalog`] reads the content, [`people`] draws who is who,
//! [`learner`] tells each learner's story (in [`story`]'s terms), [`timeline`] puts it on the calendar,
//! [`store`] replaces any previous seed in one transaction with binary COPY.

pub mod catalog;
pub mod learner;
pub mod people;
pub mod random;
pub mod store;
pub mod story;
#[cfg(test)]
mod tests;
pub mod timeline;
mod write;

use crate::config::Config;
use anyhow::Context;
use catalog::Catalog;
use indicatif::{ProgressBar, ProgressStyle};
use people::{DAY, Population};
use sqlx::PgPool;
use std::time::{Duration, Instant, SystemTime};
use timeline::{Placed, Row};

/// `eduscale seed`'s options.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// How many learners.
    #[arg(long, default_value_t = 1_000)]
    pub learners: usize,
    /// How many events in all.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// The random seed: the same seed gives the same history.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many days of history, ending now.
    #[arg(long, default_value_t = 60)]
    pub days: u32,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// How many learners.
    pub learners: usize,
    /// How many events in all (exactly).
    pub events: u64,
    /// The random seed.
    pub seed: u64,
    /// How many days of history.
    pub days: u32,
    /// The history ends just before this moment.
    pub now: SystemTime,
    /// Whether to draw a progress bar on stderr (it hides itself off a terminal anyway).
    pub progress: bool,
}

impl SeedOptions {
    /// `learners` learners, `events` events from `seed`, over 60 days up to now, quietly.
    pub fn new(learners: usize, events: u64, seed: u64) -> Self {
        Self {
            learners,
            events,
            seed,
            days: 60,
            now: SystemTime::now(),
            progress: false,
        }
    }
}

/// What a seeding wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Learners created.
    pub learners: usize,
    /// Cohorts created.
    pub cohorts: usize,
    /// Instructors created.
    pub instructors: usize,
    /// Events written.
    pub events: u64,
    /// Progress rows written.
    pub progress_rows: u64,
    /// Truth rows written (learners × skills).
    pub truth_rows: u64,
    /// Seeded accounts of an earlier run that were removed first.
    pub replaced_accounts: u64,
    /// An instructor to log in as.
    pub instructor_email: String,
    /// The whole run, views and `ANALYZE` included.
    pub elapsed: Duration,
    /// How long each step took: simulating, writing (COPY and commit), refreshing the views.
    pub phases: Vec<(&'static str, Duration)>,
}

/// `eduscale seed`: migrate, generate, print one summary line and how to log in.
pub async fn run(config: &Config, args: &SeedArgs) -> anyhow::Result<()> {
    let pool = eduscale_server::db::connect(&config.database_url, 2).await?;
    eduscale_server::db::migrate(&pool, &config.database_url).await?;
    let options = SeedOptions {
        days: args.days,
        progress: true,
        ..SeedOptions::new(args.learners, args.events, args.seed)
    };
    let summary = seed(&pool, &options).await?;
    let phases: Vec<String> = summary
        .phases
        .iter()
        .map(|(name, took)| format!("{name} {:.1} s", took.as_secs_f64()))
        .collect();
    println!(
        "seeded {} learners, {} cohorts, {} instructors, {} events in {:.1} s ({})",
        summary.learners,
        summary.cohorts,
        summary.instructors,
        summary.events,
        summary.elapsed.as_secs_f64(),
        phases.join(", ")
    );
    println!(
        "log in as {} (or learner00001@{}) with the password {}",
        summary.instructor_email,
        people::EMAIL_DOMAIN,
        people::PASSWORD
    );
    pool.close().await;
    Ok(())
}

/// Generates and writes the history `options` describe, replacing any earlier seed.
pub async fn seed(db: &PgPool, options: &SeedOptions) -> anyhow::Result<Summary> {
    anyhow::ensure!(options.learners > 0, "seed at least one learner");
    anyhow::ensure!(
        options.learners <= 999_999 && options.events <= u64::from(u32::MAX),
        "at most 999,999 learners and 4 billion events"
    );
    let started = Instant::now();
    let catalog = std::sync::Arc::new(Catalog::load(db).await?);
    let now = pg_micros(options.now)?;
    let population = std::sync::Arc::new(people::plan(&catalog, options, now));
    let bar = progress_bar(options.progress, options.events);
    bar.set_message("simulating learners");
    let mut phases = Vec::new();
    let mut lap = Instant::now();
    let (placed, events) = {
        let (catalog, population, bar, seed) = (
            catalog.clone(),
            population.clone(),
            bar.clone(),
            options.seed,
        );
        tokio::task::spawn_blocking(move || simulate_all(&catalog, &population, seed, &bar))
            .await
            .context("the simulation stopped")??
    };
    // One hash for every account: argon2 is slow on purpose, and one is enough to log in.
    let hash = eduscale_server::auth::password::hash(people::PASSWORD.to_owned()).await?;

    phases.push(("simulate", lap.elapsed()));
    lap = Instant::now();
    bar.set_message("writing events");
    bar.set_position(0);
    let mut tx = db.begin().await?;
    let replaced_accounts = store::clear_previous(&mut tx).await?;
    write::people(&mut tx, &population, &placed, &hash, now, options.days).await?;
    let truth_rows = write::truth(&mut tx, &catalog, &population).await?;
    let progress_rows = write::progress(&mut tx, &catalog, &population, &placed).await?;
    let written = write::events(&mut tx, &catalog, &population, &events, &bar).await?;
    bar.set_message("committing");
    tx.commit().await?;
    phases.push(("write", lap.elapsed()));
    lap = Instant::now();

    bar.set_message("refreshing the views");
    bar.enable_steady_tick(Duration::from_millis(200));
    eduscale_server::insights::views::refresh_all(db).await?;
    sqlx::query("ANALYZE events, progress, users, cohort_members, insights_seed_truth")
        .execute(db)
        .await?;
    bar.finish_and_clear();
    phases.push(("views", lap.elapsed()));
    tracing::debug!(?phases, "seeded");
    Ok(Summary {
        learners: population.learners.len(),
        cohorts: population.cohorts.len(),
        instructors: population.instructors.len(),
        events: written,
        progress_rows,
        truth_rows,
        replaced_accounts,
        instructor_email: population
            .instructors
            .first()
            .map(|p| p.email.clone())
            .unwrap_or_default(),
        elapsed: started.elapsed(),
        phases,
    })
}

/// Tells and times every learner's story on a few threads (each learner has its
/// own generator, so the threads do not change the result), then merges all
/// events into one time-ordered log, the order a live platform would write them in.
fn simulate_all(
    catalog: &Catalog,
    population: &Population,
    seed: u64,
    bar: &ProgressBar,
) -> anyhow::Result<(Vec<Placed>, Vec<Row>)> {
    let mixes = story::failure_mixes(catalog, &mut random::rng_for(seed, u64::MAX - 1));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = population.learners.len().div_ceil(threads).max(1);
    let mut placed: Vec<Placed> = std::thread::scope(|scope| {
        let handles: Vec<_> = population
            .learners
            .chunks(chunk)
            .enumerate()
            .map(|(c, learners)| {
                let mixes = &mixes;
                scope.spawn(move || {
                    learners
                        .iter()
                        .enumerate()
                        .map(|(i, who)| {
                            let user = u32::try_from(c * chunk + i).unwrap_or(u32::MAX);
                            let story = learner::simulate(catalog, mixes, who);
                            bar.inc(u64::from(who.budget));
                            timeline::place(&story, who, user)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(population.learners.len());
        for handle in handles {
            all.extend(
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?,
            );
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    let total = placed.iter().map(|p| p.rows.len()).sum();
    let mut events = Vec::with_capacity(total);
    for p in &mut placed {
        events.append(&mut p.rows);
    }
    events.sort_unstable_by_key(|r| (r.at, r.user, r.seq));
    Ok((placed, events))
}

/// `time` as microseconds since 2000-01-01 UTC, PostgreSQL's own epoch.
fn pg_micros(time: SystemTime) -> anyhow::Result<i64> {
    const PG_EPOCH_UNIX_S: i64 = 946_684_800;
    let unix = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let micros = i64::try_from(unix.as_micros()).context("the clock is too far ahead")?;
    Ok(micros - PG_EPOCH_UNIX_S * 1_000_000)
}

fn progress_bar(show: bool, events: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(events);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>22} [{bar:40}] {human_pos}/{human_len} events, {elapsed}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The earliest moment the seeded accounts and cohorts may claim to exist.
fn founded(now: i64, days: u32) -> i64 {
    now - (i64::from(days) + 14) * DAY
}
