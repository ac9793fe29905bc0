//! Training on real, shipped data: the cell matters, divergence is caught,
//! runs are reproducible, and a saved model loads and predicts.

use metanas_data::ImageDataset;
use metanas_data::shipped::mnist10k;
use metanas_net::{
    CellNetworkConfig, NetError, OptimizerConfig, SavedModel, ModelMetadata, ToCellPlan, TrainingConfig,
    TrainingData, TrainingLength, train,
};
use metanas_space::nb201::Nb201Cell;

const ALL_CONV3: &str =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const ALL_NONE: &str = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

/// 8,000 training and 2,000 held-out digits, stratified.
fn mnist_split() -> (ImageDataset, ImageDataset) {
    let digits = mnist10k().expect("shipped MNIST");
    let mut parts = digits.stratified_split(&[0.8, 0.2], 7).expect("split").into_iter();
    let (Some(train), Some(held_out)) = (parts.next(), parts.next()) else {
        panic!("two parts");
    };
    (train, held_out)
}

/// Trains a C=8, N=1 network with `cell` for `steps` steps; returns held-out accuracy.
fn train_cell(cell: &str, train_set: &ImageDataset, held_out: &ImageDataset, steps: usize) -> f64 {
    let device = metanas_device::test_device().autodiff();
    device.seed(1);
    let cell: Nb201Cell = cell.parse().expect("valid cell");
    let network = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10)
        .with_channels(8)
        .with_cells_per_stage(1)
        .init(&device)
        .expect("valid network");
    let config = TrainingConfig::new(OptimizerConfig::sgd_nesterov(0.1), TrainingLength::Steps(steps)).with_seed(3);
    let normalisation = train_set.normalisation();
    let data = TrainingData {
        train: train_set,
        validation: Some(held_out),
        normalisation: Some(&normalisation),
    };
    let (_, report) = train(network, &mut config.optimizer.init(), data, &config, &device).expect("trains");
    let eval = report.final_validation().expect("validation set given");
    eprintln!("{cell}: held-out accuracy {:.4} after {steps} steps ({:.1} s)", eval.accuracy, report.seconds);
    eval.accuracy
}

#[test]
fn conv_cell_learns_mnist_and_the_empty_cell_does_not() {
    let (train_set, held_out) = mnist_split();
    assert_eq!((train_set.len(), held_out.len()), (8_000, 2_000));
    let conv = train_cell(ALL_CONV3, &train_set, &held_out, 300);
    assert!(conv >= 0.95, "3×3-conv cell reached only {conv:.4}");
    let none = train_cell(ALL_NONE, &train_set, &held_out, 300);
    assert!(none <= 0.2, "the all-none cell should stay near chance (0.1), got {none:.4}");
}

#[test]
fn divergence_is_a_typed_error() {
    let (train_set, _) = mnist_split();
    let device = metanas_device::test_device().autodiff();
    device.seed(1);
    let cell: Nb201Cell = ALL_CONV3.parse().expect("valid cell");
    let network = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10)
        .with_channels(4)
        .with_cells_per_stage(1)
        .init(&device)
        .expect("valid network");
    let config = TrainingConfig::new(OptimizerConfig::sgd_nesterov(1e12), TrainingLength::Steps(50))
        .with_schedule(metanas_net::LearningRateSchedule::Constant);
    let data = TrainingData {
        train: &train_set,
        validation: None,
        normalisation: None,
    };
    match train(network, &mut config.optimizer.init(), data, &config, &device) {
        Err(NetError::Diverged { step, loss }) => assert!(!loss.is_finite() && step < 50),
        other => panic!("expected divergence, got {:?}", other.map(|(_, r)| r.train_losses)),
    }
}

#[test]
fn same_seed_same_losses_and_saved_model_predicts_the_same() {
    let (train_set, held_out) = mnist_split();
    let small = train_set.subset(&(0..512).collect::<Vec<_>>()).expect("subset");
    let device = metanas_device::test_device().autodiff();
    let cell: Nb201Cell = ALL_CONV3.parse().expect("valid cell");
    let net_config = CellNetworkConfig::new(cell.cell_plan(), [1, 28, 28], 10)
        .with_channels(4)
        .with_cells_per_stage(1);
    let config = TrainingConfig::new(OptimizerConfig::adam(1e-2), TrainingLength::Steps(10)).with_batch_size(32);
    let normalisation = small.normalisation();
    let run = || {
        device.seed(5);
        let network = net_config.init(&device).expect("valid");
        let data = TrainingData {
            train: &small,
            validation: None,
            normalisation: Some(&normalisation),
        };
        train(network, &mut config.optimizer.init(), data, &config, &device).expect("trains")
    };
    let (network, first) = run();
    let (_, second) = run();
    assert_eq!(first.train_losses, second.train_losses, "same seed, same losses");

    let saved = SavedModel {
        network,
        config: net_config.clone(),
        metadata: ModelMetadata {
            space: "nas-bench-201".into(),
            architecture: cell.to_string(),
            normalisation: Some(normalisation.clone()),
            class_names: None,
        },
    };
    let dir = std::env::temp_dir().join(format!("metanas-net-saved-{}", std::process::id()));
    saved.save(&dir).expect("saves");
    let plain = device.clone().without_autodiff();
    let loaded = SavedModel::load(&dir, &plain).expect("loads");
    assert_eq!(loaded.metadata, saved.metadata);
    let probe = held_out.subset(&(0..200).collect::<Vec<_>>()).expect("subset");
    let before = saved.predict(&probe, &plain).expect("predicts");
    let after = loaded.predict(&probe, &plain).expect("predicts");
    assert_eq!(before, after);
    assert_eq!(before.len(), 200);
    // A damaged weights file is a typed error, not a panic.
    std::fs::write(dir.join("model.bpk"), b"not a burn record").expect("writable");
    assert!(matches!(SavedModel::load(&dir, &plain), Err(NetError::Record { .. })));
    std::fs::remove_dir_all(&dir).ok();
}
