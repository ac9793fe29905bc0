//! The op trait: one kernel per backend through Burn's `#[backend_extension]`.
//!
//! Every backend the workspace compiles is listed (an unlisted one panics when
//! called): `Flex` runs this crate's kernels, `NdArray` and `Cube` (wgpu) take
//! the trait's default bodies (Burn's tensor operations, `composite.rs`), and `Autodiff` routes
//! to the hand-written backward in `autodiff.rs`.

use crate::composite;
use burn::backend::{Backend, backend_extension, tensor::FloatTensor};

/// Batch norm's training pass and its backward, for `x` `[batch, channels, h, w]`
/// and per-channel `gamma`, `beta`, `mean`, `variance` (`[channels]`).
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait BatchNormOps: Backend {
    /// `(y, mean, variance)`: the batch's per-channel mean and biased variance,
    /// and `y = (x − mean) / √(variance + ε) · gamma + beta`.
    fn metanas_batch_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        composite::forward::<Self>(x, gamma, beta, epsilon)
    }

    /// `(dx, dgamma, dbeta)` of [`Self::metanas_batch_norm`] at `x`, with the
    /// `mean` and `variance` it returned, for the output gradient `output_grad`.
    fn metanas_batch_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        composite::backward::<Self>(x, gamma, mean, variance, output_grad, epsilon)
    }
}
