//! The five NAS-Bench-201 operations.

use crate::cell_graph::NodeLabel;
use crate::error::SpaceError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An operation on an edge of a NAS-Bench-201 cell, in the benchmark's own order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Nb201Operation {
    /// The zero operation: the edge does not exist.
    #[serde(rename = "none")]
    None,
    /// Identity.
    #[serde(rename = "skip_connect")]
    SkipConnect,
    /// ReLU → 1×1 convolution → batch norm.
    #[serde(rename = "nor_conv_1x1")]
    Conv1x1,
    /// ReLU → 3×3 convolution → batch norm.
    #[serde(rename = "nor_conv_3x3")]
    Conv3x3,
    /// 3×3 average pooling, stride 1.
    #[serde(rename = "avg_pool_3x3")]
    AvgPool3x3,
}

impl Nb201Operation {
    /// All operations, in the benchmark's order.
    pub const ALL: [Self; 5] = [
        Self::None,
        Self::SkipConnect,
        Self::Conv1x1,
        Self::Conv3x3,
        Self::AvgPool3x3,
    ];

    /// The benchmark's names, in the same order.
    pub const NAMES: [&'static str; 5] = [
        "none",
        "skip_connect",
        "nor_conv_1x1",
        "nor_conv_3x3",
        "avg_pool_3x3",
    ];

    /// Position in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The benchmark's name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// The operation's node in operation-on-node form
    /// ([`Nb201Cell::cell_graph`](super::Nb201Cell::cell_graph)); `None` for
    /// `none`, which never becomes a node (the edge is simply not there).
    pub const fn node_label(self) -> Option<NodeLabel> {
        match self {
            Self::None => None,
            // `none` is not in the space's operation list: the others shift down by one.
            op => Some(NodeLabel::Op(op as usize - 1)),
        }
    }

    /// The operation's index in the node vocabulary of
    /// [`GraphEncoding::node_ops`](crate::GraphEncoding::node_ops) (named in
    /// [`super::vocabulary`]); `None` for `none`.
    pub const fn vocabulary_index(self) -> Option<usize> {
        match self.node_label() {
            Some(label) => Some(label.vocabulary_index()),
            None => None,
        }
    }
}

impl fmt::Display for Nb201Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Nb201Operation {
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
