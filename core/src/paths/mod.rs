//! Learning paths: a graph of lessons, challenges and checkpoints, the rules
//! that decide what each learner may open, and where to draw it all.
//!
//! In: a [`PathGraph`] (content import builds and [`validate`s](PathGraph::validate)
//! it) and one learner's stored [`Progress`] per node. Out: what the learner sees
//! ([`statuses`]), what an attempt writes ([`record_attempt`]), what is left and
//! what to do next ([`remaining`], [`recommend`]), and a drawing ([`layout()`]).
//!
//! These functions are the reference: the server computes statuses and what
//! remains in SQL for speed, and its property tests hold the SQL to these answers
//! on the random paths of `testing` (behind the `proptest` feature). The browser
//! links the same code; the layout runs there on every render.
//!
//! Every function takes the graph as given and assumes it passed `validate`;
//! on an invalid graph they do not panic, but their answers mean nothing.

pub mod attempt;
pub mod generate;
pub mod graph;
pub mod layout;
pub mod plan;
pub mod progress;
pub mod rules;
#[cfg(any(test, feature = "proptest"))]
pub mod testing;
mod validate;

pub use attempt::record_attempt;
pub use generate::{SplitMix64, generate_graph, generate_progress};
pub use graph::{Edge, GraphError, Node, NodeKind, PathGraph, UnknownName};
pub use layout::{Layout, NODE_HEIGHT, NODE_WIDTH, Point, crossings, layout};
pub use plan::{Reason, Recommendation, ancestors, descendants, recommend, remaining};
pub use progress::{NodeStatus, Progress, Stage};
pub use rules::{done, newly_opened, open_nodes, reach, satisfied, statuses, struggling, unlocked};
