//! The op in Burn's tensor operations, for any backend: the trait's default
//! bodies, and flex's path for float types other than `f32`.

use burn::backend::{Backend, TensorMetadata, tensor::FloatTensor};
use burn::tensor::Shape;

/// `(y, mean, variance)` of batch norm's training pass (see
/// [`crate::BatchNormOps::metanas_batch_norm`]).
pub(crate) fn forward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    epsilon: f64,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let [b, c, h, w] = dims::<B>(&x);
    let count = (b * h * w) as f64;
    let x = B::float_reshape(x, Shape::new([b, c, h * w]));
    let mean = B::float_div_scalar(sum_over_channels::<B>(x.clone()), count.into());
    let centered = B::float_sub(x, mean.clone());
    let squares = B::float_mul(centered.clone(), centered.clone());
    let variance = B::float_div_scalar(sum_over_channels::<B>(squares), count.into());
    let scale = B::float_mul(
        inverse_std::<B>(variance.clone(), epsilon),
        per_channel::<B>(gamma, c),
    );
    let y = B::float_add(B::float_mul(centered, scale), per_channel::<B>(beta, c));
    (
        B::float_reshape(y, Shape::new([b, c, h, w])),
        B::float_reshape(mean, Shape::new([c])),
        B::float_reshape(variance, Shape::new([c])),
    )
}

/// `(dx, dgamma, dbeta)` of [`forward`] (see
/// [`crate::BatchNormOps::metanas_batch_norm_backward`]).
pub(crate) fn backward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    mean: FloatTensor<B>,
    variance: FloatTensor<B>,
    output_grad: FloatTensor<B>,
    epsilon: f64,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let [b, c, h, w] = dims::<B>(&x);
    let count = (b * h * w) as f64;
    let x = B::float_reshape(x, Shape::new([b, c, h * w]));
    let dy = B::float_reshape(output_grad, Shape::new([b, c, h * w]));
    let inverse_std = inverse_std::<B>(per_channel::<B>(variance, c), epsilon);
    let normalised = B::float_mul(
        B::float_sub(x, per_channel::<B>(mean, c)),
        inverse_std.clone(),
    );
    let dbeta = sum_over_channels::<B>(dy.clone());
    let dgamma = sum_over_channels::<B>(B::float_mul(dy.clone(), normalised.clone()));
    // dx = gamma/σ · (dy − dbeta/N − x̂ · dgamma/N)
    let correction = B::float_add(
        B::float_div_scalar(dbeta.clone(), count.into()),
        B::float_mul(
            normalised,
            B::float_div_scalar(dgamma.clone(), count.into()),
        ),
    );
    let dx = B::float_mul(
        B::float_sub(dy, correction),
        B::float_mul(per_channel::<B>(gamma, c), inverse_std),
    );
    (
        B::float_reshape(dx, Shape::new([b, c, h, w])),
        B::float_reshape(dgamma, Shape::new([c])),
        B::float_reshape(dbeta, Shape::new([c])),
    )
}

/// `[batch, channels, h, w]` of a 4-D tensor.
fn dims<B: Backend>(x: &FloatTensor<B>) -> [usize; 4] {
    let shape = x.shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// `[1, c, 1]` sums over the batch and the pixels of `[b, c, p]`.
fn sum_over_channels<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_sum_dim(B::float_sum_dim(x, 2), 0)
}

/// A `[c]` (or `[1, c, 1]`) tensor as `[1, c, 1]`.
fn per_channel<B: Backend>(t: FloatTensor<B>, c: usize) -> FloatTensor<B> {
    B::float_reshape(t, Shape::new([1, c, 1]))
}

/// `1 / √(variance + ε)`.
fn inverse_std<B: Backend>(variance: FloatTensor<B>, epsilon: f64) -> FloatTensor<B> {
    B::float_recip(B::float_sqrt(B::float_add_scalar(variance, epsilon.into())))
}
