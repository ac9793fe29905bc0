//! The tensor-level entry point.

use crate::error::{NormError, Result};
use crate::ops::BatchNormOps;
use burn::backend::Dispatch;
use burn::tensor::Tensor;

/// What [`batch_norm_training`] returns.
#[derive(Debug, Clone)]
pub struct BatchNormTraining {
    /// The normalised input, `[batch, channels, h, w]` (differentiable with
    /// respect to the input, `gamma` and `beta`).
    pub output: Tensor<4>,
    /// The batch's mean per channel, `[channels]` (a constant, for the running
    /// statistics).
    pub mean: Tensor<1>,
    /// The batch's biased variance per channel, `[channels]` (a constant).
    pub variance: Tensor<1>,
}

/// Batch norm's training pass: `x` normalised per channel by the batch's own
/// mean and biased variance, `(x − mean) / √(variance + ε) · gamma + beta`, with
/// its own backward. On flex, fused kernels (two passes over `x` forward, two
/// backward); on every other backend, Burn's tensor operations. Values and
/// gradients equal Burn's `BatchNorm` in training to float rounding (the sums
/// run in `f64` on flex).
///
/// # Errors
/// [`NormError`] when `gamma` or `beta` is not one value per channel, ε is not
/// positive, or a channel has no values.
///
/// # Shapes
/// `x`: `[batch, channels, h, w]`, `gamma`, `beta`: `[channels]`.
pub fn batch_norm_training(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> Result<BatchNormTraining> {
    let dims = x.dims();
    let channels = dims[1];
    for (parameter, tensor) in [("gamma", &gamma), ("beta", &beta)] {
        let [length] = tensor.dims();
        if length != channels {
            return Err(NormError::ParameterLength {
                parameter,
                length,
                channels,
            });
        }
    }
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(NormError::InvalidEpsilon(epsilon));
    }
    if dims[0] * dims[2] * dims[3] == 0 {
        return Err(NormError::EmptyBatch(dims));
    }
    let (output, mean, variance) = <Dispatch as BatchNormOps>::metanas_batch_norm(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    );
    Ok(BatchNormTraining {
        output: Tensor::from_dispatch(output),
        mean: Tensor::from_dispatch(mean),
        variance: Tensor::from_dispatch(variance),
    })
}
