//! The same network gives the same numbers on ndarray and on wgpu: one forward
//! pass and one training step. The wgpu side needs a Vulkan driver (a GPU, or
//! Mesa's lavapipe on the CPU, which `.ci/run` installs); without one the test
//! says so and passes, except under CI (`CI=true`), where it fails.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use metanas_device::{BackendChoice, wgpu_available};
use metanas_net::{CellNetwork, CellNetworkConfig, OptimizerConfig, ToCellPlan};
use metanas_space::nb201::Nb201Cell;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const CELL: &str = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

fn inputs(device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let mut rng = StdRng::seed_from_u64(42);
    let pixels: Vec<f32> = (0..8 * 3 * 16 * 16)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let labels: Vec<i64> = (0..8).map(|_| rng.random_range(0..10)).collect();
    (
        Tensor::from_data(TensorData::new(pixels, [8, 3, 16, 16]), device),
        Tensor::from_data(TensorData::new(labels, [8]), device),
    )
}

/// Logits before, training loss, and logits after one SGD step.
fn forward_and_step(network: CellNetwork, device: &Device) -> (Vec<f32>, f32, Vec<f32>) {
    let (images, labels) = inputs(device);
    let before = network
        .valid()
        .forward(images.clone().inner())
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32");
    let logits = network.forward(images.clone());
    let loss = CrossEntropyLossConfig::new()
        .init(device)
        .forward(logits, labels);
    let loss_value: f32 = loss.clone().into_scalar();
    let grads = GradientsParams::from_grads(loss.backward(), &network);
    let mut optimizer = OptimizerConfig::sgd_nesterov(0.05).init();
    let network = optimizer.step(0.05, network, grads);
    let after = network
        .valid()
        .forward(images.inner())
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32");
    (before, loss_value, after)
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + x.abs()))
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "{what}: largest relative difference {worst}");
}

#[test]
fn ndarray_and_wgpu_agree_on_forward_and_one_training_step() {
    if !wgpu_available() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must provide a Vulkan driver for the wgpu tests"
        );
        eprintln!("skipped: no wgpu adapter on this machine (install mesa-vulkan-drivers)");
        return;
    }
    let cell: Nb201Cell = CELL.parse().expect("valid cell");
    let config = CellNetworkConfig::new(cell.cell_plan(), [3, 16, 16], 10)
        .with_channels(4)
        .with_cells_per_stage(1);
    let ndarray = BackendChoice::Ndarray.autodiff_device();
    let wgpu = BackendChoice::Wgpu.autodiff_device();
    let on_ndarray =
        metanas_seeding::seeded_module(&ndarray, 9, || config.init(&ndarray)).expect("valid");
    // Same weights on wgpu, through a record, as a saved model would travel.
    let record = on_ndarray.clone().into_record();
    let on_wgpu = config.init(&wgpu).expect("valid").load_record(record);

    let (before_n, loss_n, after_n) = forward_and_step(on_ndarray, &ndarray);
    let (before_w, loss_w, after_w) = forward_and_step(on_wgpu, &wgpu);
    assert_close(&before_n, &before_w, "logits before the step");
    assert!(
        (loss_n - loss_w).abs() < 1e-3 * (1.0 + loss_n.abs()),
        "loss {loss_n} vs {loss_w}"
    );
    assert_close(&after_n, &after_w, "logits after one SGD step");
    // The step changed something.
    assert!(
        before_n
            .iter()
            .zip(&after_n)
            .any(|(a, b)| (a - b).abs() > 1e-4)
    );
}
