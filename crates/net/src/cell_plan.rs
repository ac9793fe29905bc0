//! How a cell computes: the bridge from a space's architecture to Burn layers.

use crate::cell_operation::CellOperation;
use metanas_space::nb101::{Nb101Cell, Nb101Operation};
use metanas_space::nb201::{Nb201Cell, Nb201Operation};
use serde::{Deserialize, Serialize};

/// An edge of a [`CellPlan`]: `op` applied to node `from`, summed into node `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEdge {
    /// Source node.
    pub from: usize,
    /// Target node (`from < to`).
    pub to: usize,
    /// Operation on the edge.
    pub op: CellOperation,
}

/// A cell as the network computes it.
///
/// Node 0 is the cell's input and node `nodes - 1` its output. Node `j` is
/// `node_ops[j]` (identity when `None`) applied to the sum over the edges into
/// `j` of the edge's operation applied to its source. A node with no incoming
/// edge is zero, as NAS-Bench-201's `none` operation makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellPlan {
    /// Number of nodes, input and output included.
    pub nodes: usize,
    /// Edges in evaluation order (sorted by target).
    pub edges: Vec<PlanEdge>,
    /// An operation per node applied after the sum (`None`: identity).
    pub node_ops: Vec<Option<CellOperation>>,
}

impl CellPlan {
    /// Every operation of the plan: edge operations, then node operations.
    pub fn operations(&self) -> impl Iterator<Item = CellOperation> + '_ {
        self.edges
            .iter()
            .map(|e| e.op)
            .chain(self.node_ops.iter().flatten().copied())
    }

    /// `needed[j]`: whether node `j` influences the output (the output itself included).
    pub fn needed_nodes(&self) -> Vec<bool> {
        let mut needed = vec![false; self.nodes];
        if let Some(last) = needed.last_mut() {
            *last = true;
        }
        for edge in self.edges.iter().rev() {
            if needed[edge.to] {
                needed[edge.from] = true;
            }
        }
        needed
    }

    /// Checks the plan's structure.
    ///
    /// # Errors
    /// A message naming the broken rule.
    pub fn check(&self) -> Result<(), String> {
        if self.nodes < 2 {
            return Err(format!(
                "a cell plan needs at least 2 nodes, has {}",
                self.nodes
            ));
        }
        if self.node_ops.len() != self.nodes {
            return Err(format!(
                "{} node operations for {} nodes",
                self.node_ops.len(),
                self.nodes
            ));
        }
        for (k, e) in self.edges.iter().enumerate() {
            if e.from >= e.to || e.to >= self.nodes {
                return Err(format!(
                    "edge {k} ({} → {}) must go forward between nodes 0..{}",
                    e.from, e.to, self.nodes
                ));
            }
            if k > 0 && self.edges[k - 1].to > e.to {
                return Err("edges must be sorted by target node".into());
            }
        }
        for op in self.operations() {
            if let CellOperation::ReluConvBn { kernel } | CellOperation::ConvBnRelu { kernel } = op
                && kernel % 2 == 0
            {
                return Err(format!(
                    "kernel {kernel} must be odd to keep the spatial size"
                ));
            }
        }
        Ok(())
    }
}

/// Architectures a [`crate::CellNetwork`] can be built from.
pub trait ToCellPlan {
    /// How the cell computes.
    fn cell_plan(&self) -> CellPlan;
}

impl ToCellPlan for Nb201Cell {
    /// One edge per operation that is not `none`; node sums, no node operation.
    fn cell_plan(&self) -> CellPlan {
        let edges = Nb201Cell::EDGES
            .iter()
            .zip(self.ops())
            .filter_map(|(&(from, to), op)| {
                let op = match op {
                    Nb201Operation::None => return None,
                    Nb201Operation::SkipConnect => CellOperation::Identity,
                    Nb201Operation::Conv1x1 => CellOperation::ReluConvBn { kernel: 1 },
                    Nb201Operation::Conv3x3 => CellOperation::ReluConvBn { kernel: 3 },
                    Nb201Operation::AvgPool3x3 => CellOperation::AvgPool3x3,
                };
                Some(PlanEdge { from, to, op })
            });
        let mut edges: Vec<PlanEdge> = edges.collect();
        edges.sort_by_key(|e| (e.to, e.from));
        CellPlan {
            nodes: 4,
            edges,
            node_ops: vec![None; 4],
        }
    }
}

impl ToCellPlan for Nb101Cell {
    /// Identity edges, the operation on each intermediate node, and the output
    /// as the sum of its inputs. (NAS-Bench-101 concatenates into the output and
    /// splits channels among nodes; metanas keeps the channel count fixed and
    /// sums, so both spaces share one skeleton.)
    fn cell_plan(&self) -> CellPlan {
        let n = self.node_count();
        let edges = (1..n)
            .flat_map(|to| (0..to).map(move |from| (from, to)))
            .filter(|&(from, to)| self.has_edge(from, to))
            .map(|(from, to)| PlanEdge {
                from,
                to,
                op: CellOperation::Identity,
            })
            .collect();
        let node_ops = (0..n)
            .map(|j| {
                if j == 0 || j == n - 1 {
                    return None;
                }
                Some(match self.ops()[j - 1] {
                    Nb101Operation::Conv3x3 => CellOperation::ConvBnRelu { kernel: 3 },
                    Nb101Operation::Conv1x1 => CellOperation::ConvBnRelu { kernel: 1 },
                    Nb101Operation::MaxPool3x3 => CellOperation::MaxPool3x3,
                })
            })
            .collect();
        CellPlan {
            nodes: n,
            edges,
            node_ops,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nb201_plan_drops_none_edges_and_marks_dead_nodes() {
        let cell: Nb201Cell =
            "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"
                .parse()
                .expect("valid");
        let plan = cell.cell_plan();
        assert!(plan.check().is_ok());
        assert_eq!(plan.edges.len(), 4);
        // Node 1 feeds nothing: not needed.
        assert_eq!(plan.needed_nodes(), vec![true, false, true, true]);
    }

    #[test]
    fn nb101_plan_has_node_operations() {
        let cell: Nb101Cell = "input,conv3x3-bn-relu,maxpool3x3,output:0110/0001/0001/0000"
            .parse()
            .expect("valid");
        let plan = cell.cell_plan();
        assert!(plan.check().is_ok());
        assert_eq!(plan.edges.len(), 4);
        assert_eq!(
            plan.node_ops[1],
            Some(CellOperation::ConvBnRelu { kernel: 3 })
        );
        assert_eq!(plan.node_ops[2], Some(CellOperation::MaxPool3x3));
    }
}
