//! A network whose convolutions are `metanas_conv::conv2d` (the default of
//! `CellNetworkConfig::own_convolution`) trains as the same network with Burn's
//! convolution (`Some(false)`): the same losses step by step, to float rounding.

use metanas_net::{
    CellNetworkConfig, OptimizerConfig, ToCellPlan, TrainingConfig, TrainingData, TrainingLength,
    train,
};
use metanas_space::nb201::Nb201Cell;

#[allow(dead_code)] // The shared helpers this file does not use.
mod common;

use common::mnist_split;

/// Three 3×3 convolutions leave node 0 (one stacked group); a 1×1 convolution, a
/// skip and a pooling elsewhere: every kind of edge the network computes.
const MIXED: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|";

/// The per-step training losses of a C=8, N=1 network after `steps` steps.
fn losses(own_convolution: Option<bool>, steps: usize) -> Vec<f32> {
    let (train_set, _) = mnist_split();
    let device = metanas_device::test_device().autodiff();
    let cell: Nb201Cell = MIXED.parse().expect("valid cell");
    let net_config = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10)
        .with_channels(8)
        .with_cells_per_stage(1)
        .with_own_convolution(own_convolution);
    let network = metanas_seeding::seeded_module(&device, 1, || net_config.init(&device))
        .expect("valid network");
    let config = TrainingConfig::new(
        OptimizerConfig::sgd_nesterov(0.05),
        TrainingLength::Steps(steps),
    )
    .with_seed(3);
    let normalisation = train_set.normalisation();
    let data = TrainingData {
        train: &train_set,
        validation: None,
        normalisation: Some(&normalisation),
    };
    let (_, report) = train(
        network,
        &mut config.optimizer.init(),
        data,
        &config,
        &device,
    )
    .expect("trains");
    report.train_losses
}

#[test]
fn a_network_with_its_own_convolution_trains_to_the_same_losses() {
    let steps = 40;
    let burn = losses(Some(false), steps);
    let own = losses(None, steps);
    assert_eq!(
        own,
        losses(Some(true), steps),
        "the default is the own convolution"
    );
    assert_eq!((burn.len(), own.len()), (steps, steps));
    eprintln!(
        "loss at steps 1, {steps}: Burn's convolution {:.5} → {:.5}, own {:.5} → {:.5}",
        burn[0],
        burn[steps - 1],
        own[0],
        own[steps - 1]
    );
    // The first step sees identical weights: only the convolutions' summation
    // order differs. Later steps drift apart by rounding, through 40 updates.
    assert!(
        (burn[0] - own[0]).abs() <= 1e-5 * burn[0].abs(),
        "first loss {} vs {}",
        burn[0],
        own[0]
    );
    for (step, (a, b)) in burn.iter().zip(&own).enumerate() {
        assert!(
            (a - b).abs() <= 1e-2 * a.abs().max(0.1),
            "step {step}: loss {a} with Burn's convolution, {b} with its own"
        );
    }
    assert!(
        own[steps - 1] < own[0],
        "the loss should fall: {} → {}",
        own[0],
        own[steps - 1]
    );
}

#[test]
fn configurations_saved_before_the_setting_still_load() {
    let cell: Nb201Cell = MIXED.parse().expect("valid cell");
    let config = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10);
    let mut json = serde_json::to_value(&config).expect("serialises");
    let removed = json
        .as_object_mut()
        .expect("an object")
        .remove("own_convolution");
    assert_eq!(removed, Some(serde_json::Value::Null));
    let loaded: CellNetworkConfig = serde_json::from_value(json).expect("loads without the field");
    // Read as the default: the own convolution (same weights, same values to
    // float rounding).
    assert_eq!(loaded.own_convolution, None);
}
