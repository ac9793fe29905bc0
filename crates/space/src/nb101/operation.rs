//! The three NAS-Bench-101 operations.

use crate::cell_graph::NodeLabel;
use crate::error::SpaceError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An operation on an intermediate node of a NAS-Bench-101 cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Nb101Operation {
    /// 3×3 convolution → batch norm → ReLU.
    #[serde(rename = "conv3x3-bn-relu")]
    Conv3x3,
    /// 1×1 convolution → batch norm → ReLU.
    #[serde(rename = "conv1x1-bn-relu")]
    Conv1x1,
    /// 3×3 max pooling, stride 1.
    #[serde(rename = "maxpool3x3")]
    MaxPool3x3,
}

impl Nb101Operation {
    /// All operations.
    pub const ALL: [Self; 3] = [Self::Conv3x3, Self::Conv1x1, Self::MaxPool3x3];

    /// The benchmark's names, in the same order.
    pub const NAMES: [&'static str; 3] = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"];

    /// Position in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The benchmark's name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// The operation's node in operation-on-node form
    /// ([`Nb101Cell::cell_graph`](super::Nb101Cell::cell_graph)).
    pub const fn node_label(self) -> NodeLabel {
        NodeLabel::Op(self as usize)
    }

    /// The operation's index in the node vocabulary of
    /// [`GraphEncoding::node_ops`](crate::GraphEncoding::node_ops) (named in
    /// [`super::vocabulary`]).
    pub const fn vocabulary_index(self) -> usize {
        self.node_label().vocabulary_index()
    }
}

impl fmt::Display for Nb101Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Nb101Operation {
    type Err = SpaceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .position(|&n| n == s)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| SpaceError::UnknownOperation {
                op: s.chars().take(100).collect(),
                expected: Self::NAMES.join(", "),
            })
    }
}
