//! One searched cell inside the network.

use crate::cell_layer::CellLayer;
use crate::cell_plan::CellPlan;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// A cell: the layers of a [`CellPlan`] and the wiring between them.
#[derive(Module, Debug)]
pub struct Cell {
    /// One layer per plan edge, in plan order.
    edge_layers: Vec<CellLayer>,
    /// One layer per node that has an operation, in node order.
    node_layers: Vec<CellLayer>,
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
}

impl Cell {
    /// Builds the layers of `plan` on `channels` channels (the plan must be checked).
    pub fn new(plan: &CellPlan, channels: usize, device: &Device) -> Self {
        let edge_layers = plan.edges.iter().map(|e| CellLayer::new(e.op, channels, device)).collect();
        let mut node_layers = Vec::new();
        let node_layer = plan
            .node_ops
            .iter()
            .map(|op| {
                op.map(|op| {
                    node_layers.push(CellLayer::new(op, channels, device));
                    node_layers.len() - 1
                })
            })
            .collect();
        let wiring = CellWiring {
            nodes: plan.nodes,
            edges: plan.edges.iter().map(|e| (e.from, e.to)).collect(),
            node_layer,
            needed: plan.needed_nodes(),
        };
        Self {
            edge_layers,
            node_layers,
            wiring,
        }
    }

    /// Evaluates the cell; nodes that cannot influence the output are skipped.
    ///
    /// # Shapes
    /// `[batch, channels, h, w]` → the same.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let w = &self.wiring;
        let mut values: Vec<Option<Tensor<4>>> = vec![None; w.nodes];
        let mut sums: Vec<Option<Tensor<4>>> = vec![None; w.nodes];
        values[0] = Some(input.clone());
        let mut edge = 0;
        for node in 1..w.nodes {
            while edge < w.edges.len() && w.edges[edge].1 == node {
                let (from, _) = w.edges[edge];
                if w.needed[node] {
                    // A source without inputs is zero (NAS-Bench-201's `none`).
                    let source = values[from].clone().unwrap_or_else(|| input.zeros_like());
                    let out = self.edge_layers[edge].forward(source);
                    sums[node] = Some(match sums[node].take() {
                        Some(acc) => acc + out,
                        None => out,
                    });
                }
                edge += 1;
            }
            if w.needed[node] {
                let sum = sums[node].take();
                values[node] = match (w.node_layer[node], sum) {
                    (Some(layer), Some(sum)) => Some(self.node_layers[layer].forward(sum)),
                    (Some(layer), None) => Some(self.node_layers[layer].forward(input.zeros_like())),
                    (None, sum) => sum,
                };
            }
        }
        values[w.nodes - 1].take().unwrap_or_else(|| input.zeros_like())
    }
}
