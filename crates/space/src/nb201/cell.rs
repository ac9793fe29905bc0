//! One NAS-Bench-201 cell: an operation on each of the six edges of a 4-node DAG.

use super::operation::Nb201Operation;
use crate::cell_graph::{CellGraph, NodeLabel};
use crate::error::{Result, SpaceError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A NAS-Bench-201 cell.
///
/// Nodes 0..=3 are feature maps; node 0 is the cell input, node 3 its output,
/// and node `j` is the sum over `i < j` of `op(i → j)` applied to node `i`.
/// The edges are stored in the benchmark's string order:
/// `(0→1), (0→2), (1→2), (0→3), (1→3), (2→3)`.
///
/// The text form is the benchmark's:
/// `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|`.
/// The JSON form is `{"ops": ["nor_conv_3x3", …]}` with the six operations in edge order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nb201Cell {
    ops: [Nb201Operation; 6],
}

impl Nb201Cell {
    /// The edges `(from, to)` in storage (and string) order.
    pub const EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];

    /// Number of cells in the space: 5⁶.
    pub const COUNT: usize = 15_625;

    /// A cell from its six edge operations in [`Self::EDGES`] order.
    pub fn new(ops: [Nb201Operation; 6]) -> Self {
        Self { ops }
    }

    /// The six edge operations in [`Self::EDGES`] order.
    pub fn ops(&self) -> [Nb201Operation; 6] {
        self.ops
    }

    /// The operation on edge `from → to`, if that edge exists in the skeleton.
    pub fn op(&self, from: usize, to: usize) -> Option<Nb201Operation> {
        Self::EDGES
            .iter()
            .position(|&e| e == (from, to))
            .map(|i| self.ops[i])
    }

    /// The cell with edge `edge` (an index into [`Self::EDGES`]) set to `op`.
    pub fn with_op(mut self, edge: usize, op: Nb201Operation) -> Self {
        self.ops[edge] = op;
        self
    }

    /// A dense index in `0..15_625`: the operations' indices as base-5 digits,
    /// the first edge most significant. It is this crate's enumeration order,
    /// not the benchmark table's row order.
    pub fn index(&self) -> usize {
        self.ops.iter().fold(0, |acc, op| acc * 5 + op.index())
    }

    /// The inverse of [`Self::index`]; `None` when `index >= 15_625`.
    pub fn from_index(index: usize) -> Option<Self> {
        if index >= Self::COUNT {
            return None;
        }
        let mut ops = [Nb201Operation::None; 6];
        let mut rest = index;
        for slot in ops.iter_mut().rev() {
            *slot = Nb201Operation::ALL[rest % 5];
            rest /= 5;
        }
        Some(Self { ops })
    }

    /// The cell in operation-on-node form: one node per edge whose operation is
    /// not `none`; the node for `i → j` feeds every node for `j → k`, the input
    /// feeds the nodes for `0 → j`, and the nodes for `i → 3` feed the output.
    pub fn cell_graph(&self) -> CellGraph {
        let mut labels = vec![NodeLabel::Input, NodeLabel::Output];
        let mut node_of_edge = [None; 6];
        for (e, op) in self.ops.iter().enumerate() {
            if let Some(label) = op.node_label() {
                node_of_edge[e] = Some(labels.len());
                labels.push(label);
            }
        }
        let mut edges = Vec::new();
        for (e, &(from, to)) in Self::EDGES.iter().enumerate() {
            let Some(node) = node_of_edge[e] else {
                continue;
            };
            if from == 0 {
                edges.push((0, node));
            }
            if to == 3 {
                edges.push((node, 1));
            }
            for (e2, &(from2, _)) in Self::EDGES.iter().enumerate() {
                if let (true, Some(next)) = (from2 == to, node_of_edge[e2]) {
                    edges.push((node, next));
                }
            }
        }
        CellGraph::new(&labels, &edges)
            .expect("the NB201 skeleton is a DAG with one input and output")
    }
}

impl fmt::Display for Nb201Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut edge = 0;
        for to in 1..=3 {
            if to > 1 {
                f.write_str("+")?;
            }
            f.write_str("|")?;
            for from in 0..to {
                write!(f, "{}~{from}|", self.ops[edge])?;
                edge += 1;
            }
        }
        Ok(())
    }
}

impl FromStr for Nb201Cell {
    type Err = SpaceError;

    /// Reads the benchmark's string form strictly: three `+`-separated groups,
    /// group `j` holding `j` entries `op~i` with `i = 0, 1, …` in order, each
    /// entry enclosed in `|`. Surrounding white space is ignored.
    fn from_str(text: &str) -> Result<Self> {
        let s = text.trim();
        if s.is_empty() {
            return Err(SpaceError::Empty);
        }
        let groups: Vec<&str> = s.split('+').collect();
        if groups.len() != 3 {
            return Err(SpaceError::WrongNodeCount {
                expected: "4 (three `+`-separated groups for nodes 1..=3)".into(),
                found: groups.len() + 1,
            });
        }
        let mut ops = [Nb201Operation::None; 6];
        let mut edge = 0;
        for (g, group) in groups.iter().enumerate() {
            let node = g + 1;
            let inner = group
                .strip_prefix('|')
                .and_then(|x| x.strip_suffix('|'))
                .ok_or_else(|| {
                    SpaceError::malformed(
                        text,
                        format!(
                            "group for node {node} must start and end with `|`, found `{group}`"
                        ),
                    )
                })?;
            let entries: Vec<&str> = inner.split('|').collect();
            if entries.len() != node {
                return Err(SpaceError::WrongEdgeCount {
                    node,
                    expected: node,
                    found: entries.len(),
                });
            }
            for (position, entry) in entries.iter().enumerate() {
                let (op, source) = entry.split_once('~').ok_or_else(|| {
                    SpaceError::malformed(
                        text,
                        format!("entry `{entry}` must be `operation~source`"),
                    )
                })?;
                if source != position.to_string() {
                    return Err(SpaceError::WrongSourceNode {
                        node,
                        position,
                        expected: position,
                        found: source.chars().take(20).collect(),
                    });
                }
                ops[edge] = op.parse()?;
                edge += 1;
            }
        }
        Ok(Self { ops })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEST_C10: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

    #[test]
    fn string_round_trip_and_index_round_trip() {
        let cell: Nb201Cell = BEST_C10.parse().expect("valid");
        assert_eq!(cell.to_string(), BEST_C10);
        assert_eq!(cell.op(2, 3), Some(Nb201Operation::Conv3x3));
        assert_eq!(cell.op(3, 2), None);
        for i in [0, 1, 4, 5, 777, 15_624] {
            let c = Nb201Cell::from_index(i).expect("in range");
            assert_eq!(c.index(), i);
        }
        assert!(Nb201Cell::from_index(15_625).is_none());
    }

    #[test]
    fn operation_on_node_form_of_the_best_cell() {
        let g = Nb201Cell::from_str(BEST_C10).expect("valid").cell_graph();
        // input, output, six op nodes (no `none`).
        assert_eq!(g.node_count(), 8);
        // input -> 3 nodes; (0,1) -> (1,2),(1,3); (0,2),(1,2) -> (2,3); three nodes -> output.
        assert_eq!(g.edge_count(), 3 + 2 + 2 + 3);
    }
}
