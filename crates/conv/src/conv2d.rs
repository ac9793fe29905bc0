//! The tensor-level entry point.

use crate::error::{ConvError, Result};
use crate::ops::ConvOps;
use burn::backend::Dispatch;
use burn::tensor::Tensor;
use burn::tensor::ops::ConvOptions;

/// A 2-D convolution, Burn's `burn::tensor::module::conv2d` with this crate's
/// backward: on flex, this crate's GEMM kernels (the weight gradient summed over
/// the batch in the kernels); on every other backend, Burn's own convolution.
/// Values and gradients equal Burn's to float rounding (relative 1e-4; the sums
/// run in another order). The bias, if any, is added as an ordinary tensor
/// operation.
///
/// # Errors
/// [`ConvError`] when the shapes or options do not describe a convolution.
///
/// # Shapes
/// `x`: `[batch, c_in, h, w]`, `weight`: `[c_out, c_in / groups, k_h, k_w]`,
/// `bias`: `[c_out]` → `[batch, c_out, h_out, w_out]`.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Result<Tensor<4>> {
    convolve(x, weight, bias, options, false)
}

/// [`conv2d`] of `relu(x)`, with the ReLU fused into the op: on flex it is
/// applied while the input is laid out for the GEMMs, and its gradient as a
/// mask on the input gradient, so neither `relu(x)` nor its gradient is a
/// tensor of its own (the backward keeps `x`). Values and gradients equal
/// Burn's `relu` then `conv2d` to float rounding.
///
/// # Errors
/// As [`conv2d`].
///
/// # Shapes
/// As [`conv2d`].
pub fn relu_conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Result<Tensor<4>> {
    convolve(x, weight, bias, options, true)
}

fn convolve(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
    relu_input: bool,
) -> Result<Tensor<4>> {
    check(&x, &weight, bias.as_ref(), &options)?;
    let channels_out = weight.dims()[0];
    let y = Tensor::from_dispatch(<Dispatch as ConvOps>::metanas_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        options,
        relu_input,
    ));
    Ok(match bias {
        Some(bias) => y + bias.reshape([1, channels_out, 1, 1]),
        None => y,
    })
}

fn check(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    bias: Option<&Tensor<1>>,
    options: &ConvOptions<2>,
) -> Result<()> {
    let [_, c_in, height, width] = x.dims();
    let [c_out, c_in_per_group, k_h, k_w] = weight.dims();
    if options.groups == 0
        || options.stride.contains(&0)
        || options.dilation.contains(&0)
        || c_out % options.groups != 0
    {
        return Err(ConvError::InvalidOptions(format!(
            "stride {:?}, dilation {:?}, groups {} for {c_out} output channels",
            options.stride, options.dilation, options.groups
        )));
    }
    if c_in_per_group * options.groups != c_in {
        return Err(ConvError::ChannelMismatch {
            input: c_in,
            weight: c_in_per_group,
            groups: options.groups,
        });
    }
    if let Some(bias) = bias
        && bias.dims()[0] != c_out
    {
        return Err(ConvError::BiasMismatch {
            bias: bias.dims()[0],
            channels_out: c_out,
        });
    }
    let kernel = [
        options.dilation[0] * k_h.saturating_sub(1) + 1,
        options.dilation[1] * k_w.saturating_sub(1) + 1,
    ];
    let padded_input = [
        height + options.padding[0].0 + options.padding[0].1,
        width + options.padding[1].0 + options.padding[1].1,
    ];
    if k_h == 0 || k_w == 0 || kernel[0] > padded_input[0] || kernel[1] > padded_input[1] {
        return Err(ConvError::KernelTooLarge {
            kernel,
            padded_input,
        });
    }
    Ok(())
}
