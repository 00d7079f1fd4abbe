//! One learner's history as a story: sessions of events with the seconds between
//! them, and where the learner stands on each node at the end. No clock yet —
//! `timeline` places the sessions in time.
//!
//! The learner walks their paths in prerequisite order (a node opens once one node
//! of each of its requirement groups is passed, or skipped by a checkpoint), reads
//! lessons, runs and submits on challenges until the judge accepts, opens the
//! remedial node after repeated failures, leaves a node for a while after too many
//! failures in a row, and joins a battle now and then. Each submission passes with
//! the chance the hidden [`Truth`](super::people::Truth) gives after the learner's
//! attempts so far on the node's skills. The story has exactly the learner's
//! budget of events: an action that would not fit is replaced by page views.

use super::catalog::Catalog;
use super::people::Learner;
use super::random::{self, SeedRng, secs};
use super::story::{Ev, FIXED_PAGES, Kind, NONE, NodeState, Story, ev, idx};
use rand::Rng;

mod actions;

/// Tells `who`'s story: exactly `who.budget` events.
pub fn simulate(catalog: &Catalog, mixes: &[[f64; 6]], who: &Learner) -> Story {
    let mut sim = Sim {
        catalog,
        mixes,
        who,
        rng: random::rng_for(who.stream, 0),
        left: who.budget,
        events: Vec::with_capacity(who.budget as usize),
        sessions: Vec::new(),
        nodes: vec![NodeState::default(); catalog.nodes.len()],
        practice: vec![0; catalog.skills.len()],
        battles: 0,
        focus: None,
        back_to: None,
        on_path: None,
        viewed: None,
    };
    let mean = f64::from(who.budget) / f64::from(who.sessions.max(1));
    while sim.left > 0 {
        let target = (mean * sim.rng.gen_range(0.4..1.6)).round().max(3.0) as usize;
        sim.session(target);
    }
    Story {
        events: sim.events,
        sessions: sim.sessions,
        nodes: sim.nodes,
    }
}

struct Sim<'a> {
    catalog: &'a Catalog,
    mixes: &'a [[f64; 6]],
    who: &'a Learner,
    rng: SeedRng,
    /// Events still to tell.
    left: u32,
    events: Vec<Ev>,
    sessions: Vec<usize>,
    nodes: Vec<NodeState>,
    /// Attempts so far per skill.
    practice: Vec<u32>,
    battles: u16,
    /// The node being worked on, if the learner means to go on with it.
    focus: Option<usize>,
    /// The node to return to once the remedial node is passed.
    back_to: Option<usize>,
    on_path: Option<usize>,
    viewed: Option<usize>,
}

impl Sim<'_> {
    fn page(&self, gap: u32, page: usize, node: Option<usize>) -> Ev {
        Ev {
            page: idx(page),
            node: node.map_or(NONE, idx),
            ..ev(gap, Kind::PageView)
        }
    }

    fn path_page(&self, gap: u32, path: usize) -> Ev {
        self.page(gap, FIXED_PAGES.len() + path, None)
    }

    fn node_page(&self, gap: u32, node: usize) -> Ev {
        self.page(
            gap,
            FIXED_PAGES.len() + self.catalog.paths.len() + node,
            Some(node),
        )
    }

    /// Appends `group` when the budget allows, else spends what is left on page
    /// views and says no (the story is then over, so no state changes follow).
    fn commit(&mut self, group: Vec<Ev>) -> bool {
        let len = u32::try_from(group.len()).unwrap_or(u32::MAX);
        if len <= self.left {
            self.left -= len;
            self.events.extend(group);
            return true;
        }
        let page = group
            .iter()
            .find(|e| e.page != NONE)
            .map_or(0, |e| usize::from(e.page));
        let node = group
            .iter()
            .find(|e| e.node != NONE)
            .map(|e| usize::from(e.node));
        for _ in 0..self.left {
            let gap = secs(&mut self.rng, 5, 60);
            self.events.push(self.page(gap, page, node));
        }
        self.left = 0;
        false
    }

    fn session(&mut self, target: usize) {
        let begin = self.events.len();
        self.sessions.push(begin);
        self.on_path = None;
        self.viewed = None;
        let gap = secs(&mut self.rng, 1, 4);
        let home = vec![
            Ev {
                gap: 0,
                ..ev(1, Kind::LogIn)
            },
            self.page(gap, 0, None),
        ];
        if !self.commit(home) {
            return;
        }
        if self.rng.r#gen::<f64>() < 0.12 {
            self.battle();
        }
        while self.left > 0 && self.events.len() - begin < target {
            let whim: f64 = self.rng.r#gen();
            if whim < 0.04 {
                self.wander();
            } else if whim < 0.07 {
                self.playground();
            } else if whim < 0.10 {
                self.revisit();
            } else if let Some(node) = self.next_node() {
                self.work_on(node);
            } else if self.rng.r#gen::<f64>() < 0.5 {
                self.battle();
            } else {
                self.revisit();
            }
        }
    }

    /// The page views and `node_viewed` that getting to node `n` takes.
    fn open(&mut self, n: usize) -> Vec<Ev> {
        let path = self.catalog.nodes[n].path;
        let mut group = Vec::new();
        if self.on_path != Some(path) {
            let gap = secs(&mut self.rng, 3, 20);
            group.push(self.path_page(gap, path));
        }
        if self.viewed != Some(n) {
            let gap = secs(&mut self.rng, 2, 15);
            group.push(self.node_page(gap, n));
            group.push(Ev {
                node: idx(n),
                ..ev(1, Kind::NodeViewed)
            });
        }
        group
    }

    fn available(&self, n: usize) -> bool {
        let state = &self.nodes[n];
        if state.done() || state.abandoned {
            return false;
        }
        let node = &self.catalog.nodes[n];
        if node.remedial_for.is_some() {
            return state.remediation;
        }
        node.groups
            .iter()
            .all(|group| group.iter().any(|&from| self.nodes[from].done()))
    }

    /// The node to work on next: the focus, an opened remedial node, else the
    /// first open node of the first path that has one (often the first in file
    /// order, the preferred route). With nothing open, abandoned nodes get
    /// another go; with nothing left at all, `None`.
    fn next_node(&mut self) -> Option<usize> {
        if let Some(f) = self.focus.filter(|&f| self.available(f)) {
            return Some(f);
        }
        self.focus = None;
        for round in 0..2 {
            for &p in &self.who.path_order {
                let open: Vec<usize> = self.catalog.paths[p]
                    .nodes
                    .iter()
                    .copied()
                    .filter(|&n| self.available(n))
                    .collect();
                if let Some(&r) = open
                    .iter()
                    .find(|&&n| self.catalog.nodes[n].remedial_for.is_some())
                {
                    return Some(r);
                }
                if !open.is_empty() {
                    let pick = if self.rng.r#gen::<f64>() < 0.65 {
                        0
                    } else {
                        self.rng.gen_range(0..open.len())
                    };
                    return Some(open[pick]);
                }
            }
            if round == 0 {
                let mut any = false;
                for state in &mut self.nodes {
                    any |= state.abandoned;
                    state.abandoned = false;
                    state.streak = 0;
                }
                if !any {
                    break;
                }
            }
        }
        None
    }
}
