//! The same AON, loaded from disk, trains a small network on wgpu to the same
//! loss curve as on ndarray. The wgpu side needs a Vulkan driver (a GPU, or
//! Mesa's lavapipe on the CPU); without one the test says so and passes,
//! except under CI (`CI=true`), where it fails.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use metanas_aon::aon_parameters::{flatten_parameters, perturbed};
use metanas_aon::{Aon, AonConfig, AonOptimizer};
use metanas_device::{BackendChoice, wgpu_available};
use metanas_net::{CellNetwork, CellNetworkConfig, ModelOptimizer, ToCellPlan, TrainingFeedback};
use metanas_space::nb201::Nb201Cell;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const CELL: &str = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const STEPS: usize = 8;

fn batch(step: usize, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let mut rng = StdRng::seed_from_u64(100 + step as u64 % 3);
    let pixels: Vec<f32> = (0..8 * 8 * 8)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let labels: Vec<i64> = (0..8).map(|i| (i % 4) as i64).collect();
    (
        Tensor::from_data(TensorData::new(pixels, [8, 1, 8, 8]), device),
        Tensor::from_data(TensorData::new(labels, [8]), device),
    )
}

/// Training losses of `STEPS` AON steps (with feedback, cosine schedule).
fn loss_curve(mut network: CellNetwork, aon: &Aon, device: &Device) -> Vec<f32> {
    let mut optimizer = AonOptimizer::new(aon);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let (mut initial, mut smoothed) = (0.0, 0.0);
    let mut losses = Vec::new();
    for step in 0..STEPS {
        let (images, labels) = batch(step, device);
        let loss = loss_fn.forward(network.forward(images), labels);
        let value: f32 = loss.clone().into_scalar();
        if step == 0 {
            (initial, smoothed) = (f64::from(value), f64::from(value));
        }
        smoothed = 0.9 * smoothed + 0.1 * f64::from(value);
        losses.push(value);
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        let feedback = TrainingFeedback {
            step,
            total_steps: STEPS,
            loss: f64::from(value),
            initial_loss: initial,
            smoothed_loss: smoothed,
        };
        let lr = metanas_net::LearningRateSchedule::Cosine.rate(1.0, step, STEPS);
        network = optimizer.step(lr, network, grads, &feedback);
    }
    losses
}

#[test]
fn an_aon_loaded_from_disk_trains_the_same_on_ndarray_and_wgpu() {
    if !wgpu_available() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must provide a Vulkan driver for the wgpu tests"
        );
        eprintln!("skipped: no wgpu adapter on this machine (install mesa-vulkan-drivers)");
        return;
    }
    let ndarray = BackendChoice::Ndarray.autodiff_device();
    let wgpu = BackendChoice::Wgpu.autodiff_device();
    // An AON with non-trivial weights everywhere, saved to disk.
    let plain = ndarray.clone().without_autodiff();
    let fresh = metanas_seeding::seeded_module(&plain, 17, || {
        AonConfig::new()
            .with_hidden(8)
            .with_initial_step(1e-2)
            .with_use_feedback(true)
            .init(&plain)
    })
    .expect("valid");
    let direction: Vec<f32> = (0..flatten_parameters(&fresh).len())
        .map(|i| ((i * 29 % 13) as f32 - 6.0) / 30.0)
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    perturbed(&fresh, &direction, 1.0)
        .save(dir.path())
        .expect("saves");
    let on_ndarray =
        Aon::load(dir.path(), &ndarray.clone().without_autodiff()).expect("loads on ndarray");
    let on_wgpu = Aon::load(dir.path(), &wgpu.clone().without_autodiff()).expect("loads on wgpu");

    let cell: Nb201Cell = CELL.parse().expect("valid cell");
    let config = CellNetworkConfig::new(cell.cell_plan(), [1, 8, 8], 4)
        .with_channels(2)
        .with_cells_per_stage(1);
    let network = config.init(&ndarray).expect("valid");
    let network_wgpu = config
        .init(&wgpu)
        .expect("valid")
        .load_record(network.clone().into_record());

    let a = loss_curve(network, &on_ndarray, &ndarray);
    let b = loss_curve(network_wgpu, &on_wgpu, &wgpu);
    eprintln!("ndarray {a:.4?}\nwgpu    {b:.4?}");
    for (step, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() < 2e-3 * (1.0 + x.abs()),
            "step {step}: ndarray {x} vs wgpu {y}"
        );
    }
    assert!(a[STEPS - 1] < 0.9 * a[0], "the AON should train: {a:?}");
}
