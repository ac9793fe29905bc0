//! Convolution + batch norm, the parametric building block of every cell.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use crate::batch_norm::batch_norm;

/// A `k×k` convolution without bias followed by batch norm (PyTorch's defaults:
/// ε = 1e-5, momentum 0.1; its training pass is [`batch_norm`]'s); the ReLU
/// comes before or after, as the caller says.
#[derive(Module, Debug)]
pub struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    /// A block from `channels_in` to `channels_out` with the given kernel and
    /// stride, padded by `kernel / 2`.
    pub fn new(channels_in: usize, channels_out: usize, kernel: usize, stride: usize, device: &Device) -> Self {
        let conv = Conv2dConfig::new([channels_in, channels_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(kernel / 2, kernel / 2, kernel / 2, kernel / 2))
            .with_bias(false)
            .init(device);
        let bn = BatchNormConfig::new(channels_out).init(device);
        Self { conv, bn }
    }

    /// ReLU → conv → BN.
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, h / stride, w / stride]`
    pub fn forward_relu_first(&self, x: Tensor<4>) -> Tensor<4> {
        batch_norm(&self.bn, self.conv.forward(relu(x)))
    }

    /// Conv → BN → ReLU.
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, h / stride, w / stride]`
    pub fn forward_relu_last(&self, x: Tensor<4>) -> Tensor<4> {
        relu(batch_norm(&self.bn, self.conv.forward(x)))
    }

    /// Conv → BN (no activation), as in the network's stem.
    pub fn forward_plain(&self, x: Tensor<4>) -> Tensor<4> {
        batch_norm(&self.bn, self.conv.forward(x))
    }
}
