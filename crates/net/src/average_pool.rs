//! The average pools of NAS-Bench-201's networks.
//!
//! Burn's `avg_pool2d` is exact but slow on the flex CPU backend
//! (`docs/decisions/0008-*`). The cells' 3×3 pool is [`metanas_pool`]'s op (one
//! fused pass each way on flex, Burn's pool elsewhere:
//! `docs/decisions/0023-average-pool-op.md`); the reduction block's 2×2 pool is
//! a reshape and two means. The results equal `AvgPool2d`'s to float rounding
//! (tested below).

use burn::module::Module;
use burn::tensor::{Tensor, s};

/// NAS-Bench-201's `avg_pool_3x3`: a 3×3 window, stride 1, padding 1, and the
/// padding not counted (PyTorch's `AvgPool2d(3, 1, 1, count_include_pad=False)`).
#[derive(Module, Debug, Default)]
pub struct AveragePool3x3;

impl AveragePool3x3 {
    /// # Shapes
    /// `[batch, channels, h, w]` → the same.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        metanas_pool::average_pool_3x3(x)
    }
}

/// A 2×2 window with stride 2 and no padding (an odd last row or column is
/// dropped, as `AvgPool2d([2, 2])` does): the shortcut of NAS-Bench-201's
/// reduction block.
#[derive(Module, Debug, Default)]
pub struct AveragePool2x2;

impl AveragePool2x2 {
    /// # Shapes
    /// `[batch, channels, h, w]` → `[batch, channels, h / 2, w / 2]` (rounded down).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let (oh, ow) = (h / 2, w / 2);
        let x = if h % 2 == 1 || w % 2 == 1 {
            x.slice(s![.., .., 0..2 * oh, 0..2 * ow])
        } else {
            x
        };
        x.reshape([b, c, oh, 2, ow, 2])
            .mean_dim(5)
            .mean_dim(3)
            .reshape([b, c, oh, ow])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::PaddingConfig2d;
    use burn::nn::pool::AvgPool2dConfig;
    use burn::tensor::Distribution;

    fn assert_close(a: Tensor<4>, b: Tensor<4>) {
        let worst = crate::test_support::largest_difference(a, b);
        assert!(worst < 1e-5, "largest difference {worst}");
    }

    /// Forward values and input gradients of `ours` and `reference` on `x`
    /// (autodiff device), with a random upstream gradient.
    fn compare(
        ours: impl Fn(Tensor<4>) -> Tensor<4>,
        reference: impl Fn(Tensor<4>) -> Tensor<4>,
        shape: [usize; 4],
    ) {
        let device = metanas_device::test_device().autodiff();
        // Draws go through the seeding lock: an unlocked draw here would land
        // inside another test thread's seeded initialisation and change it.
        let x = metanas_seeding::seeded(&device, 0, || {
            Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device)
        });
        let a_in = x.clone().detach().require_grad();
        let b_in = x.detach().require_grad();
        let a = ours(a_in.clone());
        let b = reference(b_in.clone());
        let weights = metanas_seeding::seeded(&device, 1, || {
            Tensor::<4>::random(a.dims(), Distribution::Normal(0.0, 1.0), &device)
        });
        assert_close(a.clone().detach(), b.clone().detach());
        let ga = (a * weights.clone()).sum().backward();
        let gb = (b * weights).sum().backward();
        let ga = a_in.grad(&ga).expect("gradient");
        let gb = b_in.grad(&gb).expect("gradient");
        assert_close(
            Tensor::from_data(ga.into_data(), &device),
            Tensor::from_data(gb.into_data(), &device),
        );
    }

    #[test]
    fn three_by_three_pool_equals_burns_avg_pool_without_counting_padding() {
        let burn_pool = AvgPool2dConfig::new([3, 3])
            .with_strides([1, 1])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_count_include_pad(false)
            .init();
        for shape in [[2, 3, 7, 5], [1, 2, 1, 4], [2, 1, 2, 2], [1, 1, 1, 1]] {
            compare(
                |x| AveragePool3x3.forward(x),
                |x| burn_pool.forward(x),
                shape,
            );
        }
    }

    #[test]
    fn two_by_two_pool_equals_burns_avg_pool_with_stride_two() {
        let burn_pool = AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        for shape in [[2, 3, 8, 6], [1, 2, 7, 7], [1, 1, 5, 4]] {
            compare(
                |x| AveragePool2x2.forward(x),
                |x| burn_pool.forward(x),
                shape,
            );
        }
    }
}
