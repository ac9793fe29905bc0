//! The tensor-level entry point.

use crate::ops::AveragePoolOps;
use burn::backend::Dispatch;
use burn::tensor::Tensor;

/// NAS-Bench-201's `avg_pool_3x3`: each output the mean of the input over the
/// in-bounds positions of the 3×3 window centred on it (stride 1, padding 1,
/// the padding not counted), with its own backward. On flex, one fused pass
/// each way; on every other backend, Burn's `avg_pool2d`. Values and gradients
/// equal Burn's `AvgPool2d` (kernel 3×3, stride 1, padding 1,
/// `count_include_pad` false) to float rounding. An input with a zero
/// dimension is returned as it is.
///
/// # Shapes
/// `[batch, channels, h, w]` → the same.
pub fn average_pool_3x3(x: Tensor<4>) -> Tensor<4> {
    if x.dims().contains(&0) {
        return x;
    }
    Tensor::from_dispatch(<Dispatch as AveragePoolOps>::metanas_average_pool_3x3(
        x.into_dispatch(),
    ))
}
