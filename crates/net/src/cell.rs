//! One searched cell inside the network.

use crate::cell_layer::CellLayer;
use crate::cell_plan::CellPlan;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// A cell: the layers of a [`CellPlan`] and the wiring between them.
#[derive(Module, Debug)]
pub struct Cell {
    /// One layer per plan edge, in plan order.
    pub(crate) edge_layers: Vec<CellLayer>,
    /// One layer per node that has an operation, in node order.
    pub(crate) node_layers: Vec<CellLayer>,
    #[module(skip)]
    wiring: CellWiring,
}

/// The non-trainable structure of a [`Cell`].
#[derive(Debug, Clone)]
struct CellWiring {
    nodes: usize,
    /// `(from, to)` of each edge layer.
    edges: Vec<(usize, usize)>,
    /// For each node, the index of its layer in `node_layers`.
    node_layer: Vec<Option<usize>>,
    /// Whether each node influences the output.
    needed: Vec<bool>,
    /// For each node, its outgoing edges into needed nodes, in plan order.
    outgoing: Vec<Vec<usize>>,
}

impl CellWiring {
    fn new(plan: &CellPlan) -> Self {
        let needed = plan.needed_nodes();
        let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); plan.nodes];
        for (index, edge) in plan.edges.iter().enumerate() {
            if needed[edge.to] {
                outgoing[edge.from].push(index);
            }
        }
        let mut node_layers = 0;
        let node_layer = plan
            .node_ops
            .iter()
            .map(|op| {
                op.map(|_| {
                    node_layers += 1;
                    node_layers - 1
                })
            })
            .collect();
        Self {
            nodes: plan.nodes,
            edges: plan.edges.iter().map(|e| (e.from, e.to)).collect(),
            node_layer,
            needed,
            outgoing,
        }
    }
}

impl Cell {
    /// Builds the layers of `plan` on `channels` channels (the plan must be checked).
    pub fn new(plan: &CellPlan, channels: usize, device: &Device) -> Self {
        let edge_layers = plan
            .edges
            .iter()
            .map(|e| CellLayer::new(e.op, channels, device))
            .collect();
        let node_layers = plan
            .node_ops
            .iter()
            .flatten()
            .map(|&op| CellLayer::new(op, channels, device))
            .collect();
        Self {
            edge_layers,
            node_layers,
            wiring: CellWiring::new(plan),
        }
    }

    /// The cell with every convolution computed by [`metanas_conv::conv2d`]
    /// when `own` is set ([`crate::ConvBn::with_own_convolution`]).
    pub fn with_own_convolution(self, own: bool) -> Self {
        let own_convolution = |layers: Vec<CellLayer>| {
            layers
                .into_iter()
                .map(|layer| layer.with_own_convolution(own))
                .collect()
        };
        Self {
            edge_layers: own_convolution(self.edge_layers),
            node_layers: own_convolution(self.node_layers),
            wiring: self.wiring,
        }
    }

    /// Evaluates the cell; nodes that cannot influence the output are skipped.
    /// Each node's outgoing edges are computed, one by one, as soon as the node
    /// is (one stacked convolution per node was slower: see
    /// `docs/decisions/0018-cell-edges-one-by-one.md`).
    ///
    /// # Shapes
    /// `[batch, channels, h, w]` → the same.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let w = &self.wiring;
        let mut values: Vec<Option<Tensor<4>>> = vec![None; w.nodes];
        let mut sums: Vec<Option<Tensor<4>>> = vec![None; w.nodes];
        for node in 0..w.nodes {
            if !w.needed[node] {
                continue;
            }
            values[node] = if node == 0 {
                Some(input.clone())
            } else {
                match (w.node_layer[node], sums[node].take()) {
                    (Some(layer), Some(sum)) => Some(self.node_layers[layer].forward(sum)),
                    (Some(layer), None) => {
                        Some(self.node_layers[layer].forward(input.zeros_like()))
                    }
                    (None, sum) => sum,
                }
            };
            for &edge in &w.outgoing[node] {
                // A source without inputs is zero (NAS-Bench-201's `none`).
                let source = values[node].clone().unwrap_or_else(|| input.zeros_like());
                let out = self.edge_layers[edge].forward(source);
                let to = w.edges[edge].1;
                sums[to] = Some(match sums[to].take() {
                    Some(acc) => acc + out,
                    None => out,
                });
            }
        }
        values[w.nodes - 1]
            .take()
            .unwrap_or_else(|| input.zeros_like())
    }
}
