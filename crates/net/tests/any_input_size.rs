//! The skeleton takes inputs of any height and width: a 1×40 signal, a 30×30
//! or 7×5 image pass forward and backward, while sizes that are multiples of 4
//! (28×28, 32×32) are not padded and keep NAS-Bench-201's counts.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Distribution, Tensor};
use metanas_net::{CellNetworkConfig, ToCellPlan};
use metanas_space::nb201::Nb201Cell;

/// Every edge a 3×3 convolution.
const ALL_CONV3: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";

/// Also an average pool and a skip, so every operation sees the odd sizes.
const MIXED: &str =
    "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|";

fn config(cell: &str, shape: [usize; 3]) -> CellNetworkConfig {
    let cell: Nb201Cell = cell.parse().expect("valid cell");
    CellNetworkConfig::new(cell.cell_plan(), shape, 3)
        .with_channels(2)
        .with_cells_per_stage(1)
}

#[test]
fn odd_and_small_inputs_pass_forward_and_backward() {
    let device = metanas_device::test_device().autodiff();
    for shape in [[1, 1, 40], [1, 30, 30], [3, 7, 5], [1, 1, 1], [2, 28, 28]] {
        for cell in [ALL_CONV3, MIXED] {
            let config = config(cell, shape);
            config.check().expect("any size is valid");
            let network = metanas_seeding::seeded_module(&device, 3, || config.init(&device))
                .expect("builds");
            let [c, h, w] = shape;
            let images = metanas_seeding::seeded(&device, 4, || {
                Tensor::<4>::random([2, c, h, w], Distribution::Normal(0.0, 1.0), &device)
            });
            let scores = network.forward(images); // [2, 3]
            assert_eq!(scores.dims(), [2, 3], "{shape:?}");
            let values: Vec<f32> = scores.clone().into_data().try_to_vec::<f32>().expect("f32");
            assert!(
                values.iter().all(|v| v.is_finite()),
                "{shape:?}: {values:?}"
            );
            let gradients = GradientsParams::from_grads(scores.sum().backward(), &network);
            assert!(
                !gradients.is_empty(),
                "{shape:?}: no parameter got a gradient"
            );
        }
    }
}

#[test]
fn parameters_do_not_depend_on_the_input_size() {
    let device = metanas_device::test_device();
    let reference = config(MIXED, [1, 28, 28]);
    for shape in [[1, 1, 40], [1, 30, 30], [1, 7, 5]] {
        let other = config(MIXED, shape);
        assert_eq!(other.complexity().params, reference.complexity().params);
        let built = other.init(&device).expect("builds").num_params();
        let counted = other.complexity();
        assert_eq!(built, counted.params + counted.batch_norm_statistics);
    }
}

#[test]
fn flops_count_the_padded_sizes() {
    // 30×30 runs its first stage at 30×30 and its later stages at 15×15 and
    // 8×8 (15 padded to 16): between 28×28 (28, 14, 7) and 32×32 (32, 16, 8).
    let flops = |shape| config(ALL_CONV3, shape).complexity().flops;
    let (f28, f30, f32) = (flops([1, 28, 28]), flops([1, 30, 30]), flops([1, 32, 32]));
    assert!(f28 < f30 && f30 < f32, "{f28} {f30} {f32}");
    // Multiples of 4 halve exactly: a 28×28 network costs the stem and first
    // stage at 28², the second at 14², the third at 7², as before.
    let one_row = flops([1, 1, 40]);
    assert!(one_row > 0 && one_row < f28, "{one_row}");
}

#[test]
fn zero_dimensions_and_one_class_are_refused_before_building() {
    let zero = CellNetworkConfig::check_skeleton([1, 0, 40], 10, 8).expect_err("zero height");
    assert!(zero.to_string().contains("zero dimension"), "{zero}");
    let one_class = CellNetworkConfig::check_skeleton([1, 1, 40], 1, 8).expect_err("one class");
    assert!(one_class.to_string().contains("2 classes"), "{one_class}");
    CellNetworkConfig::check_skeleton([1, 30, 30], 2, 8).expect("any size is fine");
}
