//! The common form of every architecture: a DAG on petgraph with operations on nodes.

use crate::error::{Result, SpaceError};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Reversed};

/// What a node of a [`CellGraph`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeLabel {
    /// The cell's input feature map.
    Input,
    /// The cell's output: the sum (or concatenation) of its predecessors.
    Output,
    /// An operation of the space, by its index in
    /// [`SearchSpace::operations`](crate::SearchSpace::operations); it is applied
    /// to the sum of its predecessors.
    Op(usize),
}

impl NodeLabel {
    /// The node's index in a space's node vocabulary: 0 input, 1 output, `2 + op`
    /// (named per space in `nb201::vocabulary` and `nb101::vocabulary`).
    pub const fn vocabulary_index(self) -> usize {
        match self {
            Self::Input => 0,
            Self::Output => 1,
            Self::Op(op) => 2 + op,
        }
    }
}

/// A cell in *operation-on-node* form: one input node, one output node, and a
/// node per operation; an edge `u → v` feeds `u`'s result into `v`.
///
/// Every space converts its own architectures to this form, and the shared
/// machinery (dead-branch pruning, canonical hashing, graph encodings) works here,
/// so nothing downstream depends on one space's shape.
#[derive(Debug, Clone)]
pub struct CellGraph {
    graph: DiGraph<NodeLabel, ()>,
    input: NodeIndex,
    output: NodeIndex,
}

impl CellGraph {
    /// Builds a cell graph from labels and directed edges `(from, to)` given as
    /// indices into `labels`.
    ///
    /// # Errors
    /// [`SpaceError::Invalid`] unless there is exactly one input and one output
    /// node, every edge index is in range, and the graph is acyclic.
    pub fn new(labels: &[NodeLabel], edges: &[(usize, usize)]) -> Result<Self> {
        let mut graph = DiGraph::with_capacity(labels.len(), edges.len());
        let nodes: Vec<NodeIndex> = labels.iter().map(|&l| graph.add_node(l)).collect();
        let find = |wanted: NodeLabel| {
            let mut found = labels.iter().enumerate().filter(|(_, l)| **l == wanted);
            match (found.next(), found.next()) {
                (Some((i, _)), None) => Ok(nodes[i]),
                _ => Err(SpaceError::Invalid(format!(
                    "a cell graph needs exactly one {wanted:?} node"
                ))),
            }
        };
        let input = find(NodeLabel::Input)?;
        let output = find(NodeLabel::Output)?;
        for &(from, to) in edges {
            if from >= nodes.len() || to >= nodes.len() {
                return Err(SpaceError::Invalid(format!(
                    "edge ({from}, {to}) names a node beyond the {} nodes",
                    nodes.len()
                )));
            }
            graph.add_edge(nodes[from], nodes[to], ());
        }
        if petgraph::algo::is_cyclic_directed(&graph) {
            return Err(SpaceError::Invalid("the cell graph has a cycle".into()));
        }
        Ok(Self {
            graph,
            input,
            output,
        })
    }

    /// The underlying petgraph graph.
    pub fn graph(&self) -> &DiGraph<NodeLabel, ()> {
        &self.graph
    }

    /// The input node.
    pub fn input(&self) -> NodeIndex {
        self.input
    }

    /// The output node.
    pub fn output(&self) -> NodeIndex {
        self.output
    }

    /// Number of nodes, input and output included.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Whether the output depends on the input at all.
    pub fn is_connected(&self) -> bool {
        petgraph::algo::has_path_connecting(&self.graph, self.input, self.output, None)
    }

    /// The *live* part of the cell: only the nodes that lie on a path from the
    /// input to the output. A node the input cannot reach computes nothing from
    /// the data, and a node that cannot reach the output does not affect it, so
    /// both are removed. When the output does not depend on the input at all,
    /// the result is the bare input and output nodes with no edge.
    pub fn pruned(&self) -> CellGraph {
        let from_input = reachable(&self.graph, self.input);
        let to_output = reachable(Reversed(&self.graph), self.output);
        let keep = |n: NodeIndex| {
            n == self.input || n == self.output || (from_input[n.index()] && to_output[n.index()])
        };
        let graph = self.graph.filter_map(
            |n, &label| keep(n).then_some(label),
            |e, _| {
                let (a, b) = self.graph.edge_endpoints(e)?;
                (keep(a) && keep(b)).then_some(())
            },
        );
        let index_of = |label: NodeLabel| {
            graph
                .node_indices()
                .find(|&n| graph[n] == label)
                .unwrap_or_default()
        };
        let (input, output) = (index_of(NodeLabel::Input), index_of(NodeLabel::Output));
        Self {
            graph,
            input,
            output,
        }
    }

    /// Labels of the predecessors of `node`.
    pub fn predecessors(&self, node: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(node, Direction::Incoming)
    }

    /// Labels of the successors of `node`.
    pub fn successors(&self, node: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(node, Direction::Outgoing)
    }
}

/// `seen[i]` is true when node `i` is reachable from `start` (itself included).
fn reachable<G>(graph: G, start: NodeIndex) -> Vec<bool>
where
    G: petgraph::visit::IntoNeighbors<NodeId = NodeIndex>
        + petgraph::visit::Visitable<NodeId = NodeIndex>
        + petgraph::visit::NodeCount,
{
    let mut seen = vec![false; graph.node_count()];
    let mut dfs = Dfs::new(graph, start);
    while let Some(n) = dfs.next(graph) {
        seen[n.index()] = true;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use NodeLabel::{Input, Op, Output};

    #[test]
    fn pruning_removes_nodes_off_every_input_output_path() {
        // 0:in -> 1:op0 -> 3:out ; 2:op1 (no input) -> 3 ; 1 -> 4:op2 (dead end)
        let g = CellGraph::new(
            &[Input, Op(0), Op(1), Output, Op(2)],
            &[(0, 1), (1, 3), (2, 3), (1, 4)],
        )
        .expect("valid graph");
        let p = g.pruned();
        assert_eq!(p.node_count(), 3);
        assert_eq!(p.edge_count(), 2);
        assert!(p.is_connected());
    }

    #[test]
    fn disconnected_cell_prunes_to_bare_input_and_output() {
        let g = CellGraph::new(&[Input, Op(0), Output], &[(0, 1)]).expect("valid graph");
        let p = g.pruned();
        assert_eq!((p.node_count(), p.edge_count()), (2, 0));
        assert!(!p.is_connected());
    }

    #[test]
    fn rejects_cycles_missing_io_and_bad_indices() {
        assert!(CellGraph::new(&[Input, Op(0), Op(1), Output], &[(1, 2), (2, 1)]).is_err());
        assert!(CellGraph::new(&[Op(0), Output], &[]).is_err());
        assert!(CellGraph::new(&[Input, Input, Output], &[]).is_err());
        assert!(CellGraph::new(&[Input, Output], &[(0, 5)]).is_err());
    }
}
