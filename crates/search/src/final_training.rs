//! Final training: the chosen cell, trained fully, tested once, saved.

use crate::error::{Result, SearchError};
use crate::training_evaluator::NetworkSize;
use burn::module::Module;
use burn::tensor::Device;
use metanas_data::ImageDataset;
use metanas_net::{
    CellNetworkConfig, Evaluation, ModelMetadata, SavedModel, ToCellPlan, TrainingConfig,
    TrainingData, TrainingReport, evaluate, train,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What final training produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinalResult {
    /// The architecture (space text form).
    pub architecture: String,
    /// Held-out test loss and accuracy: the only time the test split is touched.
    pub test: Evaluation,
    /// The training run.
    pub training: TrainingReport,
    /// Parameters of the trained network.
    pub params: usize,
}

/// Trains `arch` on all of `train`, evaluates once on `test`, and saves the
/// model to `out_dir` (see [`SavedModel`]) with `final_result.json`.
///
/// # Errors
/// Building, training (divergence) or writing the files.
#[allow(clippy::too_many_arguments)]
pub fn train_final<A: ToCellPlan>(
    arch: &A,
    space_name: &str,
    architecture: &str,
    train_set: &ImageDataset,
    test_set: &ImageDataset,
    size: NetworkSize,
    training: &TrainingConfig,
    device: &Device,
    out_dir: &Path,
) -> Result<FinalResult> {
    let config =
        CellNetworkConfig::new(arch.cell_plan(), train_set.shape(), train_set.num_classes())
            .with_channels(size.channels)
            .with_cells_per_stage(size.cells_per_stage);
    let network = metanas_seeding::seeded_module(device, training.seed, || config.init(device))?;
    let normalisation = train_set.normalisation();
    let data = TrainingData {
        train: train_set,
        validation: None,
        normalisation: Some(&normalisation),
    };
    let mut optimizer = training.optimizer.init();
    let (network, report) = train(network, &mut optimizer, data, training, device)?;
    let test = evaluate(&network, test_set, Some(&normalisation), 256, device)?;
    let params = config.complexity().params;
    let saved = SavedModel {
        network: network.valid(),
        config,
        metadata: ModelMetadata {
            space: space_name.to_string(),
            architecture: architecture.to_string(),
            normalisation: Some(normalisation),
            class_names: train_set.class_names().map(<[String]>::to_vec),
        },
    };
    saved.save(out_dir)?;
    let result = FinalResult {
        architecture: architecture.to_string(),
        test,
        training: report,
        params,
    };
    let path = out_dir.join("final_result.json");
    let json = serde_json::to_string_pretty(&result)
        .map_err(|e| SearchError::InvalidConfig(e.to_string()))?;
    std::fs::write(&path, json).map_err(|source| SearchError::Io { path, source })?;
    Ok(result)
}
