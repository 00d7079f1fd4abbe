//! The shape of a learning path: nodes (lessons, challenges, checkpoints) joined
//! by prerequisite edges, as content import produces it and the database stores it.
//!
//! A node is named by its index in `nodes` everywhere else in `paths`; the key is
//! for people and URLs. Nothing here knows about a learner: that is `progress`.
//! Import calls [`PathGraph::validate`] once; the rules and the layout assume a
//! valid graph (they do not panic on an invalid one, but their answers mean nothing).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The score a node needs unless its content says otherwise: everything right.
pub const DEFAULT_PASS_SCORE: u8 = 100;
/// Failed attempts after which a node's remedial nodes open.
pub const DEFAULT_REMEDIATE_AFTER_FAILURES: u32 = 3;
/// A best score (after at least one attempt) below which a node's remedial nodes open.
pub const DEFAULT_REMEDIATE_BELOW_SCORE: u8 = 50;

/// What a node asks of the learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Text to read; finishing it is recorded as an attempt scoring 100.
    Lesson,
    /// A coding challenge, scored 0..=100 by the judge.
    Challenge,
    /// A test: passing it skips the nodes it guards.
    Checkpoint,
}

impl NodeKind {
    /// Every kind, in the order editors list them.
    pub const ALL: [NodeKind; 3] = [NodeKind::Lesson, NodeKind::Challenge, NodeKind::Checkpoint];

    /// The name stored in `path_nodes.kind` and carried on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Lesson => "lesson",
            NodeKind::Challenge => "challenge",
            NodeKind::Checkpoint => "checkpoint",
        }
    }
}

impl FromStr for NodeKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName::new("node kind", s))
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored name (a kind, a stage) that is none of the known ones: the database
/// and this crate disagree, which is our fault, never the learner's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownName {
    /// What was being parsed ("node kind", "stage", ...).
    pub what: &'static str,
    /// The text that matched nothing.
    pub value: String,
}

impl UnknownName {
    pub(crate) fn new(what: &'static str, value: &str) -> Self {
        Self {
            what,
            value: value.to_owned(),
        }
    }
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Unique within its path, e.g. `loops`; content and URLs name the node by it.
    pub key: String,
    /// Lesson, challenge or checkpoint.
    pub kind: NodeKind,
    /// What learners read on the node.
    pub title: String,
    /// A remedial node: the index of the node it helps with. It has no prerequisite
    /// edges; it opens only when the learner struggles on that node.
    #[serde(default)]
    pub remedial_for: Option<usize>,
    /// A checkpoint: the nodes that passing it tests the learner out of (any but itself).
    #[serde(default)]
    pub guards: Vec<usize>,
    /// 0..=100; a score at or above it passes.
    #[serde(default = "default_pass_score")]
    pub pass_score: u8,
    /// Failed attempts after which the learner counts as struggling here (at least 1).
    #[serde(default = "default_remediate_after_failures")]
    pub remediate_after_failures: u32,
    /// 0..=100; a best score below it, after an attempt, counts as struggling here.
    #[serde(default = "default_remediate_below_score")]
    pub remediate_below_score: u8,
}

fn default_pass_score() -> u8 {
    DEFAULT_PASS_SCORE
}

fn default_remediate_after_failures() -> u32 {
    DEFAULT_REMEDIATE_AFTER_FAILURES
}

fn default_remediate_below_score() -> u8 {
    DEFAULT_REMEDIATE_BELOW_SCORE
}

impl Node {
    /// A node with the default thresholds, no guards, not remedial.
    pub fn new(key: impl Into<String>, kind: NodeKind, title: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            kind,
            title: title.into(),
            remedial_for: None,
            guards: Vec::new(),
            pass_score: DEFAULT_PASS_SCORE,
            remediate_after_failures: DEFAULT_REMEDIATE_AFTER_FAILURES,
            remediate_below_score: DEFAULT_REMEDIATE_BELOW_SCORE,
        }
    }

    /// True for a remedial node (one that helps with another node).
    pub fn is_remedial(&self) -> bool {
        self.remedial_for.is_some()
    }
}

/// A prerequisite: `from` must be done, with at least `min_score`, before `to` opens.
///
/// Edges into the same `to` with the same `group` are alternatives (any one
/// suffices, the first in [`PathGraph::edges`] is the preferred route); different
/// groups into one node are all required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The prerequisite's index.
    pub from: usize,
    /// The index of the node it opens.
    pub to: usize,
    /// 0..=100: the best score `from` needs (a skipped `from` meets any).
    #[serde(default)]
    pub min_score: u8,
    /// The requirement group within `to`'s incoming edges.
    pub group: u32,
}

/// A learning path: its nodes and the prerequisite edges between them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PathGraph {
    /// The nodes; an index into this is a node's identity in every other function.
    pub nodes: Vec<Node>,
    /// The prerequisites; their order ranks alternatives within a group.
    pub edges: Vec<Edge>,
}

/// Why a path's content was refused at import. The message is for the author of
/// the path, and names the nodes by key so they can find them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GraphError {
    /// Two nodes share a key.
    #[error("two nodes have the key {key:?}")]
    DuplicateKey { key: String },
    /// A node's pass score or remediation score is above 100.
    #[error("node {key:?} has a score of {score}, above 100")]
    NodeScoreOutOfRange { key: String, score: u8 },
    /// A node would count as struggling before its first attempt.
    #[error("node {key:?} must allow at least one failure before remediation")]
    NoFailuresAllowed { key: String },
    /// An edge names a node that does not exist.
    #[error("edge #{edge} names node #{index}, but the path has {nodes} nodes")]
    EdgeOutOfRange {
        edge: usize,
        index: usize,
        nodes: usize,
    },
    /// A node is its own prerequisite.
    #[error("node {key:?} is its own prerequisite")]
    SelfLoop { key: String },
    /// An edge asks for a score above 100.
    #[error("the edge {from:?} -> {to:?} asks for a score of {score}, above 100")]
    EdgeScoreOutOfRange { from: String, to: String, score: u8 },
    /// The same prerequisite is given twice.
    #[error("the edge {from:?} -> {to:?} is given twice")]
    DuplicateEdge { from: String, to: String },
    /// A remedial node has a prerequisite: it opens only by struggling on its target.
    #[error("remedial node {to:?} cannot have a prerequisite ({from:?})")]
    EdgeIntoRemedial { from: String, to: String },
    /// A node depends on a remedial node, which most learners never open.
    #[error("node {to:?} cannot depend on remedial node {from:?}")]
    EdgeFromRemedial { from: String, to: String },
    /// A remedial node helps with a node that does not exist.
    #[error("remedial node {key:?} helps with node #{target}, which does not exist")]
    RemedialTargetOutOfRange { key: String, target: usize },
    /// A remedial node helps with itself.
    #[error("remedial node {key:?} cannot help with itself")]
    RemedialForItself { key: String },
    /// A remedial node helps with another remedial node.
    #[error("remedial node {key:?} helps with {target:?}, which is remedial too")]
    RemedialForRemedial { key: String, target: String },
    /// A node that is not a checkpoint has guards.
    #[error("node {key:?} has guards but is not a checkpoint")]
    GuardsOnNonCheckpoint { key: String },
    /// A checkpoint guards a node that does not exist.
    #[error("checkpoint {checkpoint:?} guards node #{guard}, which does not exist")]
    GuardOutOfRange { checkpoint: String, guard: usize },
    /// A checkpoint lists the same guarded node twice.
    #[error("checkpoint {checkpoint:?} guards {guard:?} twice")]
    DuplicateGuard { checkpoint: String, guard: String },
    /// A checkpoint guards a remedial node.
    #[error("checkpoint {checkpoint:?} guards remedial node {guard:?}")]
    GuardRemedial { checkpoint: String, guard: String },
    /// A checkpoint guards itself.
    #[error("checkpoint {checkpoint:?} cannot guard itself")]
    GuardSelf { checkpoint: String },
    /// The prerequisites go round in a circle, so none of them could ever open.
    #[error("the prerequisites form a cycle: {}", cycle_text(keys))]
    Cycle {
        /// The keys along the cycle, each a prerequisite of the next and the last of the first.
        keys: Vec<String>,
    },
}

fn cycle_text(keys: &[String]) -> String {
    let mut text = keys.join(" -> ");
    if let Some(first) = keys.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}

impl PathGraph {
    /// The index of the node with this key.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.key == key)
    }

    /// The longest-path layer of each node: 0 for a node without prerequisites,
    /// otherwise one more than its deepest prerequisite. A remedial node sits one
    /// layer below its target.
    pub fn layers(&self) -> Vec<u32> {
        let n = self.nodes.len();
        let adjacency = self.adjacency();
        let mut waiting: Vec<usize> = adjacency
            .groups
            .iter()
            .map(|g| g.iter().map(Vec::len).sum())
            .collect();
        let mut layer = vec![0u32; n];
        // Kahn's order: a node's layer is final once all its prerequisites are placed.
        // Nodes on a cycle (an invalid graph) are never released and keep what they got.
        let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
        while let Some(node) = ready.pop() {
            for &e in &adjacency.outgoing[node] {
                let to = self.edges[e].to;
                layer[to] = layer[to].max(layer[node] + 1);
                waiting[to] -= 1;
                if waiting[to] == 0 {
                    ready.push(to);
                }
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if let Some(target) = node.remedial_for.filter(|&t| t < n && t != i) {
                layer[i] = layer[target] + 1;
            }
        }
        layer
    }

    /// The key of node `i`, or `#i` when there is no such node (for error messages).
    pub(crate) fn key(&self, i: usize) -> String {
        self.nodes
            .get(i)
            .map_or_else(|| format!("#{i}"), |n| n.key.clone())
    }

    /// The edges around each node, computed once per call of a rule. Edges naming
    /// a missing node are left out.
    pub(crate) fn adjacency(&self) -> Adjacency {
        let n = self.nodes.len();
        let mut groups: Vec<Vec<Vec<usize>>> = vec![Vec::new(); n];
        let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut remedials: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, edge) in self.edges.iter().enumerate() {
            if edge.from >= n || edge.to >= n {
                continue;
            }
            outgoing[edge.from].push(i);
            let into = &mut groups[edge.to];
            match into.iter_mut().find(|g| {
                g.first()
                    .is_some_and(|&f| self.edges[f].group == edge.group)
            }) {
                Some(group) => group.push(i),
                None => into.push(vec![i]),
            }
        }
        for (r, node) in self.nodes.iter().enumerate() {
            if let Some(target) = node.remedial_for.filter(|&t| t < n) {
                remedials[target].push(r);
            }
        }
        Adjacency {
            groups,
            outgoing,
            remedials,
        }
    }
}

/// Each node's surroundings, by edge and node index.
pub(crate) struct Adjacency {
    /// Per node, its incoming edges by requirement group: groups in the order of
    /// their first edge, each group's edges in `edges` order (so `group[0]` is the
    /// preferred alternative).
    pub groups: Vec<Vec<Vec<usize>>>,
    /// Per node, the edges leaving it, in `edges` order.
    pub outgoing: Vec<Vec<usize>>,
    /// Per node, the remedial nodes that help with it, ascending.
    pub remedials: Vec<Vec<usize>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::testing::fixtures::{edge, lessons};

    #[test]
    fn kind_names_round_trip_through_from_str_and_serde() {
        for kind in NodeKind::ALL {
            assert_eq!(kind.as_str().parse::<NodeKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert!("Lesson".parse::<NodeKind>().is_err());
    }

    #[test]
    fn node_thresholds_default_when_content_leaves_them_out() {
        let node: Node =
            serde_json::from_str(r#"{"key":"loops","kind":"challenge","title":"Loops"}"#).unwrap();
        assert_eq!(node, Node::new("loops", NodeKind::Challenge, "Loops"));
    }

    #[test]
    fn cycle_message_names_the_keys_in_order() {
        let error = GraphError::Cycle {
            keys: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(
            error.to_string(),
            "the prerequisites form a cycle: a -> b -> c -> a"
        );
    }

    #[test]
    fn layers_take_the_longest_route_and_put_remedial_nodes_below_their_target() {
        // a -> b -> c -> d, a -> d; help is remedial for b.
        let mut graph = lessons(
            &["a", "b", "c", "d", "help"],
            &[
                edge(0, 1, 0, 0),
                edge(1, 2, 0, 0),
                edge(2, 3, 0, 0),
                edge(0, 3, 0, 1),
            ],
        );
        graph.nodes[4].remedial_for = Some(1);
        assert_eq!(graph.layers(), vec![0, 1, 2, 3, 2]);
    }

    #[test]
    fn adjacency_groups_alternatives_in_edge_order() {
        // Into d: b or c (group 7, b first), and a (group 3).
        let graph = lessons(
            &["a", "b", "c", "d"],
            &[
                edge(1, 3, 0, 7),
                edge(0, 3, 0, 3),
                edge(0, 1, 0, 7),
                edge(2, 3, 0, 7),
            ],
        );
        let adjacency = graph.adjacency();
        assert_eq!(adjacency.groups[3], vec![vec![0, 3], vec![1]]);
        assert_eq!(adjacency.groups[1], vec![vec![2]]);
        assert_eq!(adjacency.outgoing[0], vec![1, 2]);
    }
}
