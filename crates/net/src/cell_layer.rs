//! A [`CellOperation`] as a Burn layer.

use crate::average_pool::AveragePool3x3;
use crate::cell_operation::CellOperation;
use crate::conv_bn::ConvBn;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::{Device, Tensor};

/// The layer of one cell operation (channels in = channels out, stride 1).
#[derive(Module, Debug)]
pub enum CellLayer {
    /// Identity.
    Identity(burn::nn::Identity),
    /// ReLU → conv → BN.
    ReluConvBn(ConvBn),
    /// Conv → BN → ReLU.
    ConvBnRelu(ConvBn),
    /// 3×3 average pooling.
    AvgPool(AveragePool3x3),
    /// 3×3 max pooling.
    MaxPool(MaxPool2d),
}

impl CellLayer {
    /// The layer for `op` on `channels` channels.
    pub fn new(op: CellOperation, channels: usize, device: &Device) -> Self {
        let pad = PaddingConfig2d::Explicit(1, 1, 1, 1);
        match op {
            CellOperation::Identity => Self::Identity(burn::nn::Identity::new()),
            CellOperation::ReluConvBn { kernel } => {
                Self::ReluConvBn(ConvBn::new(channels, channels, kernel, 1, device))
            }
            CellOperation::ConvBnRelu { kernel } => {
                Self::ConvBnRelu(ConvBn::new(channels, channels, kernel, 1, device))
            }
            CellOperation::AvgPool3x3 => Self::AvgPool(AveragePool3x3),
            CellOperation::MaxPool3x3 => Self::MaxPool(
                MaxPool2dConfig::new([3, 3])
                    .with_strides([1, 1])
                    .with_padding(pad)
                    .init(),
            ),
        }
    }

    /// The layer with its convolution, if any, computed by
    /// [`metanas_conv::conv2d`] when `own` is set ([`ConvBn::with_own_convolution`]).
    pub fn with_own_convolution(self, own: bool) -> Self {
        match self {
            Self::ReluConvBn(block) => Self::ReluConvBn(block.with_own_convolution(own)),
            Self::ConvBnRelu(block) => Self::ConvBnRelu(block.with_own_convolution(own)),
            other => other,
        }
    }

    /// # Shapes
    /// `[batch, channels, h, w]` → the same.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Identity(_) => x,
            Self::ReluConvBn(block) => block.forward_relu_first(x),
            Self::ConvBnRelu(block) => block.forward_relu_last(x),
            Self::AvgPool(pool) => pool.forward(x),
            Self::MaxPool(pool) => pool.forward(x),
        }
    }
}
