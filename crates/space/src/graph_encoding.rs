//! Fixed-size tensors-to-be for graph neural networks.

use crate::canonical_form::CanonicalForm;
use crate::cell_graph::CellGraph;
use serde::{Deserialize, Serialize};

/// A cell as a graph network reads it: the live graph in operation-on-node form,
/// padded to a fixed number of nodes with a mask.
///
/// Nodes come in canonical order ([`CanonicalForm`]), so cells with the same
/// canonical hash have identical encodings. Node `i`'s operation is
/// `node_ops[i]`, an index into the space's node vocabulary (0 input, 1 output,
/// `2 + op`); `adjacency[i * max_nodes + j]` is 1 when node `i` feeds node `j`
/// (edge direction kept; a model adds the transpose and self-loops as it needs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GraphEncoding {
    /// Padded size: every encoding of a space has this many nodes.
    pub max_nodes: usize,
    /// Number of real nodes (the rest are padding).
    pub num_nodes: usize,
    /// Node vocabulary index of each node; padding nodes hold 0.
    pub node_ops: Vec<usize>,
    /// Row-major `max_nodes × max_nodes` directed adjacency, 0 or 1.
    pub adjacency: Vec<u8>,
    /// `true` for real nodes.
    pub mask: Vec<bool>,
}

impl GraphEncoding {
    /// Encodes `graph` padded to `max_nodes`.
    ///
    /// # Panics
    /// If the live graph has more than `max_nodes` nodes: a space must declare a
    /// bound that holds for all its cells.
    pub fn of(graph: &CellGraph, max_nodes: usize) -> Self {
        let (live, order) = CanonicalForm::order_of(graph);
        let n = order.len();
        assert!(
            n <= max_nodes,
            "a cell with {n} live nodes exceeds the space's bound {max_nodes}"
        );
        let mut position = vec![0usize; live.node_count()];
        for (i, node) in order.iter().enumerate() {
            position[node.index()] = i;
        }
        let mut node_ops = vec![0; max_nodes];
        let mut adjacency = vec![0u8; max_nodes * max_nodes];
        let mut mask = vec![false; max_nodes];
        for (i, &node) in order.iter().enumerate() {
            node_ops[i] = live.graph()[node].vocabulary_index();
            mask[i] = true;
            for s in live.successors(node) {
                adjacency[i * max_nodes + position[s.index()]] = 1;
            }
        }
        Self {
            max_nodes,
            num_nodes: n,
            node_ops,
            adjacency,
            mask,
        }
    }

    /// How many real nodes have vocabulary index `index` (e.g.
    /// [`crate::nb201::vocabulary::NOR_CONV_3X3`]): the cell's count of an operation.
    pub fn count_nodes(&self, index: usize) -> usize {
        self.node_ops
            .iter()
            .zip(&self.mask)
            .filter(|&(&op, &real)| real && op == index)
            .count()
    }

    /// Whether node `from` feeds node `to`.
    pub fn has_edge(&self, from: usize, to: usize) -> bool {
        from < self.max_nodes
            && to < self.max_nodes
            && self.adjacency[from * self.max_nodes + to] == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell_graph::NodeLabel::{Input, Op, Output};

    #[test]
    fn encoding_pads_and_masks() {
        let g = CellGraph::new(&[Input, Op(2), Output], &[(0, 1), (1, 2)]).expect("valid");
        let e = GraphEncoding::of(&g, 5);
        assert_eq!(e.num_nodes, 3);
        assert_eq!(e.mask, vec![true, true, true, false, false]);
        assert_eq!(
            e.adjacency.iter().map(|&x| usize::from(x)).sum::<usize>(),
            2
        );
        let mut ops: Vec<usize> = e.node_ops[..3].to_vec();
        ops.sort_unstable();
        assert_eq!(ops, vec![0, 1, 4]);
        assert!(!e.has_edge(9, 0));
        // Padding holds index 0 too, but only the real input node counts.
        let count = |label: crate::NodeLabel| e.count_nodes(label.vocabulary_index());
        assert_eq!((count(Input), count(Op(2)), count(Op(1))), (1, 1, 0));
    }
}
