//! Who the seeded platform has: instructors, their cohorts, and learners with
//! hidden skill levels, an engagement level, a pace and an event budget.
//!
//! Drawn in one pass from the population's own generator, so the plan depends on
//! the seed and the sizes only. The hidden skills are what `insights_seed_truth`
//! stores and what the simulation in `learner` obeys:
//! P(pass) on skill s = mastered − (mastered − initial) · exp(−learn_rate · attempts on s).

use super::SeedOptions;
use super::catalog::Catalog;
use super::random::{self, SeedRng, normal, phi};
use eduscale_core::cohort::{INVITE_LEN, InviteCode};
use rand::Rng;
use uuid::Uuid;

/// Every seeded account's e-mail ends with `@` and this.
pub const EMAIL_DOMAIN: &str = "seed.eduscale.test";
/// The password every seeded account shares, so a person can log in and look.
pub const PASSWORD: &str = "seeded-history-2026";
/// A day in microseconds.
pub const DAY: i64 = 86_400_000_000;
/// An hour in microseconds.
pub const HOUR: i64 = 3_600_000_000;

/// One account.
#[derive(Debug, Clone)]
pub struct Person {
    /// `users.id`, drawn from the seed.
    pub id: Uuid,
    /// `…@seed.eduscale.test`.
    pub email: String,
    /// The name others see.
    pub name: String,
}

/// One cohort.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// `cohorts.id`.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Index into [`Population::instructors`].
    pub instructor: usize,
    /// `ABCD-EFGH`.
    pub invite_code: String,
    /// When the invite stops working (some have already).
    pub invite_expires_at: i64,
    /// The path most of its learners start with (index into the catalog's paths).
    pub track: usize,
}

/// A learner's hidden level on one skill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    /// P(pass) before any practice.
    pub initial: f64,
    /// P(pass) after much practice.
    pub mastered: f64,
    /// How fast each attempt moves the learner from one to the other.
    pub learn_rate: f64,
}

impl Truth {
    /// P(pass) after `practice` attempts on this skill.
    pub fn chance(&self, practice: u32) -> f64 {
        self.mastered
            - (self.mastered - self.initial) * (-self.learn_rate * f64::from(practice)).exp()
    }
}

/// How a learner's activity is spread over their time on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Evenly, up to now.
    Steady,
    /// Less and less: their velocity drops in the last weeks.
    Slowing,
    /// Up to a day well before now, then nothing.
    Dropout,
}

/// One learner: the account, the hidden levels and how they will behave.
#[derive(Debug, Clone)]
pub struct Learner {
    /// The account.
    pub person: Person,
    /// Seeds this learner's own generators.
    pub stream: u64,
    /// Index into [`Population::cohorts`]; a few learners are in none.
    pub cohort: Option<usize>,
    /// The hidden general ability (standard normal).
    pub ability: f64,
    /// One entry per catalog skill.
    pub truth: Vec<Truth>,
    /// Whether some of their skills barely improve with practice.
    pub wheel_spinner: bool,
    /// Exactly how many events this learner produces.
    pub budget: u32,
    /// Sessions planned (the simulation may need one or two more or fewer).
    pub sessions: u32,
    /// First possible moment of activity (Postgres microseconds).
    pub start: i64,
    /// Last possible moment of activity.
    pub end: i64,
    /// How activity is spread between the two.
    pub pace: Pace,
    /// Paths in the order the learner takes them (catalog indices).
    pub path_order: Vec<usize>,
    /// Failures in a row on one node before they leave it for a while.
    pub persistence: u32,
    /// The hour of the day they usually study (UTC, may pass 24).
    pub hour: f64,
}

/// The whole seeded population.
#[derive(Debug, Clone)]
pub struct Population {
    /// Instructors, at least one.
    pub instructors: Vec<Person>,
    /// Cohorts, at least one.
    pub cohorts: Vec<Cohort>,
    /// Learners, as many as asked.
    pub learners: Vec<Learner>,
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Donald",
    "Hedy",
    "Tim",
    "Katherine",
    "John",
    "Sophie",
    "Guido",
    "Yukihiro",
    "Bjarne",
    "Anita",
    "Niklaus",
    "Shafi",
    "Leslie",
    "Mary",
    "Rasmus",
    "Jean",
    "Brendan",
    "Karen",
    "Ole",
    "Lovelace",
    "Amara",
    "Chidi",
    "Mei",
    "Ravi",
    "Lena",
    "Tomás",
    "Aiko",
    "Noor",
    "Ivan",
];
const COHORT_THEMES: &[&str] = &[
    "Evening",
    "Weekend",
    "Spring",
    "Autumn",
    "Bootcamp",
    "Night owls",
    "Morning",
    "Remote",
];

/// Draws the population for `options` over `catalog`, with time measured up to `now`.
pub fn plan(catalog: &Catalog, options: &SeedOptions, now: i64) -> Population {
    let mut rng = random::rng_for(options.seed, u64::MAX);
    let n = options.learners;
    let instructors: Vec<Person> = (0..n.div_ceil(200).max(1))
        .map(|i| Person {
            id: random::uuid(&mut rng),
            email: format!("instructor{:03}@{EMAIL_DOMAIN}", i + 1),
            name: format!("Instructor {}", FIRST_NAMES[i % FIRST_NAMES.len()]),
        })
        .collect();
    let cohort_count = ((n as f64 / 120.0).round() as usize).max(1);
    let cohorts: Vec<Cohort> = (0..cohort_count)
        .map(|c| cohort(&mut rng, catalog, c, instructors.len(), now))
        .collect();
    let cohort_weights: Vec<f64> = cohorts.iter().map(|_| rng.gen_range(0.6..1.4)).collect();
    let window = i64::from(options.days.max(2)) * DAY;
    let mut learners: Vec<Learner> = (0..n)
        .map(|i| learner(&mut rng, catalog, &cohorts, &cohort_weights, i, now, window))
        .collect();
    share_budget(&mut rng, &mut learners, options.events, window);
    Population {
        instructors,
        cohorts,
        learners,
    }
}

fn cohort(rng: &mut SeedRng, catalog: &Catalog, c: usize, instructors: usize, now: i64) -> Cohort {
    let mut code = [0u8; INVITE_LEN];
    rng.fill(&mut code[..]);
    let track = random::weighted(rng, &track_weights(catalog.paths.len()));
    let theme = COHORT_THEMES[rng.gen_range(0..COHORT_THEMES.len())];
    // A third of the invites ran out already: instructors renew them as they go.
    let expires = if c % 3 == 2 {
        now - 3 * DAY
    } else {
        now + 14 * DAY
    };
    Cohort {
        id: random::uuid(rng),
        name: format!(
            "{theme} cohort {:02} ({})",
            c + 1,
            catalog.paths[track].slug
        ),
        instructor: c % instructors,
        invite_code: InviteCode::from_random(code).to_string(),
        invite_expires_at: expires,
        track,
    }
}

/// How likely each path is as a starting point: the first listed most.
fn track_weights(paths: usize) -> Vec<f64> {
    (0..paths)
        .map(|p| [0.55, 0.35, 0.10].get(p).copied().unwrap_or(0.05))
        .collect()
}

fn learner(
    rng: &mut SeedRng,
    catalog: &Catalog,
    cohorts: &[Cohort],
    cohort_weights: &[f64],
    i: usize,
    now: i64,
    window: i64,
) -> Learner {
    let id = random::uuid(rng);
    let name = format!(
        "{} {}.",
        FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())],
        char::from(b'A' + rng.gen_range(0..26u8))
    );
    let cohort = (rng.r#gen::<f64>() >= 0.05).then(|| random::weighted(rng, cohort_weights));
    let ability = normal(rng);
    let first = match cohort {
        Some(c) if rng.r#gen::<f64>() < 0.8 => cohorts[c].track,
        _ => random::weighted(rng, &track_weights(catalog.paths.len())),
    };
    let path_order: Vec<usize> = std::iter::once(first)
        .chain((0..catalog.paths.len()).filter(|&p| p != first))
        .collect();
    let wheel_spinner = rng.r#gen::<f64>() < 0.08;
    let truth = truths(rng, catalog, ability, wheel_spinner.then_some(first));
    // Weaker learners drop out more often; about 15% overall.
    let pace = if rng.r#gen::<f64>() < 0.30 * phi(-0.8 * ability) {
        Pace::Dropout
    } else if rng.r#gen::<f64>() < 0.15 {
        Pace::Slowing
    } else {
        Pace::Steady
    };
    let late = pace != Pace::Dropout && rng.r#gen::<f64>() < 0.2;
    let start = if late {
        now - (window as f64 * rng.gen_range(0.1..0.5)) as i64
    } else {
        now - (window as f64 * (1.0 - rng.gen_range(0.0..0.15))) as i64
    };
    let end = match pace {
        // At least four days quiet before now, and at least a day on the platform.
        Pace::Dropout => {
            let last = (now - 4 * DAY).max(start + DAY);
            start + DAY + ((last - start - DAY) as f64 * rng.gen_range(0.05..1.0)) as i64
        }
        _ => now - 60_000_000,
    };
    let hour = match rng.r#gen::<f64>() {
        x if x < 0.6 => rng.gen_range(17.0..23.0),
        x if x < 0.9 => rng.gen_range(8.0..17.0),
        _ => rng.gen_range(23.0..26.0),
    };
    Learner {
        person: Person {
            id,
            email: format!("learner{:05}@{EMAIL_DOMAIN}", i + 1),
            name,
        },
        stream: rng.r#gen(),
        cohort,
        ability,
        truth,
        wheel_spinner,
        budget: 0,
        sessions: 0,
        start,
        end,
        pace,
        path_order,
        persistence: 4 + rng.gen_range(0..=12) + u32::from(ability > 0.0) * 2,
        hour,
    }
}

/// A learner's hidden levels: mostly their ability, partly the skill. A wheel
/// spinner starts low on two skills of their first path and hardly improves.
fn truths(
    rng: &mut SeedRng,
    catalog: &Catalog,
    ability: f64,
    spin_on: Option<usize>,
) -> Vec<Truth> {
    let mut truth: Vec<Truth> = catalog
        .skills
        .iter()
        .map(|_| Truth {
            initial: 0.08 + 0.62 * phi(1.3 * ability + 0.4 * normal(rng)),
            mastered: 0.85 + 0.13 * phi(0.8 * ability + 0.5 * normal(rng)),
            learn_rate: 0.1 + 0.5 * phi(1.0 * ability + 0.5 * normal(rng)),
        })
        .collect();
    if let Some(path) = spin_on {
        let mut skills: Vec<u16> = catalog.paths[path]
            .nodes
            .iter()
            .flat_map(|&n| catalog.nodes[n].skills.iter().copied())
            .collect();
        skills.sort_unstable();
        skills.dedup();
        for _ in 0..2.min(skills.len()) {
            let s = skills.swap_remove(rng.gen_range(0..skills.len()));
            if let Some(t) = truth.get_mut(usize::from(s)) {
                t.initial = rng.gen_range(0.04..0.12);
                t.learn_rate = rng.gen_range(0.01..0.04);
            }
        }
    }
    truth
}

/// Splits `events` over the learners, exactly: the engaged and those around longer
/// get more; then plans their sessions (a few a week, longer for the keen).
fn share_budget(rng: &mut SeedRng, learners: &mut [Learner], events: u64, window: i64) {
    let weights: Vec<f64> = learners
        .iter()
        .map(|l| {
            let engagement = (0.7 * normal(rng) + 0.25 * l.ability).exp();
            let active = (l.end - l.start) as f64 / window as f64;
            engagement * active.clamp(0.05, 1.0)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = 0.0;
    let mut given: u64 = 0;
    for (l, w) in learners.iter_mut().zip(&weights) {
        cumulative += w;
        // Rounding the running total, not each share, makes the shares sum to `events`.
        let upto = if total > 0.0 {
            (events as f64 * cumulative / total).round() as u64
        } else {
            0
        };
        let upto = upto.min(events);
        l.budget = u32::try_from(upto.saturating_sub(given)).unwrap_or(u32::MAX);
        given = upto.max(given);
        let weeks = (l.end - l.start) as f64 / (7 * DAY) as f64;
        let per_week = (1.0 + 2.0 * w.sqrt() * rng.gen_range(0.6..1.4)).clamp(1.0, 10.0);
        let budget = f64::from(l.budget);
        let wanted = (weeks * per_week).round();
        // Sessions of 6 to 150 events.
        l.sessions = wanted.clamp((budget / 150.0).ceil(), (budget / 6.0).floor().max(1.0)) as u32;
    }
    if let Some(last) = learners.last_mut() {
        // Floating-point slack lands on the last learner, so the total is exact.
        let short = events.saturating_sub(given);
        last.budget = last
            .budget
            .saturating_add(u32::try_from(short).unwrap_or(u32::MAX));
    }
}
