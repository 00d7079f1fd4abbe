//! The seeded world as rows: accounts, cohorts and memberships, hidden levels,
//! progress and events, each table in one binary COPY on the caller's transaction.
//!
//! Account and membership times follow the events: a learner's account is made
//! five minutes before their first event and they join their cohort a minute later,
//! so no dashboard sees activity before its learner existed.

use super::catalog::Catalog;
use super::people::Population;
use super::store::copy;
use super::story::{self, Kind, NONE, VERDICTS};
use super::timeline::{Placed, Row};
use indicatif::ProgressBar;
use sqlx::PgConnection;

const MINUTE: i64 = 60_000_000;
/// Seeded battles exist only in the events (no `battles` row: a battle without its
/// deltas could not be replayed), under ids far above any the arena hands out.
const SEED_BATTLES: i64 = 9_000_000_000_000_000;

/// Learner `user`'s battle number `battle` as an `events.battle_id`.
fn battle_id(user: u32, battle: u16) -> i64 {
    SEED_BATTLES + (i64::from(user) << 16) + i64::from(battle)
}

/// Instructors, learners, cohorts and memberships.
pub async fn people(
    conn: &mut PgConnection,
    population: &Population,
    placed: &[Placed],
    hash: &str,
    now: i64,
    days: u32,
) -> anyhow::Result<()> {
    let founded = super::founded(now, days);
    let instructors = population
        .instructors
        .iter()
        .map(|p| (p, "instructor", founded));
    let learners = population
        .learners
        .iter()
        .zip(placed)
        .map(|(l, p)| (&l.person, "learner", p.first_at - 5 * MINUTE));
    copy(
        conn,
        "COPY users (id, email, display_name, password_hash, role, created_at) FROM STDIN (FORMAT binary)",
        instructors.chain(learners),
        |b, (person, role, created)| {
            b.row(6)
                .uuid(person.id)
                .text(&person.email)
                .text(&person.name)
                .text(hash)
                .text(role)
                .ts(created);
        },
        None,
    )
    .await?;
    copy(
        conn,
        "COPY cohorts (id, name, instructor_id, invite_code, invite_expires_at, created_at) FROM STDIN (FORMAT binary)",
        &population.cohorts,
        |b, c| {
            b.row(6)
                .uuid(c.id)
                .text(&c.name)
                .uuid(population.instructors[c.instructor].id)
                .text(&c.invite_code)
                .ts(c.invite_expires_at)
                .ts(founded + 7 * super::DAY);
        },
        None,
    )
    .await?;
    let members = population.learners.iter().zip(placed).filter_map(|(l, p)| {
        l.cohort.map(|c| {
            (
                population.cohorts[c].id,
                l.person.id,
                p.first_at - 4 * MINUTE,
            )
        })
    });
    copy(
        conn,
        "COPY cohort_members (cohort_id, user_id, joined_at) FROM STDIN (FORMAT binary)",
        members,
        |b, (cohort, user, joined)| {
            b.row(3).uuid(cohort).uuid(user).ts(joined);
        },
        None,
    )
    .await?;
    Ok(())
}

/// Every learner's hidden level on every skill.
pub async fn truth(
    conn: &mut PgConnection,
    catalog: &Catalog,
    population: &Population,
) -> anyhow::Result<u64> {
    let rows = population.learners.iter().flat_map(|l| {
        l.truth
            .iter()
            .zip(&catalog.skills)
            .map(move |(t, skill)| (l.person.id, skill, t))
    });
    copy(
        conn,
        "COPY insights_seed_truth (user_id, skill, initial, mastered, learn_rate) FROM STDIN (FORMAT binary)",
        rows,
        |b, (user, skill, t)| {
            b.row(5).uuid(user).text(skill).f64(t.initial).f64(t.mastered).f64(t.learn_rate);
        },
        None,
    )
    .await
}

/// The progress rows the events imply.
pub async fn progress(
    conn: &mut PgConnection,
    catalog: &Catalog,
    population: &Population,
    placed: &[Placed],
) -> anyhow::Result<u64> {
    copy(
        conn,
        "COPY progress (user_id, node_id, path_id, stage, best_score, attempts, failures, time_spent_s,
                        first_opened_at, last_seen_at, passed_at) FROM STDIN (FORMAT binary)",
        placed.iter().flat_map(|p| p.progress.iter()),
        |b, r| {
            let node = &catalog.nodes[usize::from(r.node)];
            b.row(11)
                .uuid(population.learners[r.user as usize].person.id)
                .i64(node.id)
                .uuid(catalog.paths[node.path].id)
                .text(r.stage)
                .i16(i16::from(r.best))
                .i32(i32::try_from(r.attempts).unwrap_or(i32::MAX))
                .i32(i32::try_from(r.failures).unwrap_or(i32::MAX))
                .i32(i32::try_from(r.time_spent_s).unwrap_or(i32::MAX))
                .ts(r.first)
                .ts(r.last);
            match r.passed_at {
                Some(at) => b.ts(at),
                None => b.null(),
            };
        },
        None,
    )
    .await
}

/// Every event, in time order.
pub async fn events(
    conn: &mut PgConnection,
    catalog: &Catalog,
    population: &Population,
    events: &[Row],
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let pages = story::pages(catalog);
    copy(
        conn,
        "COPY events (at, user_id, kind, node_id, battle_id, passed, verdict, page) FROM STDIN (FORMAT binary)",
        events,
        |b, e| {
            let who = &population.learners[e.user as usize];
            b.row(8).ts(e.at).uuid(who.person.id).text(e.kind.as_str());
            // A page view names its page only, as the browser reports it.
            if e.node == NONE || e.kind == Kind::PageView {
                b.null();
            } else {
                b.i64(catalog.nodes[usize::from(e.node)].id);
            }
            if e.battle == NONE {
                b.null();
            } else {
                b.i64(battle_id(e.user, e.battle));
            }
            match e.verdict {
                0 => b.null().null(),
                v => b.bool(v == 1).text(VERDICTS[usize::from(v - 1)].id()),
            };
            if e.page == NONE {
                b.null();
            } else {
                b.text(&pages[usize::from(e.page)]);
            }
        },
        Some(bar),
    )
    .await
}
