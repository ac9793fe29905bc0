//! The node vocabulary of NAS-Bench-201 encodings by name: what each index of
//! [`GraphEncoding::node_ops`](crate::GraphEncoding::node_ops) means for a
//! cell of [`Nb201Space`](super::Nb201Space) (input, output, then the
//! operations in the benchmark's order, `none` excluded: it never becomes a
//! node). Derived from [`Nb201Operation::vocabulary_index`], which the
//! encoding itself uses, so the names cannot drift from it.

use super::operation::Nb201Operation;
use crate::cell_graph::NodeLabel;

/// The cell's input node.
pub const INPUT: usize = NodeLabel::Input.vocabulary_index();
/// The cell's output node.
pub const OUTPUT: usize = NodeLabel::Output.vocabulary_index();
/// `skip_connect`: identity.
pub const SKIP_CONNECT: usize = index_of(Nb201Operation::SkipConnect);
/// `nor_conv_1x1`: ReLU → 1×1 convolution → batch norm.
pub const NOR_CONV_1X1: usize = index_of(Nb201Operation::Conv1x1);
/// `nor_conv_3x3`: ReLU → 3×3 convolution → batch norm.
pub const NOR_CONV_3X3: usize = index_of(Nb201Operation::Conv3x3);
/// `avg_pool_3x3`: 3×3 average pooling, stride 1.
pub const AVG_POOL_3X3: usize = index_of(Nb201Operation::AvgPool3x3);
/// Number of indices: [`SearchSpace::vocabulary_size`](crate::SearchSpace::vocabulary_size) of the space.
pub const SIZE: usize = AVG_POOL_3X3 + 1;

/// The index of an operation that is a node (evaluated at compile time only).
const fn index_of(op: Nb201Operation) -> usize {
    match op.vocabulary_index() {
        Some(index) => index,
        None => panic!("`none` has no vocabulary index"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSpace;
    use crate::nb201::{Nb201Cell, Nb201Space};

    #[test]
    fn the_names_are_the_indices_the_encoding_uses() {
        let space = Nb201Space;
        assert_eq!(SIZE, space.vocabulary_size());
        // One cell per operation: that operation on every edge.
        for (op, expected) in [
            (Nb201Operation::SkipConnect, SKIP_CONNECT),
            (Nb201Operation::Conv1x1, NOR_CONV_1X1),
            (Nb201Operation::Conv3x3, NOR_CONV_3X3),
            (Nb201Operation::AvgPool3x3, AVG_POOL_3X3),
        ] {
            let e = space.encode(&Nb201Cell::new([op; 6]));
            assert_eq!(e.count_nodes(expected), 6, "{op}");
            assert_eq!(
                (e.count_nodes(INPUT), e.count_nodes(OUTPUT)),
                (1, 1),
                "{op}"
            );
            let Some(NodeLabel::Op(i)) = op.node_label() else {
                panic!("{op} is a node")
            };
            assert_eq!(space.operations()[i], op.name());
        }
        assert_eq!(Nb201Operation::None.vocabulary_index(), None);
        let distinct: std::collections::HashSet<usize> = [
            INPUT,
            OUTPUT,
            SKIP_CONNECT,
            NOR_CONV_1X1,
            NOR_CONV_3X3,
            AVG_POOL_3X3,
        ]
        .into();
        assert_eq!(distinct.len(), SIZE);
    }
}
