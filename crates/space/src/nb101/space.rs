//! The NAS-Bench-101 search space.

use super::cell::Nb101Cell;
use super::operation::Nb101Operation;
use crate::cell_graph::CellGraph;
use crate::error::Result;
use crate::search_space::SearchSpace;
use rand::{Rng, RngExt};

/// NAS-Bench-101 (Ying et al., ICML 2019): cells of up to 7 nodes and 9 edges,
/// an operation from `conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3` on each
/// intermediate node.
///
/// Sampling follows the benchmark's own procedure: a 7-node cell with each
/// upper-triangular edge present with probability ½ and uniform operations,
/// redrawn until valid. A neighbour flips one edge or changes one node's
/// operation (and stays valid).
///
/// The space is finite but not enumerated here: its raw specs number in the
/// hundreds of millions (423,624 unique graphs by the benchmark's count), so
/// [`SearchSpace::size`] and [`SearchSpace::enumerate`] return `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nb101Space;

impl SearchSpace for Nb101Space {
    type Arch = Nb101Cell;

    fn name(&self) -> &'static str {
        "nas-bench-101"
    }

    fn operations(&self) -> &'static [&'static str] {
        &Nb101Operation::NAMES
    }

    fn max_nodes(&self) -> usize {
        Nb101Cell::MAX_NODES
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Nb101Cell {
        let n = Nb101Cell::MAX_NODES;
        loop {
            let rows: Vec<u8> = (0..n)
                .map(|i| {
                    ((i + 1)..n).fold(0u8, |row, j| row | (u8::from(rng.random_bool(0.5)) << j))
                })
                .collect();
            let ops = (0..n - 2)
                .map(|_| Nb101Operation::ALL[rng.random_range(0..Nb101Operation::ALL.len())])
                .collect();
            if let Ok(cell) = Nb101Cell::new(ops, rows) {
                return cell;
            }
        }
    }

    fn neighbours(&self, arch: &Nb101Cell) -> Vec<Nb101Cell> {
        let n = arch.node_count();
        let flips = (0..n).flat_map(|i| ((i + 1)..n).map(move |j| (i, j)));
        let mut out: Vec<Nb101Cell> = flips
            .filter_map(|(i, j)| arch.with_edge_flipped(i, j))
            .collect();
        for (k, &current) in arch.ops().iter().enumerate() {
            for op in Nb101Operation::ALL.into_iter().filter(|&op| op != current) {
                out.extend(arch.with_op(k + 1, op));
            }
        }
        out
    }

    fn size(&self) -> Option<u64> {
        None
    }

    fn enumerate(&self) -> Option<Box<dyn Iterator<Item = Nb101Cell> + '_>> {
        None
    }

    fn cell_graph(&self, arch: &Nb101Cell) -> CellGraph {
        arch.cell_graph()
    }

    fn format(&self, arch: &Nb101Cell) -> String {
        arch.to_string()
    }

    fn parse(&self, text: &str) -> Result<Nb101Cell> {
        text.parse()
    }
}
