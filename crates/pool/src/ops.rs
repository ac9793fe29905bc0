//! The op trait: one kernel per backend through Burn's `#[backend_extension]`.
//!
//! Every backend the workspace compiles is listed (an unlisted one panics when
//! called): `Flex` runs this crate's kernels, `NdArray` and `Cube` (wgpu) take
//! the trait's default bodies (Burn's `avg_pool2d` and its backward), and
//! `Autodiff` routes to the hand-written backward in `autodiff.rs`.

use burn::backend::{Backend, backend_extension, tensor::FloatTensor};

/// The pool's window, as Burn's `avg_pool2d` takes it.
const KERNEL: [usize; 2] = [3, 3];
/// The pool's stride.
const STRIDE: [usize; 2] = [1, 1];
/// The pool's padding (not counted in the means).
const PADDING: [usize; 2] = [1, 1];

/// The 3×3 average pool (stride 1, padding 1, the padding not counted) and its
/// backward, for `x` `[batch, channels, h, w]` (the output has `x`'s shape).
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait AveragePoolOps: Backend {
    /// `y[i, j]`: the mean of `x` over the in-bounds positions of the 3×3
    /// window centred on `(i, j)` (Burn's `avg_pool2d` by default).
    fn metanas_average_pool_3x3(x: FloatTensor<Self>) -> FloatTensor<Self> {
        burn_average_pool_3x3::<Self>(x)
    }

    /// The gradient with respect to `x` for the output gradient `output_grad`
    /// (Burn's `avg_pool2d_backward` by default, which reads `x`'s shape).
    fn metanas_average_pool_3x3_backward(
        x: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        burn_average_pool_3x3_backward::<Self>(x, output_grad)
    }
}

/// [`AveragePoolOps::metanas_average_pool_3x3`] by Burn's `avg_pool2d`: the
/// trait's default body, and flex's for tensors its kernel does not take.
pub(crate) fn burn_average_pool_3x3<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::avg_pool2d(x, KERNEL, STRIDE, PADDING, false, false)
}

/// [`AveragePoolOps::metanas_average_pool_3x3_backward`] by Burn's
/// `avg_pool2d_backward` (see [`burn_average_pool_3x3`]).
pub(crate) fn burn_average_pool_3x3_backward<B: Backend>(
    x: FloatTensor<B>,
    output_grad: FloatTensor<B>,
) -> FloatTensor<B> {
    B::avg_pool2d_backward(x, output_grad, KERNEL, STRIDE, PADDING, false, false)
}
