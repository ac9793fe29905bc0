//! The NAS-Bench-201 search space.

use super::cell::Nb201Cell;
use super::operation::Nb201Operation;
use crate::cell_graph::CellGraph;
use crate::error::Result;
use crate::search_space::SearchSpace;
use rand::{Rng, RngExt};

/// NAS-Bench-201 (Dong & Yang, ICLR 2020): a 4-node cell, an operation from
/// `none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3` on each of its
/// six edges; 5⁶ = 15,625 cells.
///
/// Sampling is uniform over the 15,625 cells; a neighbour changes the
/// operation of one edge (6 × 4 = 24 neighbours for every cell).
///
/// Under this crate's canonical-form rule ([`crate::canonical_form`]) the
/// 15,625 cells fall into **8,765** classes (counted by the test
/// `nb201_canonical_class_count` in `tests/nb201_table.rs`). The benchmark's
/// authors report 6,466 under a looser rule that also contracts `skip_connect`
/// and compares expressions rather than graphs; the test
/// `authors_unique_string_rule_gives_their_count` reproduces their number.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nb201Space;

impl Nb201Space {
    /// Graph nodes in operation-on-node form: input, output and six edge operations.
    pub const MAX_NODES: usize = 8;
}

impl SearchSpace for Nb201Space {
    type Arch = Nb201Cell;

    fn name(&self) -> &'static str {
        "nas-bench-201"
    }

    fn operations(&self) -> &'static [&'static str] {
        // `none` never becomes a node: the edge simply is not there.
        &Nb201Operation::NAMES[1..]
    }

    fn max_nodes(&self) -> usize {
        Self::MAX_NODES
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Nb201Cell {
        let index = rng.random_range(0..Nb201Cell::COUNT);
        Nb201Cell::from_index(index).expect("index drawn below COUNT")
    }

    fn neighbours(&self, arch: &Nb201Cell) -> Vec<Nb201Cell> {
        let ops = arch.ops();
        (0..ops.len())
            .flat_map(|edge| {
                Nb201Operation::ALL
                    .into_iter()
                    .filter(move |&op| op != ops[edge])
                    .map(move |op| arch.with_op(edge, op))
            })
            .collect()
    }

    fn size(&self) -> Option<u64> {
        Some(Nb201Cell::COUNT as u64)
    }

    fn enumerate(&self) -> Option<Box<dyn Iterator<Item = Nb201Cell> + '_>> {
        Some(Box::new(
            (0..Nb201Cell::COUNT).filter_map(Nb201Cell::from_index),
        ))
    }

    fn cell_graph(&self, arch: &Nb201Cell) -> CellGraph {
        arch.cell_graph()
    }

    fn format(&self, arch: &Nb201Cell) -> String {
        arch.to_string()
    }

    fn parse(&self, text: &str) -> Result<Nb201Cell> {
        text.parse()
    }
}
