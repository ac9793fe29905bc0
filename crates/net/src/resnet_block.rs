//! The reduction block between stages: NAS-Bench-201's `ResNetBasicblock`.

use crate::average_pool::AveragePool2x2;
use crate::conv_bn::{ConvBn, own_convolution};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::ops::ConvOptions;
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor};

/// A ResNet basic block with stride 2: two ReLU-conv-BN 3×3 layers, and a
/// shortcut of 2×2 average pooling then a 1×1 convolution without bias.
#[derive(Module, Debug)]
pub struct ResNetBlock {
    // Field order is the order of the parameters' random draws
    // (`metanas_seeding::seeded_module`): the shortcut first, as the forward
    // pass first used them when Burn drew them lazily, so that the seeded
    // weights are those of earlier versions.
    shortcut_pool: AveragePool2x2,
    pub(crate) shortcut_conv: Conv2d,
    pub(crate) conv_a: ConvBn,
    pub(crate) conv_b: ConvBn,
    #[module(skip)]
    own_convolution: bool,
}

impl ResNetBlock {
    /// A block from `channels_in` to `channels_out`, halving the spatial size.
    pub fn new(channels_in: usize, channels_out: usize, device: &Device) -> Self {
        Self {
            conv_a: ConvBn::new(channels_in, channels_out, 3, 2, device),
            conv_b: ConvBn::new(channels_out, channels_out, 3, 1, device),
            shortcut_pool: AveragePool2x2,
            shortcut_conv: Conv2dConfig::new([channels_in, channels_out], [1, 1])
                .with_bias(false)
                .init(device),
            own_convolution: false,
        }
    }

    /// The block with every convolution computed by [`metanas_conv::conv2d`]
    /// when `own` is set ([`ConvBn::with_own_convolution`]).
    pub fn with_own_convolution(self, own: bool) -> Self {
        Self {
            conv_a: self.conv_a.with_own_convolution(own),
            conv_b: self.conv_b.with_own_convolution(own),
            own_convolution: own,
            ..self
        }
    }

    /// An odd height or width is first padded with one row or column of zeros
    /// at the bottom or right, so that any size halves (a 1×40 signal, a 30×30
    /// image); even sizes are not padded, so the block is unchanged for them.
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, ⌈h / 2⌉, ⌈w / 2⌉]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let x = if h % 2 == 1 || w % 2 == 1 {
            x.pad((0, w % 2, 0, h % 2), PadMode::Constant(0.0)) // [batch, c_in, h + h % 2, w + w % 2]
        } else {
            x
        };
        let pooled = self.shortcut_pool.forward(x.clone()); // [batch, c_in, h / 2, w / 2]
        let residual = if self.own_convolution {
            // The shortcut is 1×1, stride 1, unpadded, as `new` builds it.
            own_convolution(
                false,
                pooled,
                self.shortcut_conv.weight.val(),
                ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
            )
        } else {
            self.shortcut_conv.forward(pooled)
        };
        let out = self
            .conv_b
            .forward_relu_first(self.conv_a.forward_relu_first(x));
        residual + out
    }
}
