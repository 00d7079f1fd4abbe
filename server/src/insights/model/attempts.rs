//! Every attempt, read from PostgreSQL into compact indices, and replayed.
//!
//! In: the `verdict` events on path nodes and each node's skills
//! (`insights_node_skills`). Out: [`Attempts`], each attempt 16 bytes of indices
//! (never strings: two million of them are 32 MB), in learner then time order;
//! [`replay`] turns them into the model's examples. Learners are split into
//! training and held-out ones by [`held_out`], a fixed hash of their id.
//!
//! Every verdict (verdicts always name a node) counts once towards the
//! learner's totals; an attempt at a node deleted since has no skills and no
//! item, but still counts for the learner.

use eduscale_core::insights::pfa::{Example, ItemId, Items, SkillId, Skills, Tracer};
use futures_util::TryStreamExt;
use sqlx::PgPool;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// One attempt: indices into [`Attempts`], not ids, to keep millions small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Index into [`Attempts::learners`].
    pub learner: u32,
    /// Index into [`Attempts::nodes`]; `None` for a node deleted since.
    pub node: Option<u32>,
    /// Whether every test passed.
    pub passed: bool,
}

/// Every attempt, in learner then time order, with the tables its indices point into.
#[derive(Clone, Debug, Default)]
pub struct Attempts {
    /// Learner ids by index.
    pub learners: Vec<Uuid>,
    /// The skill names.
    pub skills: Skills,
    /// The nodes' ids as text, by node index (a node's `ItemId` is its index).
    pub items: Items,
    /// Each node's skills, by node index.
    pub nodes: Vec<Vec<SkillId>>,
    /// The attempts.
    pub rows: Vec<Attempt>,
}

/// Loads every verdict on a path node.
///
/// The events are read in whatever order a sequential scan gives and sorted
/// here: `ORDER BY user_id, at` walks the `(user_id, at)` index into a heap laid
/// out in time order, one random page read per row (6 s for 2 million rows,
/// against 0.5 s for the scan). Learner indices follow the ids' order, so the
/// result does not depend on where rows happen to lie on disk.
pub async fn load_attempts(db: &PgPool) -> Result<Attempts, sqlx::Error> {
    let mut attempts = Attempts::default();
    let mut node_index: HashMap<i64, u32> = HashMap::new();
    let mut nodes = sqlx::query_as::<_, (i64, Option<String>)>(
        "SELECT n.id, s.skill FROM path_nodes n
         LEFT JOIN insights_node_skills s ON s.node_id = n.id
         ORDER BY n.id, s.skill",
    )
    .fetch(db);
    while let Some((node, skill)) = nodes.try_next().await? {
        let index = *node_index.entry(node).or_insert_with(|| {
            attempts.nodes.push(Vec::new());
            attempts.items.intern(&node.to_string()).0
        });
        if let Some(skill) = skill {
            let id = attempts.skills.intern(&skill);
            attempts.nodes[index as usize].push(id);
        }
    }
    drop(nodes);

    /// A row as read: the learner's index in arrival order, then the time
    /// (µs) and id that order a learner's attempts.
    struct Read {
        learner: u32,
        at: i64,
        id: i64,
        node: Option<u32>,
        passed: bool,
    }
    let mut learner_index: HashMap<Uuid, u32> = HashMap::new();
    let mut read: Vec<Read> = Vec::new();
    let mut rows = sqlx::query_as::<_, (Uuid, i64, bool, OffsetDateTime, i64)>(
        "SELECT user_id, node_id, passed, at, id FROM events
         WHERE kind = 'verdict' AND node_id IS NOT NULL",
    )
    .fetch(db);
    while let Some((user, node, passed, at, id)) = rows.try_next().await? {
        let next = index_of(learner_index.len());
        let learner = *learner_index.entry(user).or_insert(next);
        read.push(Read {
            learner,
            // i64 microseconds reach 292 000 years either side of 1970.
            at: i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX),
            id,
            // A node deleted since still counts for the learner.
            node: node_index.get(&node).copied(),
            passed,
        });
    }
    drop(rows);

    let mut learners: Vec<(Uuid, u32)> = learner_index.into_iter().collect();
    learners.sort_unstable();
    let mut rank = vec![0u32; learners.len()];
    for (sorted, (_, arrival)) in learners.iter().enumerate() {
        rank[*arrival as usize] = index_of(sorted);
    }
    attempts.learners = learners.into_iter().map(|(id, _)| id).collect();
    for r in &mut read {
        r.learner = rank[r.learner as usize];
    }
    // Event ids are unique, so the order is total and an unstable sort exact.
    read.sort_unstable_by_key(|r| (r.learner, r.at, r.id));
    attempts.rows = read
        .into_iter()
        .map(|r| Attempt {
            learner: r.learner,
            node: r.node,
            passed: r.passed,
        })
        .collect();
    Ok(attempts)
}

/// Indices are u32 to halve the memory of millions of attempts; four billion
/// learners or nodes is out of reach, so saturating is only a formality.
fn index_of(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Replays the attempts into examples: first those of learners `first` says
/// yes to, then the rest (each in its own time order, so the features are as if
/// replayed together: a learner's counts depend on their attempts alone).
/// Returns the examples, how many came first, and the tracer with final counts.
pub fn replay(attempts: &Attempts, first: impl Fn(u32) -> bool) -> (Vec<Example>, usize, Tracer) {
    let mut tracer = Tracer::new();
    let mut examples = Vec::with_capacity(attempts.rows.len());
    let mut observe = |a: &Attempt| match a.node {
        Some(node) => {
            let skills = attempts
                .nodes
                .get(node as usize)
                .map_or(&[][..], Vec::as_slice);
            tracer.observe_item(a.learner, ItemId(node), skills, a.passed)
        }
        None => tracer.observe(a.learner, &[], a.passed),
    };
    examples.extend(
        attempts
            .rows
            .iter()
            .filter(|a| first(a.learner))
            .map(&mut observe),
    );
    let split = examples.len();
    examples.extend(
        attempts
            .rows
            .iter()
            .filter(|a| !first(a.learner))
            .map(&mut observe),
    );
    (examples, split, tracer)
}

/// Whether a learner is in the held-out share: a fixed hash of the id, so the
/// same learners are held out on every run and every machine.
pub fn held_out(learner: &Uuid, share: f64) -> bool {
    let (hi, lo) = learner.as_u64_pair();
    let h = splitmix64(hi ^ splitmix64(lo));
    ((h >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// SplitMix64's finaliser: ids that differ in one bit land far apart.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_stable_and_close_to_the_share() {
        let ids: Vec<Uuid> = (0..10_000u128).map(Uuid::from_u128).collect();
        let held = ids.iter().filter(|id| held_out(id, 0.2)).count();
        assert!((1800..2200).contains(&held), "{held}");
        assert!(ids.iter().all(|id| held_out(id, 0.2) == held_out(id, 0.2)));
        assert!(
            ids.iter().all(|id| !held_out(id, 0.2) || held_out(id, 0.5)),
            "nested"
        );
    }
}
