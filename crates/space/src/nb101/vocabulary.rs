//! The node vocabulary of NAS-Bench-101 encodings by name: what each index of
//! [`GraphEncoding::node_ops`](crate::GraphEncoding::node_ops) means for a
//! cell of [`Nb101Space`](super::Nb101Space) (input, output, then the
//! operations in [`Nb101Operation::ALL`] order). Derived from
//! [`Nb101Operation::vocabulary_index`], which the encoding itself uses, so the
//! names cannot drift from it.

use super::operation::Nb101Operation;
use crate::cell_graph::NodeLabel;

/// The cell's input node.
pub const INPUT: usize = NodeLabel::Input.vocabulary_index();
/// The cell's output node.
pub const OUTPUT: usize = NodeLabel::Output.vocabulary_index();
/// `conv3x3-bn-relu`: 3×3 convolution → batch norm → ReLU.
pub const CONV3X3_BN_RELU: usize = Nb101Operation::Conv3x3.vocabulary_index();
/// `conv1x1-bn-relu`: 1×1 convolution → batch norm → ReLU.
pub const CONV1X1_BN_RELU: usize = Nb101Operation::Conv1x1.vocabulary_index();
/// `maxpool3x3`: 3×3 max pooling, stride 1.
pub const MAXPOOL3X3: usize = Nb101Operation::MaxPool3x3.vocabulary_index();
/// Number of indices: [`SearchSpace::vocabulary_size`](crate::SearchSpace::vocabulary_size) of the space.
pub const SIZE: usize = MAXPOOL3X3 + 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSpace;
    use crate::nb101::{Nb101Cell, Nb101Space};

    #[test]
    fn the_names_are_the_indices_the_encoding_uses() {
        let space = Nb101Space;
        assert_eq!(SIZE, space.vocabulary_size());
        for (op, expected) in [
            (Nb101Operation::Conv3x3, CONV3X3_BN_RELU),
            (Nb101Operation::Conv1x1, CONV1X1_BN_RELU),
            (Nb101Operation::MaxPool3x3, MAXPOOL3X3),
        ] {
            // input → op → output.
            let cell = Nb101Cell::new(vec![op], vec![0b010, 0b100, 0]).expect("valid");
            let e = space.encode(&cell);
            assert_eq!(e.count_nodes(expected), 1, "{op}");
            assert_eq!(
                (e.count_nodes(INPUT), e.count_nodes(OUTPUT)),
                (1, 1),
                "{op}"
            );
            assert_eq!(e.num_nodes, 3, "{op}");
        }
    }
}
