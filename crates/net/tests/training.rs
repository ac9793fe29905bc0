//! Training on real, shipped data: the cell matters and divergence is caught.
//! (Reproducible runs and saved models: `reproducibility.rs`.)

use metanas_data::ImageDataset;
use metanas_net::{
    CellNetworkConfig, NetError, OptimizerConfig, ToCellPlan, TrainingConfig, TrainingData,
    TrainingLength, train,
};
use metanas_space::nb201::Nb201Cell;

mod common;

use common::{ALL_CONV3, ALL_NONE, mnist_split};

/// Trains a C=8, N=1 network with `cell` for `steps` steps; returns held-out accuracy.
fn train_cell(cell: &str, train_set: &ImageDataset, held_out: &ImageDataset, steps: usize) -> f64 {
    let device = metanas_device::test_device().autodiff();
    let cell: Nb201Cell = cell.parse().expect("valid cell");
    let net_config = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10)
        .with_channels(8)
        .with_cells_per_stage(1);
    let network = metanas_seeding::seeded_module(&device, 1, || net_config.init(&device))
        .expect("valid network");
    let config = TrainingConfig::new(
        OptimizerConfig::sgd_nesterov(0.1),
        TrainingLength::Steps(steps),
    )
    .with_seed(3);
    let normalisation = train_set.normalisation();
    let data = TrainingData {
        train: train_set,
        validation: Some(held_out),
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
    let eval = report.final_validation().expect("validation set given");
    eprintln!(
        "{cell}: held-out accuracy {:.4} after {steps} steps ({:.1} s)",
        eval.accuracy, report.seconds
    );
    eval.accuracy
}

#[test]
fn conv_cell_learns_mnist_and_the_empty_cell_does_not() {
    let (train_set, held_out) = mnist_split();
    assert_eq!((train_set.len(), held_out.len()), (8_000, 2_000));
    let conv = train_cell(ALL_CONV3, &train_set, &held_out, 300);
    assert!(conv >= 0.95, "3×3-conv cell reached only {conv:.4}");
    let none = train_cell(ALL_NONE, &train_set, &held_out, 300);
    assert!(
        none <= 0.2,
        "the all-none cell should stay near chance (0.1), got {none:.4}"
    );
}

#[test]
fn divergence_is_a_typed_error() {
    let (train_set, _) = mnist_split();
    let device = metanas_device::test_device().autodiff();
    let cell: Nb201Cell = ALL_CONV3.parse().expect("valid cell");
    let net_config = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10)
        .with_channels(4)
        .with_cells_per_stage(1);
    let network = metanas_seeding::seeded_module(&device, 1, || net_config.init(&device))
        .expect("valid network");
    let config = TrainingConfig::new(
        OptimizerConfig::sgd_nesterov(1e12),
        TrainingLength::Steps(50),
    )
    .with_schedule(metanas_net::LearningRateSchedule::Constant);
    let data = TrainingData {
        train: &train_set,
        validation: None,
        normalisation: None,
    };
    match train(
        network,
        &mut config.optimizer.init(),
        data,
        &config,
        &device,
    ) {
        Err(NetError::Diverged { step, loss }) => assert!(!loss.is_finite() && step < 50),
        other => panic!(
            "expected divergence, got {:?}",
            other.map(|(_, r)| r.train_losses)
        ),
    }
}
