//! Replaying attempts into what the model learns from: the name tables and the
//! tracer.
//!
//! In: attempts in time order, one learner's before their later ones (learners
//! may interleave). Out: one [`Example`] per attempt holding the counts as they
//! stood *before* it, so a prediction never sees the answer it predicts. Counts
//! are kept per (learner, skill), per (learner, item) and per learner; skills
//! and items are interned to small ids so two million attempts do not carry two
//! million strings.

use super::{Example, Features, ItemCounts, SkillCounts};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A skill's index in a [`Skills`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SkillId(pub u32);

/// An item's (a path node's) index in an [`Items`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemId(pub u32);

/// An id an [`Interner`] hands out: a dense index.
pub trait Id: Copy {
    /// The id of index `i`.
    fn from_index(i: u32) -> Self;
    /// The index of this id.
    fn index(self) -> u32;
}

impl Id for SkillId {
    fn from_index(i: u32) -> Self {
        Self(i)
    }
    fn index(self) -> u32 {
        self.0
    }
}

impl Id for ItemId {
    fn from_index(i: u32) -> Self {
        Self(i)
    }
    fn index(self) -> u32 {
        self.0
    }
}

/// Names and their ids, both ways; ids are handed out 0, 1, 2, ... in
/// first-seen order, so a table and the ids made from it stay in step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>", bound = "I: Id")]
pub struct Interner<I> {
    names: Vec<String>,
    ids: HashMap<String, I>,
}

/// Skill names by [`SkillId`].
pub type Skills = Interner<SkillId>;
/// Item names (path node ids, as text) by [`ItemId`].
pub type Items = Interner<ItemId>;

impl<I> Default for Interner<I> {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            ids: HashMap::new(),
        }
    }
}

impl<I: Id> Interner<I> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `name`, adding it if it is new.
    pub fn intern(&mut self, name: &str) -> I {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        // More than 4 billion distinct names cannot come from content.
        let id = I::from_index(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// The id of `name`, if the table has it.
    pub fn id(&self, name: &str) -> Option<I> {
        self.ids.get(name).copied()
    }

    /// The name behind `id`, if it is from this table.
    pub fn name(&self, id: I) -> Option<&str> {
        self.names.get(id.index() as usize).map(String::as_str)
    }

    /// How many names the table holds.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table holds no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every `(id, name)`, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (I, &str)> {
        (0u32..)
            .zip(&self.names)
            .map(|(i, n)| (I::from_index(i), n.as_str()))
    }
}

impl<I: Id> TryFrom<Vec<String>> for Interner<I> {
    type Error = String;

    /// Rebuilds a table from its names in id order; a repeated name would make
    /// two ids for one name, so it is refused.
    fn try_from(names: Vec<String>) -> Result<Self, Self::Error> {
        let mut table = Self::new();
        for name in &names {
            if table.id(name).is_some() {
                return Err(format!("{name:?} is listed twice"));
            }
            table.intern(name);
        }
        Ok(table)
    }
}

impl<I> From<Interner<I>> for Vec<String> {
    fn from(table: Interner<I>) -> Self {
        table.names
    }
}

/// Successes and failures so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Attempts that passed.
    pub successes: u32,
    /// Attempts that did not.
    pub failures: u32,
}

impl Tally {
    fn record(&mut self, passed: bool) {
        let count = if passed {
            &mut self.successes
        } else {
            &mut self.failures
        };
        *count = count.saturating_add(1);
    }
}

/// Counts every learner's attempts as they are replayed, and turns each attempt
/// into a training example.
#[derive(Clone, Debug, Default)]
pub struct Tracer {
    /// Keyed by `learner << 32 | skill`: one flat map is faster and smaller than
    /// a map of maps for the ~40 skills a learner touches.
    per_skill: HashMap<u64, Tally>,
    /// Keyed by `learner << 32 | item`.
    per_item: HashMap<u64, Tally>,
    /// Indexed by learner.
    per_learner: Vec<Tally>,
}

fn key(learner: u32, index: u32) -> u64 {
    (u64::from(learner) << 32) | u64::from(index)
}

impl Tracer {
    /// A tracer that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The features of `learner`'s next attempt at `item` (if known), which needs
    /// `skills` (a skill listed twice counts once), without recording anything.
    pub fn features(&self, learner: u32, item: Option<ItemId>, skills: &[SkillId]) -> Features {
        let mut ids = skills.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let own = self.learner(learner);
        Features {
            skills: ids
                .into_iter()
                .map(|skill| {
                    let t = self.skill(learner, skill);
                    SkillCounts {
                        skill,
                        successes: t.successes,
                        failures: t.failures,
                    }
                })
                .collect(),
            item: item.map(|item| {
                let t = self.item(learner, item);
                ItemCounts {
                    item,
                    successes: t.successes,
                    failures: t.failures,
                }
            }),
            learner_successes: own.successes,
            learner_failures: own.failures,
        }
    }

    /// Records one attempt at an item the caller does not name, and returns it
    /// as an example: the features as they stood before it, and its outcome.
    pub fn observe(&mut self, learner: u32, skills: &[SkillId], passed: bool) -> Example {
        self.observe_at(learner, None, skills, passed)
    }

    /// [`Self::observe`] for an attempt at `item`: the model also learns how hard
    /// that item is, and how repeated attempts at it go.
    pub fn observe_item(
        &mut self,
        learner: u32,
        item: ItemId,
        skills: &[SkillId],
        passed: bool,
    ) -> Example {
        self.observe_at(learner, Some(item), skills, passed)
    }

    fn observe_at(
        &mut self,
        learner: u32,
        item: Option<ItemId>,
        skills: &[SkillId],
        passed: bool,
    ) -> Example {
        let features = self.features(learner, item, skills);
        for s in &features.skills {
            self.per_skill
                .entry(key(learner, s.skill.0))
                .or_default()
                .record(passed);
        }
        if let Some(item) = item {
            self.per_item
                .entry(key(learner, item.0))
                .or_default()
                .record(passed);
        }
        let index = learner as usize;
        if self.per_learner.len() <= index {
            self.per_learner.resize(index + 1, Tally::default());
        }
        self.per_learner[index].record(passed);
        Example { features, passed }
    }

    /// `learner`'s record on `skill` so far.
    pub fn skill(&self, learner: u32, skill: SkillId) -> Tally {
        self.per_skill
            .get(&key(learner, skill.0))
            .copied()
            .unwrap_or_default()
    }

    /// `learner`'s record on `item` so far.
    pub fn item(&self, learner: u32, item: ItemId) -> Tally {
        self.per_item
            .get(&key(learner, item.0))
            .copied()
            .unwrap_or_default()
    }

    /// `learner`'s record over every skill so far (each attempt once).
    pub fn learner(&self, learner: u32) -> Tally {
        self.per_learner
            .get(learner as usize)
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_example_holds_the_counts_from_before_its_attempt() {
        let mut skills = Skills::new();
        let loops = skills.intern("loops");
        let strings = skills.intern("strings");
        let mut tracer = Tracer::new();

        let first = tracer.observe(7, &[loops], false);
        assert_eq!(first.features.skills[0].failures, 0);
        assert_eq!(first.features.learner_failures, 0);
        assert!(!first.passed);

        tracer.observe(7, &[loops], true);
        let third = tracer.observe(7, &[strings, loops, loops], true);
        assert_eq!(
            third.features.skills,
            vec![
                SkillCounts {
                    skill: loops,
                    successes: 1,
                    failures: 1
                },
                SkillCounts {
                    skill: strings,
                    successes: 0,
                    failures: 0
                },
            ],
            "skills sorted and listed once, counts from before"
        );
        assert_eq!(
            (
                third.features.learner_successes,
                third.features.learner_failures
            ),
            (1, 1)
        );
        assert_eq!(
            tracer.skill(7, loops),
            Tally {
                successes: 2,
                failures: 1
            }
        );
        assert_eq!(tracer.learner(3), Tally::default(), "another learner");
        assert_eq!(third.features.item, None);
    }

    #[test]
    fn an_item_keeps_its_own_counts() {
        let mut skills = Skills::new();
        let loops = skills.intern("loops");
        let mut items = Items::new();
        let (a, b) = (items.intern("101"), items.intern("102"));
        let mut tracer = Tracer::new();
        tracer.observe_item(1, a, &[loops], false);
        tracer.observe_item(1, a, &[loops], false);
        let on_b = tracer.observe_item(1, b, &[loops], true);
        let item = on_b.features.item.expect("item");
        assert_eq!((item.item, item.successes, item.failures), (b, 0, 0));
        assert_eq!(on_b.features.skills[0].failures, 2, "the skill saw both");
        let back_on_a = tracer.features(1, Some(a), &[loops]);
        assert_eq!(back_on_a.item.map(|i| i.failures), Some(2));
    }

    #[test]
    fn a_skill_table_round_trips_through_json_and_refuses_duplicates() {
        let mut skills = Skills::new();
        let a = skills.intern("arrays");
        let b = skills.intern("graphs");
        assert_eq!(skills.intern("arrays"), a);
        let json = serde_json::to_string(&skills).expect("serialise");
        assert_eq!(json, r#"["arrays","graphs"]"#);
        let back: Skills = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back.id("graphs"), Some(b));
        assert_eq!(back.name(a), Some("arrays"));
        assert!(serde_json::from_str::<Skills>(r#"["a","a"]"#).is_err());
    }
}
