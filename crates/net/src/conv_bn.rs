//! Convolution + batch norm, the parametric building block of every cell.

use crate::batch_norm::batch_norm;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

/// metanas's convolution of `x` ([`metanas_conv::conv2d`]), or of `relu(x)`
/// with the ReLU fused into the op ([`metanas_conv::relu_conv2d`]) when
/// `relu_input` is set.
///
/// # Panics
/// As Burn's convolution does, when `x`'s channels are not the weight's.
pub(crate) fn own_convolution(
    relu_input: bool,
    x: Tensor<4>,
    weight: Tensor<4>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let y = if relu_input {
        metanas_conv::relu_conv2d(x, weight, None, options)
    } else {
        metanas_conv::conv2d(x, weight, None, options)
    };
    y.unwrap_or_else(|e| panic!("convolution: {e}"))
}

/// The options of a `Conv2d` without bias that pads explicitly (as every
/// convolution of the networks does), `None` for another padding.
pub(crate) fn explicit_options(conv: &Conv2d) -> Option<ConvOptions<2>> {
    let PaddingConfig2d::Explicit(top, left, bottom, right) = conv.padding else {
        return None;
    };
    Some(ConvOptions::new_with_padding(
        conv.stride,
        [(top, bottom), (left, right)],
        conv.dilation,
        conv.groups,
    ))
}

/// A `k×k` convolution without bias followed by batch norm (PyTorch's defaults:
/// ε = 1e-5, momentum 0.1; its training pass is [`batch_norm`]'s); the ReLU
/// comes before or after, as the caller says. The convolution is Burn's, or
/// [`metanas_conv::conv2d`] after [`ConvBn::with_own_convolution`].
#[derive(Module, Debug)]
pub struct ConvBn {
    pub(crate) conv: Conv2d,
    pub(crate) bn: BatchNorm,
    #[module(skip)]
    own_convolution: bool,
}

impl ConvBn {
    /// A block from `channels_in` to `channels_out` with the given kernel and
    /// stride, padded by `kernel / 2`.
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let conv = Conv2dConfig::new([channels_in, channels_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                kernel / 2,
                kernel / 2,
                kernel / 2,
                kernel / 2,
            ))
            .with_bias(false)
            .init(device);
        let bn = BatchNormConfig::new(channels_out).init(device);
        Self {
            conv,
            bn,
            own_convolution: false,
        }
    }

    /// Computes the convolution with [`metanas_conv::conv2d`] (its own
    /// im2col + GEMM backward on flex; Burn's convolution on the other
    /// backends) when `own` is set, with Burn's otherwise (the default). The
    /// values and gradients are the same to float rounding.
    pub fn with_own_convolution(mut self, own: bool) -> Self {
        self.own_convolution = own;
        self
    }

    /// The convolution.
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, h / stride, w / stride]`
    fn convolve(&self, x: Tensor<4>) -> Tensor<4> {
        match (self.own_convolution, explicit_options(&self.conv)) {
            (true, Some(options)) => own_convolution(false, x, self.conv.weight.val(), options),
            _ => self.conv.forward(x),
        }
    }

    /// ReLU → conv → BN (with [`ConvBn::with_own_convolution`], the ReLU fused
    /// into the convolution: [`metanas_conv::relu_conv2d`]).
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, h / stride, w / stride]`
    pub fn forward_relu_first(&self, x: Tensor<4>) -> Tensor<4> {
        let y = match (self.own_convolution, explicit_options(&self.conv)) {
            (true, Some(options)) => own_convolution(true, x, self.conv.weight.val(), options),
            _ => self.conv.forward(relu(x)),
        };
        batch_norm(&self.bn, y)
    }

    /// Conv → BN → ReLU.
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, h / stride, w / stride]`
    pub fn forward_relu_last(&self, x: Tensor<4>) -> Tensor<4> {
        relu(batch_norm(&self.bn, self.convolve(x)))
    }

    /// Conv → BN (no activation), as in the network's stem.
    pub fn forward_plain(&self, x: Tensor<4>) -> Tensor<4> {
        batch_norm(&self.bn, self.convolve(x))
    }
}
