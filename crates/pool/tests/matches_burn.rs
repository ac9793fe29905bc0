//! `metanas_pool::average_pool_3x3` against Burn's `AvgPool2d` (3×3, stride 1,
//! padding 1, padding not counted): values and the input gradient, over shapes
//! from a single pixel to the network's 64×16×32×32; on flex (this crate's
//! kernel) and on ndarray (the op's default body, Burn's own pool).
//!
//! Tolerance: the largest elementwise difference is at most 1e-5 of the largest
//! magnitude of Burn's tensor (nine terms summed in another order, a division
//! replaced by two products).

use burn::nn::PaddingConfig2d;
use burn::nn::pool::AvgPool2dConfig;
use burn::tensor::{Device, Distribution, Tensor};
use metanas_device::BackendChoice;
use metanas_op_tests::{
    assert_same_bits_on_one_and_three_threads, assert_within_relative_tolerance,
};
use metanas_pool::average_pool_3x3;

/// Nine additions and a division: tighter than the products of the other ops.
const POOL_TOLERANCE: f32 = 1e-5;

const SHAPES: [[usize; 4]; 8] = [
    [1, 1, 1, 1],
    [2, 3, 1, 5],
    [2, 3, 4, 1],
    [1, 2, 2, 2],
    [2, 3, 7, 6],
    [3, 2, 3, 9],
    [64, 16, 32, 32],
    [9, 64, 8, 8],
];

/// Output and input gradient (for a random upstream gradient), as flat vectors.
fn run(shape: [usize; 4], device: &Device, seed: u64, ours: bool) -> Vec<(&'static str, Vec<f32>)> {
    let (x, upstream) = metanas_seeding::seeded(device, seed, || {
        (
            Tensor::<4>::random(shape, Distribution::Normal(0.3, 2.0), device),
            Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), device),
        )
    });
    let x = x.require_grad();
    let y = if ours {
        average_pool_3x3(x.clone())
    } else {
        AvgPool2dConfig::new([3, 3])
            .with_strides([1, 1])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_count_include_pad(false)
            .init()
            .forward(x.clone())
    };
    let grads = (y.clone() * upstream).sum().backward();
    vec![
        ("output", flat(y.detach())),
        ("x gradient", flat(x.grad(&grads).expect("x"))),
    ]
}

fn flat(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn assert_matches(shape: [usize; 4], device: &Device, seed: u64) {
    let ours = run(shape, device, seed, true);
    let theirs = run(shape, device, seed, false);
    assert_within_relative_tolerance(&ours, &theirs, POOL_TOLERANCE, (shape, device));
}

#[test]
fn flex_values_and_gradients_equal_burns() {
    let device = BackendChoice::Flex.autodiff_device();
    for (seed, shape) in SHAPES.into_iter().enumerate() {
        assert_matches(shape, &device, seed as u64);
    }
}

#[test]
fn the_default_body_equals_burns_on_ndarray() {
    let device = BackendChoice::Ndarray.autodiff_device();
    for (seed, shape) in SHAPES
        .into_iter()
        .enumerate()
        .filter(|(_, s)| s.iter().product::<usize>() < 100_000)
    {
        assert_matches(shape, &device, 20 + seed as u64);
    }
}

/// A transposed (non-contiguous) input gives the values of its contiguous copy.
#[test]
fn flex_reads_non_contiguous_inputs() {
    let device = BackendChoice::Flex.device();
    let x = metanas_seeding::seeded(&device, 7, || {
        Tensor::<4>::random([2, 3, 5, 4], Distribution::Normal(0.0, 1.0), &device)
    });
    let transposed = x.swap_dims(2, 3);
    let copy = Tensor::<4>::from_data(transposed.clone().into_data(), &device);
    assert_eq!(
        flat(average_pool_3x3(transposed)),
        flat(average_pool_3x3(copy))
    );
}

/// Without autodiff the op returns the same values.
#[test]
fn flex_inference_device_gives_the_same_output() {
    let shape = [2, 3, 7, 6];
    let autodiff = run(shape, &BackendChoice::Flex.autodiff_device(), 4, true);
    let device = BackendChoice::Flex.device();
    let (x, _) = metanas_seeding::seeded(&device, 4, || {
        (
            Tensor::<4>::random(shape, Distribution::Normal(0.3, 2.0), &device),
            Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device),
        )
    });
    assert_eq!(flat(average_pool_3x3(x)), autodiff[0].1);
}

#[test]
fn an_empty_input_is_returned_as_it_is() {
    let device = BackendChoice::Flex.device();
    let empty = Tensor::<4>::zeros([0, 3, 4, 4], &device);
    assert_eq!(average_pool_3x3(empty).dims(), [0, 3, 4, 4]);
}

/// The planes are shared among rayon's threads; the results are the same
/// bits with one thread and with several.
#[test]
fn flex_results_do_not_depend_on_the_thread_count() {
    let device = BackendChoice::Flex.autodiff_device();
    for shape in [[64, 16, 32, 32], [9, 64, 8, 8]] {
        assert_same_bits_on_one_and_three_threads(|| run(shape, &device, 5, true), shape);
    }
}

/// A plane worked by hand from the definition (PyTorch's
/// `AvgPool2d(3, 1, 1, count_include_pad=False)`), independent of Burn's pool:
/// the means over each window's in-bounds values, and, for an output gradient
/// of ones, `dx[p, q] = Σ 1/n` over the windows that read `(p, q)`, which sum to
/// one per output; on flex and on ndarray.
#[test]
fn a_plane_worked_by_hand() {
    #[rustfmt::skip]
    let expected_output = [
        3.5, 4.0, 5.0, 5.5,
        5.5, 6.0, 7.0, 7.5,
        7.5, 8.0, 9.0, 9.5,
    ];
    for device in [
        BackendChoice::Flex.autodiff_device(),
        BackendChoice::Ndarray.autodiff_device(),
    ] {
        let values: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        let x = Tensor::<1>::from_floats(values.as_slice(), &device)
            .reshape([1, 1, 3, 4])
            .require_grad();
        let y = average_pool_3x3(x.clone());
        let grads = y.clone().sum().backward();
        let dx = flat(x.grad(&grads).expect("x"));
        for (got, want) in flat(y.detach()).iter().zip(expected_output) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want} on {device:?}");
        }
        // Windows counts n: rows 2, 3, 2 × columns 2, 3, 3, 2. The corner
        // (0, 0) is read by the outputs (0, 0), (0, 1), (1, 0), (1, 1):
        // 1/4 + 1/6 + 1/6 + 1/9 = 25/36.
        assert!(
            (dx[0] - 25.0 / 36.0).abs() < 1e-6,
            "{} on {device:?}",
            dx[0]
        );
        let total: f32 = dx.iter().sum();
        assert!((total - 12.0).abs() < 1e-5, "{total} on {device:?}");
    }
}
