//! Helpers shared by the crate's unit tests.

use burn::tensor::Tensor;

/// The largest absolute elementwise difference of two tensors of the same shape.
pub(crate) fn largest_difference<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let a: Vec<f32> = a.into_data().try_to_vec::<f32>().expect("f32");
    let b: Vec<f32> = b.into_data().try_to_vec::<f32>().expect("f32");
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
