//! Convolution + batch norm, the parametric building block of every cell.

use crate::batch_norm::{batch_norm, batch_norm_stacked};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
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

    /// [`Self::forward_relu_first`] of several blocks on the same input,
    /// computed as one: one ReLU, one convolution with the blocks' kernels
    /// stacked, one batch norm over the stacked channels. Same values,
    /// gradients and running statistics as the blocks one by one (to float
    /// rounding); the im2col of the input, its gradient and the weight
    /// gradient's transposes are done once instead of once per block.
    ///
    /// # Panics
    /// If `blocks` is empty, or the blocks differ in input channels, kernel,
    /// stride, padding, groups or [`ConvBn::with_own_convolution`], or have a bias.
    ///
    /// # Shapes
    /// `[batch, c_in, h, w]` → one `[batch, c_out_k, h / stride, w / stride]` per block
    pub fn forward_relu_first_stacked(blocks: &[&ConvBn], x: Tensor<4>) -> Vec<Tensor<4>> {
        if let [block] = blocks {
            return vec![block.forward_relu_first(x)];
        }
        let first = &blocks[0].conv;
        // ConvBn pads explicitly (Burn keeps its other paddings' arithmetic private).
        let Some(options) = explicit_options(first) else {
            return blocks
                .iter()
                .map(|block| block.forward_relu_first(x.clone()))
                .collect();
        };
        let [_, channels_in, kernel_h, kernel_w] = first.weight.val().dims();
        let weights: Vec<Tensor<4>> = blocks
            .iter()
            .map(|block| {
                let conv = &block.conv;
                let weight = conv.weight.val();
                let [_, c_in, k_h, k_w] = weight.dims();
                assert!(
                    conv.bias.is_none()
                        && conv.groups == first.groups
                        && conv.stride == first.stride
                        && conv.dilation == first.dilation
                        && conv.kernel_size == first.kernel_size
                        && conv.padding == first.padding
                        && block.own_convolution == blocks[0].own_convolution
                        && [c_in, k_h, k_w] == [channels_in, kernel_h, kernel_w],
                    "stacked convolutions must have the same shape, options and convolution, and no bias"
                );
                weight
            })
            .collect();
        let weight = Tensor::cat(weights, 0);
        let stacked = if blocks[0].own_convolution {
            own_convolution(true, x, weight, options)
        } else {
            conv2d(relu(x), weight, None, options)
        };
        let norms: Vec<&BatchNorm> = blocks.iter().map(|block| &block.bn).collect();
        batch_norm_stacked(&norms, stacked)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::largest_difference;
    use burn::tensor::Distribution;

    /// Blocks with random weights and non-trivial batch-norm affine parameters.
    fn blocks(device: &Device) -> Vec<ConvBn> {
        (0..3)
            .map(|k| {
                // Draws every parameter (Burn's are lazy) inside the seeding lock.
                let block = metanas_seeding::seeded_module(device, 3 + k, || {
                    Ok::<_, std::convert::Infallible>(ConvBn::new(4, 5, 3, 1, device))
                })
                .expect("infallible");
                metanas_seeding::seeded(device, 10 + k, || {
                    let mut block = block;
                    let trainable = |t: Tensor<1>| {
                        if device.is_autodiff() {
                            t.require_grad()
                        } else {
                            t
                        }
                    };
                    block.bn.gamma = block.bn.gamma.map(|_| {
                        trainable(Tensor::random([5], Distribution::Normal(1.0, 0.5), device))
                    });
                    block.bn.beta = block.bn.beta.map(|_| {
                        trainable(Tensor::random([5], Distribution::Normal(0.0, 0.5), device))
                    });
                    block
                })
            })
            .collect()
    }

    #[test]
    fn stacked_blocks_equal_the_blocks_one_by_one_in_values_gradients_and_running_statistics() {
        let device = metanas_device::test_device().autodiff();
        let (ours, theirs) = (blocks(&device), blocks(&device));
        let (x, weights) = metanas_seeding::seeded(&device, 4, || {
            let x = Tensor::<4>::random([3, 4, 6, 7], Distribution::Normal(0.0, 1.0), &device);
            let weights: Vec<Tensor<4>> = (0..3)
                .map(|_| Tensor::random([3, 5, 6, 7], Distribution::Normal(0.0, 1.0), &device))
                .collect();
            (x, weights)
        });
        let x_ours = x.clone().detach().require_grad();
        let x_theirs = x.detach().require_grad();
        let stacked =
            ConvBn::forward_relu_first_stacked(&ours.iter().collect::<Vec<_>>(), x_ours.clone());
        let separate: Vec<Tensor<4>> = theirs
            .iter()
            .map(|block| block.forward_relu_first(x_theirs.clone()))
            .collect();
        assert_eq!(stacked.len(), 3);
        let loss = |outputs: Vec<Tensor<4>>| {
            outputs
                .into_iter()
                .zip(&weights)
                .map(|(y, w)| (y * w.clone()).sum())
                .reduce(|a, b| a + b)
                .expect("three")
        };
        for (a, b) in stacked.iter().zip(&separate) {
            let difference = largest_difference(a.clone().detach(), b.clone().detach());
            assert!(difference < 1e-4, "output differs by {difference}");
        }
        let (g_ours, g_theirs) = (loss(stacked).backward(), loss(separate).backward());
        let difference = largest_difference(
            x_ours.grad(&g_ours).expect("x"),
            x_theirs.grad(&g_theirs).expect("x"),
        );
        assert!(difference < 1e-4, "input gradient differs by {difference}");
        for (a, b) in ours.iter().zip(&theirs) {
            let weight_difference = largest_difference(
                a.conv.weight.grad(&g_ours).expect("weight"),
                b.conv.weight.grad(&g_theirs).expect("weight"),
            );
            assert!(
                weight_difference < 1e-4,
                "weight gradient differs by {weight_difference}"
            );
            for (what, x, y) in [
                (
                    "gamma gradient",
                    a.bn.gamma.grad(&g_ours).expect("gamma"),
                    b.bn.gamma.grad(&g_theirs).expect("gamma"),
                ),
                (
                    "beta gradient",
                    a.bn.beta.grad(&g_ours).expect("beta"),
                    b.bn.beta.grad(&g_theirs).expect("beta"),
                ),
                (
                    "running mean",
                    a.bn.running_mean.value_sync(),
                    b.bn.running_mean.value_sync(),
                ),
                (
                    "running variance",
                    a.bn.running_var.value_sync(),
                    b.bn.running_var.value_sync(),
                ),
            ] {
                let difference = largest_difference(x, y);
                assert!(difference < 1e-4, "{what} differs by {difference}");
            }
        }
        // Inference (no autodiff): the same outputs as well.
        let device = metanas_device::test_device();
        let (ours, theirs) = (blocks(&device), blocks(&device));
        let x = metanas_seeding::seeded(&device, 5, || {
            Tensor::<4>::random([2, 4, 5, 5], Distribution::Normal(0.0, 1.0), &device)
        });
        let stacked =
            ConvBn::forward_relu_first_stacked(&ours.iter().collect::<Vec<_>>(), x.clone());
        for (a, block) in stacked.into_iter().zip(&theirs) {
            let difference = largest_difference(a, block.forward_relu_first(x.clone()));
            assert!(
                difference < 1e-5,
                "inference output differs by {difference}"
            );
        }
    }
}
