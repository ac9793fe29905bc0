//! `metanas_conv::conv2d` against Burn's own `conv2d`: values and the gradients of
//! the input, the weight and the bias, over a grid of shapes (stride 1 and 2,
//! padding 0 and 1, 1×1 and 3×3 kernels, batch 1 and 64, few and many channels)
//! and a few odd ones (asymmetric padding, padding beyond the kernel's reach,
//! dilation, groups, non-square kernels, more input than output channels).
//!
//! Tolerance: the largest elementwise difference is at most 1e-4 of the largest
//! magnitude of Burn's tensor (the sums run in another order, so the last bits
//! differ; an elementwise relative error is meaningless near zero).

use burn::tensor::activation::relu;
use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use metanas_conv::{ConvError, conv2d, relu_conv2d};
use metanas_device::BackendChoice;
use metanas_op_tests::{
    RELATIVE_TOLERANCE, assert_same_bits_on_one_and_three_threads,
    assert_within_relative_tolerance, largest_relative_difference,
};

/// One convolution to compare.
#[derive(Debug, Clone)]
struct Case {
    batch: usize,
    c_in: usize,
    c_out: usize,
    size: [usize; 2],
    kernel: [usize; 2],
    options: ConvOptions<2>,
    bias: bool,
    /// The convolution of `relu(x)`: [`relu_conv2d`] against Burn's `relu`
    /// then `conv2d`.
    relu_input: bool,
}

/// Values, then the gradients of x, weight and bias (if any), as flat vectors.
fn run(case: &Case, device: &Device, seed: u64, ours: bool) -> Vec<(String, Vec<f32>)> {
    let groups = case.options.groups;
    let (x, weight, bias, upstream) = metanas_seeding::seeded(device, seed, || {
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random(
            [case.batch, case.c_in, case.size[0], case.size[1]],
            normal,
            device,
        );
        let weight = Tensor::<4>::random(
            [
                case.c_out,
                case.c_in / groups,
                case.kernel[0],
                case.kernel[1],
            ],
            normal,
            device,
        );
        let bias = Tensor::<1>::random([case.c_out], normal, device);
        let upstream_shape =
            burn_conv2d(x.clone(), weight.clone(), None, case.options.clone()).dims();
        let upstream = Tensor::<4>::random(upstream_shape, normal, device);
        (x, weight, bias, upstream)
    });
    let x = x.require_grad();
    let weight = weight.require_grad();
    let bias = case.bias.then(|| bias.require_grad());
    let y = match (ours, case.relu_input) {
        (true, false) => conv2d(
            x.clone(),
            weight.clone(),
            bias.clone(),
            case.options.clone(),
        )
        .expect("a valid convolution"),
        (true, true) => relu_conv2d(
            x.clone(),
            weight.clone(),
            bias.clone(),
            case.options.clone(),
        )
        .expect("a valid convolution"),
        (false, relu_input) => burn_conv2d(
            if relu_input {
                relu(x.clone())
            } else {
                x.clone()
            },
            weight.clone(),
            bias.clone(),
            case.options.clone(),
        ),
    };
    let values = flat(y.clone().detach());
    let grads = (y * upstream).sum().backward();
    let mut out = vec![
        ("values".to_string(), values),
        ("x gradient".to_string(), flat(x.grad(&grads).expect("x"))),
        (
            "weight gradient".to_string(),
            flat(weight.grad(&grads).expect("weight")),
        ),
    ];
    if let Some(bias) = bias {
        out.push((
            "bias gradient".to_string(),
            flat(bias.grad(&grads).expect("bias")),
        ));
    }
    out
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn assert_matches(case: &Case, device: &Device, seed: u64) {
    let ours = run(case, device, seed, true);
    let theirs = run(case, device, seed, false);
    assert_within_relative_tolerance(&ours, &theirs, RELATIVE_TOLERANCE, case);
}

/// The grid: every combination of stride, padding, kernel and batch, with few
/// and with many channels, at spatial sizes that vary from case to case.
fn grid() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut index = 0;
    for stride in [1, 2] {
        for padding in [0, 1] {
            for kernel in [1, 3] {
                for batch in [1, 64] {
                    for (c_in, c_out) in [(3, 5), (48, 64)] {
                        cases.push(Case {
                            batch,
                            c_in,
                            c_out,
                            size: [5 + index % 5, 6 + index % 3],
                            kernel: [kernel, kernel],
                            options: ConvOptions::new(
                                [stride, stride],
                                [padding, padding],
                                [1, 1],
                                1,
                            ),
                            bias: index % 2 == 1,
                            relu_input: index % 3 == 2,
                        });
                        index += 1;
                    }
                }
            }
        }
    }
    cases
}

/// Shapes beyond the grid: asymmetric padding, dilation, non-square kernels,
/// groups (flex's own convolution then runs) and the NB201 cell sizes.
fn odd_cases() -> Vec<Case> {
    let case = |batch, c_in, c_out, size, kernel, options| Case {
        batch,
        c_in,
        c_out,
        size,
        kernel,
        options,
        bias: false,
        relu_input: false,
    };
    vec![
        case(
            2,
            4,
            6,
            [9, 7],
            [3, 3],
            ConvOptions::new_with_padding([1, 2], [(0, 2), (1, 0)], [1, 1], 1),
        ),
        case(
            3,
            5,
            7,
            [11, 10],
            [3, 2],
            ConvOptions::new([2, 1], [2, 1], [2, 3], 1),
        ),
        case(
            2,
            6,
            8,
            [7, 7],
            [3, 3],
            ConvOptions::new([1, 1], [1, 1], [1, 1], 2),
        ),
        // Stride 1 with dilation and asymmetric padding: the input gradient as
        // the flipped-kernel convolution, padded per side.
        case(
            3,
            5,
            7,
            [10, 9],
            [3, 2],
            ConvOptions::new_with_padding([1, 1], [(2, 1), (0, 1)], [2, 1], 1),
        ),
        case(
            64,
            16,
            16,
            [32, 32],
            [3, 3],
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        ),
        case(
            64,
            64,
            64,
            [8, 8],
            [3, 3],
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        ),
        case(
            1,
            1,
            1,
            [3, 3],
            [3, 3],
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        ),
        // More input than output channels at stride 1: the shifted-window
        // forward, over several tiles.
        case(
            64,
            48,
            16,
            [32, 32],
            [3, 3],
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        ),
        // Stride 1, fewer input than output channels and few padding
        // positions: the shifted-window forward (shifted copies of the padded
        // input), with no left padding (the copies start before the input) and
        // with a dilated kernel row.
        case(
            3,
            2,
            3,
            [12, 11],
            [3, 3],
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        ),
        case(
            2,
            3,
            6,
            [9, 10],
            [2, 3],
            ConvOptions::new_with_padding([1, 1], [(1, 0), (0, 2)], [1, 2], 1),
        ),
        // Output channels beyond a multiple of eight: the weight gradient's
        // transpose of the output gradient in blocks of eight, then the rest.
        case(
            3,
            5,
            13,
            [6, 7],
            [3, 3],
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        ),
        // Padding beyond the dilated kernel's reach, asymmetric, at stride 1.
        case(
            5,
            12,
            4,
            [7, 9],
            [3, 3],
            ConvOptions::new_with_padding([1, 1], [(5, 0), (2, 1)], [2, 1], 1),
        ),
        // Stride-1 3×3 kernels with many channels: odd output sizes,
        // asymmetric padding with an odd and an even left padding, and padding
        // beyond the kernel's reach (the input gradient then by col2im).
        case(
            3,
            32,
            40,
            [7, 9],
            [3, 3],
            ConvOptions::new_with_padding([1, 1], [(0, 2), (1, 0)], [1, 1], 1),
        ),
        case(
            2,
            33,
            32,
            [6, 5],
            [3, 3],
            ConvOptions::new_with_padding([1, 1], [(2, 1), (2, 2)], [1, 1], 1),
        ),
        case(
            2,
            32,
            32,
            [5, 4],
            [3, 3],
            ConvOptions::new([1, 1], [3, 3], [1, 1], 1),
        ),
        // Many channels, a dilated non-square kernel and asymmetric padding:
        // the per-image kernel rows over column-shifted copies, with kernel rows
        // that reach only some output rows and copies whose rows are wider than
        // the input's.
        case(
            2,
            24,
            32,
            [7, 9],
            [3, 2],
            ConvOptions::new_with_padding([1, 1], [(2, 0), (1, 3)], [2, 3], 1),
        ),
        // A padded 1×1 kernel: output rows wider than the input's.
        case(
            3,
            8,
            2,
            [4, 5],
            [1, 1],
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        ),
    ]
}

#[test]
fn flex_values_and_gradients_equal_burns_over_the_grid() {
    let device = BackendChoice::Flex.autodiff_device();
    for (seed, case) in grid().iter().enumerate() {
        assert_matches(case, &device, seed as u64);
    }
}

#[test]
fn flex_values_and_gradients_equal_burns_on_odd_shapes() {
    let device = BackendChoice::Flex.autodiff_device();
    for (seed, case) in odd_cases().iter().enumerate() {
        assert_matches(case, &device, 100 + seed as u64);
    }
}

/// The fused ReLU on the odd shapes (the grid has it on a third of its cases),
/// the grouped convolution's fallback to flex's own included.
#[test]
fn flex_fused_relu_equals_burns_relu_then_convolution_on_odd_shapes() {
    let device = BackendChoice::Flex.autodiff_device();
    for (seed, case) in odd_cases().into_iter().enumerate() {
        let case = Case {
            relu_input: true,
            ..case
        };
        assert_matches(&case, &device, 300 + seed as u64);
    }
}

#[test]
fn flex_inference_equals_burns() {
    let device = BackendChoice::Flex.device();
    for (seed, case) in grid().iter().enumerate().step_by(3) {
        let (x, weight) = metanas_seeding::seeded(&device, seed as u64, || {
            let normal = Distribution::Normal(0.0, 1.0);
            (
                Tensor::<4>::random(
                    [case.batch, case.c_in, case.size[0], case.size[1]],
                    normal,
                    &device,
                ),
                Tensor::<4>::random(
                    [case.c_out, case.c_in, case.kernel[0], case.kernel[1]],
                    normal,
                    &device,
                ),
            )
        });
        let ours =
            flat(conv2d(x.clone(), weight.clone(), None, case.options.clone()).expect("valid"));
        let theirs = flat(burn_conv2d(x, weight, None, case.options.clone()));
        assert!(
            largest_relative_difference(&ours, &theirs) <= RELATIVE_TOLERANCE,
            "{case:?}"
        );
    }
}

/// On the other backends the op is Burn's own convolution (the trait's default
/// bodies), routed through the extension and the hand-written backward.
#[test]
fn other_backends_equal_burns() {
    let mut devices = vec![BackendChoice::Ndarray.autodiff_device()];
    if metanas_device::wgpu_available() {
        devices.push(BackendChoice::Wgpu.autodiff_device());
    }
    for device in devices {
        eprintln!("comparing on {device:?}");
        for (seed, case) in grid().iter().enumerate().filter(|(_, c)| c.batch == 1) {
            assert_matches(case, &device, seed as u64);
        }
        assert_matches(&odd_cases()[2], &device, 7);
        assert_matches(&odd_cases()[3], &device, 8);
    }
}

#[test]
fn invalid_shapes_are_typed_errors() {
    let device = BackendChoice::Flex.device();
    let x = Tensor::<4>::zeros([1, 3, 5, 5], &device);
    let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let wrong_channels = Tensor::<4>::zeros([4, 2, 3, 3], &device);
    assert!(matches!(
        conv2d(x.clone(), wrong_channels, None, options.clone()),
        Err(ConvError::ChannelMismatch {
            input: 3,
            weight: 2,
            groups: 1
        })
    ));
    let weight = Tensor::<4>::zeros([4, 3, 3, 3], &device);
    assert!(matches!(
        conv2d(
            x.clone(),
            weight.clone(),
            Some(Tensor::zeros([5], &device)),
            options.clone()
        ),
        Err(ConvError::BiasMismatch {
            bias: 5,
            channels_out: 4
        })
    ));
    let too_large = Tensor::<4>::zeros([4, 3, 7, 7], &device);
    assert!(matches!(
        conv2d(x.clone(), too_large, None, options.clone()),
        Err(ConvError::KernelTooLarge { .. })
    ));
    // Two groups cannot share three output channels (Burn's `ConvOptions::new`
    // itself rejects a zero stride, dilation or group count).
    let x = Tensor::<4>::zeros([1, 4, 5, 5], &device);
    let uneven_groups = Tensor::<4>::zeros([3, 2, 3, 3], &device);
    assert!(matches!(
        conv2d(
            x,
            uneven_groups,
            None,
            ConvOptions::new([1, 1], [0, 0], [1, 1], 2)
        ),
        Err(ConvError::InvalidOptions(_))
    ));
}

/// No input channels (a shape Burn's tensors allow): zeros out, empty
/// gradients of the input and the weight, and no panic on any path (the
/// many-output-channel one included).
#[test]
fn zero_input_channels_give_zeros_and_empty_gradients() {
    let device = BackendChoice::Flex.autodiff_device();
    for c_out in [5, 32] {
        let x = Tensor::<4>::zeros([2, 0, 5, 5], &device).require_grad();
        let weight = Tensor::<4>::zeros([c_out, 0, 3, 3], &device).require_grad();
        let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        let y = conv2d(x.clone(), weight.clone(), None, options).expect("a valid convolution");
        assert_eq!(y.dims(), [2, c_out, 3, 3]);
        assert!(flat(y.clone().detach()).iter().all(|v| *v == 0.0));
        let grads = y.sum().backward();
        assert_eq!(x.grad(&grads).map(|g| g.dims()), Some([2, 0, 5, 5]));
        assert_eq!(
            weight.grad(&grads).map(|g| g.dims()),
            Some([c_out, 0, 3, 3])
        );
    }
}

/// The kernels share tiles of the batch among rayon's threads; the values and
/// gradients are the same bits with one thread and with several (the weight
/// gradient is summed in a fixed number of groups, in order).
#[test]
fn flex_results_do_not_depend_on_the_thread_count() {
    let device = BackendChoice::Flex.autodiff_device();
    let cases = [
        &odd_cases()[4],
        &odd_cases()[5],
        &odd_cases()[7],
        &grid()[13],
        // Stride 1, 48 → 64 channels, batch 64: the per-image kernel rows.
        &grid()[15],
    ];
    for (seed, case) in cases.into_iter().enumerate() {
        assert_same_bits_on_one_and_three_threads(
            || run(case, &device, 200 + seed as u64, true),
            case,
        );
    }
}

/// The weight gradients' partial sums live in buffers each thread keeps from
/// call to call: a gradient computed after a larger one (whose sums those
/// buffers still hold) is the same bits as the first time.
#[test]
fn flex_weight_gradients_do_not_depend_on_earlier_calls() {
    let device = BackendChoice::Flex.autodiff_device();
    let (large, small) = (&grid()[15], &odd_cases()[4]);
    let first = run(small, &device, 300, true);
    run(large, &device, 301, true);
    let again = run(small, &device, 300, true);
    assert_eq!(first, again, "{small:?} after {large:?}");
}
