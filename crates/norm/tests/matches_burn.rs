//! `metanas_norm::batch_norm_training` against Burn's `BatchNorm` in training:
//! values, the gradients of the input, gamma and beta, and the batch statistics
//! (through the running statistics Burn's layer updates), over shapes from one
//! value per channel to the network's 64×16×32×32; on flex (this crate's
//! kernels) and on ndarray (the op's tensor-operation body).
//!
//! Tolerance: the largest elementwise difference is at most 1e-4 of the largest
//! magnitude of Burn's tensor (the sums run in another order and precision).

use burn::nn::BatchNormConfig;
use burn::tensor::{Device, Distribution, Tensor};
use metanas_device::BackendChoice;
use metanas_norm::{NormError, batch_norm_training};
use metanas_op_tests::{
    RELATIVE_TOLERANCE, assert_same_bits_on_one_and_three_threads, assert_within_relative_tolerance,
};

const SHAPES: [[usize; 4]; 5] = [
    [3, 4, 1, 1],
    [4, 5, 7, 6],
    [1, 2, 4, 4],
    [64, 16, 32, 32],
    [9, 64, 8, 8],
];

/// Output, x / gamma / beta gradients, batch mean and variance, as flat vectors.
fn run(shape: [usize; 4], device: &Device, seed: u64, ours: bool) -> Vec<(&'static str, Vec<f32>)> {
    let c = shape[1];
    let (x, gamma, beta, upstream) = metanas_seeding::seeded(device, seed, || {
        (
            Tensor::<4>::random(shape, Distribution::Normal(0.7, 2.0), device),
            Tensor::<1>::random([c], Distribution::Normal(1.0, 0.5), device),
            Tensor::<1>::random([c], Distribution::Normal(0.0, 0.5), device),
            Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), device),
        )
    });
    let (x, gamma, beta) = (x.require_grad(), gamma.require_grad(), beta.require_grad());
    let (y, mean, variance) = if ours {
        let out = batch_norm_training(x.clone(), gamma.clone(), beta.clone(), 1e-5)
            .expect("valid batch norm");
        (out.output, out.mean, out.variance)
    } else {
        // Burn's layer with these parameters; momentum 1 makes the running
        // statistics the batch's own (its running variance is the biased one).
        let mut norm = BatchNormConfig::new(c).with_momentum(1.0).init(device);
        norm.gamma = norm.gamma.map(|_| gamma.clone());
        norm.beta = norm.beta.map(|_| beta.clone());
        let y = norm.forward(x.clone());
        (
            y,
            norm.running_mean.value_sync(),
            norm.running_var.value_sync(),
        )
    };
    let grads = (y.clone() * upstream).sum().backward();
    vec![
        ("output", flat(y.detach())),
        ("x gradient", flat(x.grad(&grads).expect("x"))),
        ("gamma gradient", flat(gamma.grad(&grads).expect("gamma"))),
        ("beta gradient", flat(beta.grad(&grads).expect("beta"))),
        ("mean", flat(mean.detach())),
        ("variance", flat(variance.detach())),
    ]
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn assert_matches(shape: [usize; 4], device: &Device, seed: u64) {
    let ours = run(shape, device, seed, true);
    let theirs = run(shape, device, seed, false);
    assert_within_relative_tolerance(&ours, &theirs, RELATIVE_TOLERANCE, (shape, device));
}

#[test]
fn flex_values_gradients_and_statistics_equal_burns() {
    let device = BackendChoice::Flex.autodiff_device();
    for (seed, shape) in SHAPES.into_iter().enumerate() {
        assert_matches(shape, &device, seed as u64);
    }
}

#[test]
fn the_tensor_operation_body_equals_burns_on_ndarray() {
    let device = BackendChoice::Ndarray.autodiff_device();
    for (seed, shape) in SHAPES
        .into_iter()
        .enumerate()
        .filter(|(_, s)| s[0] * s[2] * s[3] < 10_000)
    {
        assert_matches(shape, &device, 10 + seed as u64);
    }
}

/// Without autodiff the op returns the same values (no backward is recorded).
#[test]
fn flex_inference_device_gives_the_same_output() {
    let shape = [4, 5, 7, 6];
    let autodiff = run(shape, &BackendChoice::Flex.autodiff_device(), 3, true);
    let device = BackendChoice::Flex.device();
    let (x, gamma, beta, _) = metanas_seeding::seeded(&device, 3, || {
        (
            Tensor::<4>::random(shape, Distribution::Normal(0.7, 2.0), &device),
            Tensor::<1>::random([5], Distribution::Normal(1.0, 0.5), &device),
            Tensor::<1>::random([5], Distribution::Normal(0.0, 0.5), &device),
            Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device),
        )
    });
    let plain = batch_norm_training(x, gamma, beta, 1e-5).expect("valid");
    assert_eq!(flat(plain.output), autodiff[0].1);
    assert_eq!(flat(plain.mean), autodiff[4].1);
}

/// The channels and planes are shared among rayon's threads; every result is
/// the same bits with one thread and with several.
#[test]
fn flex_results_do_not_depend_on_the_thread_count() {
    let device = BackendChoice::Flex.autodiff_device();
    for shape in [[64, 16, 32, 32], [9, 64, 8, 8]] {
        assert_same_bits_on_one_and_three_threads(|| run(shape, &device, 5, true), shape);
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let device = BackendChoice::Flex.device();
    let x = Tensor::<4>::zeros([2, 3, 4, 4], &device);
    let (three, two) = (
        Tensor::<1>::ones([3], &device),
        Tensor::<1>::ones([2], &device),
    );
    assert_eq!(
        batch_norm_training(x.clone(), two.clone(), three.clone(), 1e-5).err(),
        Some(NormError::ParameterLength {
            parameter: "gamma",
            length: 2,
            channels: 3
        })
    );
    assert_eq!(
        batch_norm_training(x.clone(), three.clone(), two, 1e-5).err(),
        Some(NormError::ParameterLength {
            parameter: "beta",
            length: 2,
            channels: 3
        })
    );
    assert_eq!(
        batch_norm_training(x, three.clone(), three.clone(), 0.0).err(),
        Some(NormError::InvalidEpsilon(0.0))
    );
    let empty = Tensor::<4>::zeros([0, 3, 4, 4], &device);
    assert_eq!(
        batch_norm_training(empty, three.clone(), three, 1e-5).err(),
        Some(NormError::EmptyBatch([0, 3, 4, 4]))
    );
}
