//! The op trait: one kernel per backend through Burn's `#[backend_extension]`.
//!
//! The attribute generates the `Dispatch` routing from a runtime `Device`'s tensors
//! to the backend that holds them. Every backend the workspace compiles is listed
//! (an unlisted one panics when called): `Flex` runs this crate's kernels, `NdArray`
//! and `Cube` (wgpu) take the trait's default bodies, which are Burn's own
//! convolution and its default backward, and `Autodiff` routes to the hand-written
//! backward in `autodiff.rs`. The selectors are unconditional because
//! `workspace-hack` compiles all three backends into every build.

use burn::backend::{Backend, backend_extension, tensor::FloatTensor};
use burn::tensor::ops::ConvOptions;

/// A 2-D convolution without bias whose backward is its own: the two gradients are
/// ops of the trait too, so a backend can replace each. With `relu_input` set,
/// the convolution reads `relu(x)` (the ReLU fused into the op: `x` is what the
/// backward keeps, and the input gradient is `x`'s, through the ReLU).
///
/// # Shapes
/// `x`: `[batch, c_in, h, w]`, `weight`: `[c_out, c_in / groups, k_h, k_w]`,
/// output and `output_grad`: `[batch, c_out, h_out, w_out]`.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait ConvOps: Backend {
    /// The convolution's forward pass (Burn's `relu` and `conv2d` without bias by
    /// default).
    fn metanas_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FloatTensor<Self> {
        burn_conv2d::<Self>(x, weight, options, relu_input)
    }

    /// The gradient with respect to `x` (Burn's `conv2d_x_backward`, then
    /// `relu_backward`, by default).
    fn metanas_conv2d_x_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FloatTensor<Self> {
        burn_conv2d_x_grad::<Self>(x, weight, output_grad, options, relu_input)
    }

    /// The gradient with respect to `weight` (Burn's `conv2d_weight_backward` by
    /// default).
    fn metanas_conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FloatTensor<Self> {
        burn_conv2d_weight_grad::<Self>(x, weight, output_grad, options, relu_input)
    }
}

/// [`ConvOps::metanas_conv2d`] from Burn's own ops: the trait's default body,
/// and flex's for the convolutions its kernels do not take.
pub(crate) fn burn_conv2d<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    options: ConvOptions<2>,
    relu_input: bool,
) -> FloatTensor<B> {
    let x = if relu_input { B::relu(x) } else { x };
    B::conv2d(x, weight, None, options)
}

/// [`ConvOps::metanas_conv2d_x_grad`] from Burn's own ops (see [`burn_conv2d`]).
pub(crate) fn burn_conv2d_x_grad<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    output_grad: FloatTensor<B>,
    options: ConvOptions<2>,
    relu_input: bool,
) -> FloatTensor<B> {
    if !relu_input {
        return B::conv2d_x_backward(x, weight, output_grad, options);
    }
    let activated = B::relu(x);
    let grad = B::conv2d_x_backward(activated.clone(), weight, output_grad, options);
    B::relu_backward(activated, grad)
}

/// [`ConvOps::metanas_conv2d_weight_grad`] from Burn's own ops (see [`burn_conv2d`]).
pub(crate) fn burn_conv2d_weight_grad<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    output_grad: FloatTensor<B>,
    options: ConvOptions<2>,
    relu_input: bool,
) -> FloatTensor<B> {
    let x = if relu_input { B::relu(x) } else { x };
    B::conv2d_weight_backward(x, weight, output_grad, options)
}
