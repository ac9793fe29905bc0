//! The operations a cell network can place in a cell.

use serde::{Deserialize, Serialize};

/// One operation of a cell, as the network builds it.
///
/// Each space maps its own operations to these ([`crate::CellPlan`]). Every
/// operation keeps the number of channels and the spatial size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CellOperation {
    /// Passes its input through.
    Identity,
    /// ReLU → `k×k` convolution (no bias, same padding) → batch norm (NAS-Bench-201).
    ReluConvBn {
        /// Kernel size (odd).
        kernel: usize,
    },
    /// `k×k` convolution (no bias, same padding) → batch norm → ReLU (NAS-Bench-101).
    ConvBnRelu {
        /// Kernel size (odd).
        kernel: usize,
    },
    /// 3×3 average pooling, stride 1, padding 1, padded cells not counted.
    AvgPool3x3,
    /// 3×3 max pooling, stride 1, padding 1.
    MaxPool3x3,
}

impl CellOperation {
    /// Trainable parameters of this operation with `channels` in and out.
    pub fn params(self, channels: usize) -> usize {
        match self {
            Self::ReluConvBn { kernel } | Self::ConvBnRelu { kernel } => {
                channels * channels * kernel * kernel + 2 * channels
            }
            Self::Identity | Self::AvgPool3x3 | Self::MaxPool3x3 => 0,
        }
    }

    /// Multiply-accumulates of this operation on a `channels × h × w` map,
    /// counted as NAS-Bench-201 counts FLOPs: convolutions only (pooling,
    /// batch norm and activations are free).
    pub fn flops(self, channels: usize, h: usize, w: usize) -> u64 {
        match self {
            Self::ReluConvBn { kernel } | Self::ConvBnRelu { kernel } => {
                (channels * channels * kernel * kernel * h * w) as u64
            }
            Self::Identity | Self::AvgPool3x3 | Self::MaxPool3x3 => 0,
        }
    }
}
