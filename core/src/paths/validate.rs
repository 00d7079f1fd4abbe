//! The checks a path passes at import, so the rules never meet a graph they
//! cannot answer for: no cycles, remedial nodes only reachable by struggling,
//! checkpoints guarding only what leads to them, scores within 0..=100.
//!
//! The checks run in a fixed order (nodes, edges, remedial links, guards, cycle,
//! guard ancestry) and the first failure is reported, so an author fixes one
//! message at a time and sees the same message on every import.

use super::graph::{GraphError, NodeKind, PathGraph};
use std::collections::HashSet;

impl PathGraph {
    /// Checks the path is well formed; the first problem found is the error.
    pub fn validate(&self) -> Result<(), GraphError> {
        self.check_nodes()?;
        self.check_edges()?;
        self.check_remedial_links()?;
        self.check_guards()?;
        self.check_acyclic()?;
        self.check_guards_lead_to_checkpoint()
    }

    fn check_nodes(&self) -> Result<(), GraphError> {
        let mut keys = HashSet::new();
        for node in &self.nodes {
            if !keys.insert(node.key.as_str()) {
                return Err(GraphError::DuplicateKey {
                    key: node.key.clone(),
                });
            }
            if let Some(score) = [node.pass_score, node.remediate_below_score]
                .into_iter()
                .find(|&s| s > 100)
            {
                return Err(GraphError::NodeScoreOutOfRange {
                    key: node.key.clone(),
                    score,
                });
            }
            // With 0, `failures >= 0` would hold from the first visit (the database refuses it too).
            if node.remediate_after_failures == 0 {
                return Err(GraphError::NoFailuresAllowed {
                    key: node.key.clone(),
                });
            }
        }
        Ok(())
    }

    fn check_edges(&self) -> Result<(), GraphError> {
        let n = self.nodes.len();
        let mut seen = HashSet::new();
        for (i, edge) in self.edges.iter().enumerate() {
            if let Some(index) = [edge.from, edge.to].into_iter().find(|&x| x >= n) {
                return Err(GraphError::EdgeOutOfRange {
                    edge: i,
                    index,
                    nodes: n,
                });
            }
            let (from, to) = (self.key(edge.from), self.key(edge.to));
            if edge.from == edge.to {
                return Err(GraphError::SelfLoop { key: from });
            }
            if edge.min_score > 100 {
                return Err(GraphError::EdgeScoreOutOfRange {
                    from,
                    to,
                    score: edge.min_score,
                });
            }
            if !seen.insert((edge.from, edge.to)) {
                return Err(GraphError::DuplicateEdge { from, to });
            }
            if self.nodes[edge.to].is_remedial() {
                return Err(GraphError::EdgeIntoRemedial { from, to });
            }
            if self.nodes[edge.from].is_remedial() {
                return Err(GraphError::EdgeFromRemedial { from, to });
            }
        }
        Ok(())
    }

    fn check_remedial_links(&self) -> Result<(), GraphError> {
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(target) = node.remedial_for else {
                continue;
            };
            let key = node.key.clone();
            if target == i {
                return Err(GraphError::RemedialForItself { key });
            }
            match self.nodes.get(target) {
                None => return Err(GraphError::RemedialTargetOutOfRange { key, target }),
                Some(t) if t.is_remedial() => {
                    return Err(GraphError::RemedialForRemedial {
                        key,
                        target: t.key.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn check_guards(&self) -> Result<(), GraphError> {
        for node in &self.nodes {
            if node.guards.is_empty() {
                continue;
            }
            if node.kind != NodeKind::Checkpoint {
                return Err(GraphError::GuardsOnNonCheckpoint {
                    key: node.key.clone(),
                });
            }
            for (i, &guard) in node.guards.iter().enumerate() {
                if node.guards[..i].contains(&guard) {
                    return Err(GraphError::DuplicateGuard {
                        checkpoint: node.key.clone(),
                        guard: self.key(guard),
                    });
                }
                match self.nodes.get(guard) {
                    None => {
                        return Err(GraphError::GuardOutOfRange {
                            checkpoint: node.key.clone(),
                            guard,
                        });
                    }
                    Some(g) if g.is_remedial() => {
                        return Err(GraphError::GuardRemedial {
                            checkpoint: node.key.clone(),
                            guard: g.key.clone(),
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    /// Depth-first search; meeting a node still on the stack closes a cycle, which
    /// is the stretch of the stack from that node on.
    fn check_acyclic(&self) -> Result<(), GraphError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnStack,
            Finished,
        }
        let adjacency = self.adjacency();
        let mut mark = vec![Mark::New; self.nodes.len()];
        // (node, how many of its outgoing edges have been followed)
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..self.nodes.len() {
            if mark[root] != Mark::New {
                continue;
            }
            mark[root] = Mark::OnStack;
            stack.push((root, 0));
            while let Some(top) = stack.last_mut() {
                let (node, next) = *top;
                let Some(&edge) = adjacency.outgoing[node].get(next) else {
                    mark[node] = Mark::Finished;
                    stack.pop();
                    continue;
                };
                top.1 += 1;
                let to = self.edges[edge].to;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnStack;
                        stack.push((to, 0));
                    }
                    Mark::OnStack => {
                        let start = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let keys = stack[start..].iter().map(|&(n, _)| self.key(n)).collect();
                        return Err(GraphError::Cycle { keys });
                    }
                    Mark::Finished => {}
                }
            }
        }
        Ok(())
    }

    /// A checkpoint tests out of any nodes but itself: usually the branch beside
    /// it (the nodes after its own prerequisites), or the rest of an any-of group
    /// it needs. Guards it needs through all-of edges are allowed but pointless
    /// (they are passed before it opens), so they are not refused.
    fn check_guards_lead_to_checkpoint(&self) -> Result<(), GraphError> {
        for (i, node) in self.nodes.iter().enumerate() {
            if node.guards.contains(&i) {
                return Err(GraphError::GuardSelf {
                    checkpoint: node.key.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::graph::{Edge, Node};

    /// a -> b -> c, and a checkpoint d after c guarding b; e is remedial for b.
    fn sample() -> PathGraph {
        let lesson = |k: &str| Node::new(k, NodeKind::Lesson, k);
        PathGraph {
            nodes: vec![
                lesson("a"),
                lesson("b"),
                lesson("c"),
                Node {
                    guards: vec![1],
                    ..Node::new("d", NodeKind::Checkpoint, "d")
                },
                Node {
                    remedial_for: Some(1),
                    ..lesson("e")
                },
            ],
            edges: vec![edge(0, 1), edge(1, 2), edge(2, 3)],
        }
    }

    fn edge(from: usize, to: usize) -> Edge {
        Edge {
            from,
            to,
            min_score: 0,
            group: 0,
        }
    }

    fn refused(change: impl FnOnce(&mut PathGraph)) -> GraphError {
        let mut graph = sample();
        change(&mut graph);
        graph.validate().unwrap_err()
    }

    #[test]
    fn a_well_formed_path_passes() {
        assert_eq!(sample().validate(), Ok(()));
    }

    #[test]
    fn a_cycle_is_refused_with_its_keys_in_order() {
        let error = refused(|g| g.edges.push(edge(2, 0)));
        assert_eq!(
            error,
            GraphError::Cycle {
                keys: vec!["a".into(), "b".into(), "c".into()]
            }
        );
        assert!(error.to_string().ends_with("a -> b -> c -> a"));
    }

    #[test]
    fn a_self_loop_is_refused() {
        assert_eq!(
            refused(|g| g.edges.push(edge(2, 2))),
            GraphError::SelfLoop { key: "c".into() }
        );
    }

    #[test]
    fn an_edge_to_a_missing_node_is_refused() {
        assert_eq!(
            refused(|g| g.edges.push(edge(0, 9))),
            GraphError::EdgeOutOfRange {
                edge: 3,
                index: 9,
                nodes: 5
            }
        );
    }

    #[test]
    fn a_repeated_edge_is_refused() {
        let error = refused(|g| {
            g.edges.push(Edge {
                group: 1,
                ..edge(0, 1)
            })
        });
        assert_eq!(
            error,
            GraphError::DuplicateEdge {
                from: "a".into(),
                to: "b".into()
            }
        );
    }

    #[test]
    fn remedial_nodes_neither_have_nor_are_prerequisites() {
        assert!(matches!(
            refused(|g| g.edges.push(edge(0, 4))),
            GraphError::EdgeIntoRemedial { .. }
        ));
        assert!(matches!(
            refused(|g| g.edges.push(edge(4, 2))),
            GraphError::EdgeFromRemedial { .. }
        ));
    }

    #[test]
    fn a_remedial_node_must_help_with_another_ordinary_node() {
        assert_eq!(
            refused(|g| g.nodes[4].remedial_for = Some(4)),
            GraphError::RemedialForItself { key: "e".into() }
        );
        assert_eq!(
            refused(|g| g.nodes[4].remedial_for = Some(42)),
            GraphError::RemedialTargetOutOfRange {
                key: "e".into(),
                target: 42
            }
        );
        let error = refused(|g| {
            g.nodes.push(Node {
                remedial_for: Some(4),
                ..Node::new("f", NodeKind::Lesson, "f")
            })
        });
        assert_eq!(
            error,
            GraphError::RemedialForRemedial {
                key: "f".into(),
                target: "e".into()
            }
        );
    }

    #[test]
    fn only_checkpoints_guard_and_only_their_ordinary_ancestors() {
        assert_eq!(
            refused(|g| g.nodes[2].guards = vec![0]),
            GraphError::GuardsOnNonCheckpoint { key: "c".into() }
        );
        assert_eq!(
            refused(|g| g.nodes[3].guards = vec![7]),
            GraphError::GuardOutOfRange {
                checkpoint: "d".into(),
                guard: 7
            }
        );
        assert_eq!(
            refused(|g| g.nodes[3].guards = vec![1, 1]),
            GraphError::DuplicateGuard {
                checkpoint: "d".into(),
                guard: "b".into()
            }
        );
        assert_eq!(
            refused(|g| g.nodes[3].guards = vec![4]),
            GraphError::GuardRemedial {
                checkpoint: "d".into(),
                guard: "e".into()
            }
        );
        assert_eq!(
            refused(|g| g.nodes[3].guards = vec![1, 3]),
            GraphError::GuardSelf {
                checkpoint: "d".into()
            }
        );
    }

    #[test]
    fn scores_above_100_are_refused() {
        assert_eq!(
            refused(|g| g.nodes[1].pass_score = 101),
            GraphError::NodeScoreOutOfRange {
                key: "b".into(),
                score: 101
            }
        );
        assert!(matches!(
            refused(|g| g.nodes[1].remediate_below_score = 200),
            GraphError::NodeScoreOutOfRange { score: 200, .. }
        ));
        assert_eq!(
            refused(|g| g.edges[0].min_score = 101),
            GraphError::EdgeScoreOutOfRange {
                from: "a".into(),
                to: "b".into(),
                score: 101
            }
        );
    }

    #[test]
    fn duplicate_keys_and_zero_failure_allowance_are_refused() {
        assert_eq!(
            refused(|g| g.nodes[2].key = "a".into()),
            GraphError::DuplicateKey { key: "a".into() }
        );
        assert_eq!(
            refused(|g| g.nodes[0].remediate_after_failures = 0),
            GraphError::NoFailuresAllowed { key: "a".into() }
        );
    }
}
