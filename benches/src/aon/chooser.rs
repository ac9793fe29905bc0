//! `bench-aon --chooser-table`: the architecture-conditioned choice of the
//! update rule's settings, fitted on a table of measured meta-training runs
//! (`cargo xtask aon-table`) and scored on the held-out pairs' sweeps.

use anyhow::Context;
use metanas_aen::MetaAen;
use metanas_aon::{
    ChooserExample, InnerProblem, SettingsChooser, SettingsChooserConfig, UpdateSettings,
    best_single_setting, read_settings_table, table_pairs,
};
use metanas_meta::{CandidateDescription, MetaModel, candidate_features};
use std::path::Path;

/// A chooser fitted on a table, the table's best single setting, and the AEN
/// whose embeddings it reads (if any).
pub(super) struct FittedChooser {
    pub chooser: SettingsChooser,
    pub table_best: UpdateSettings,
    pub table_pairs: usize,
    pub aen: Option<MetaAen>,
}

/// What the chooser reads of each held-out problem.
pub(super) fn problem_features(
    aen: Option<&MetaAen>,
    problems: &[InnerProblem],
) -> anyhow::Result<Vec<Vec<f64>>> {
    let descriptions: Vec<CandidateDescription> = problems
        .iter()
        .map(|p| CandidateDescription {
            cell: p.cell,
            channels: p.channels,
            cells_per_stage: p.cells_per_stage,
            classes: p.task.ways(),
            train_images: p.task.train.len(),
            image_shape: p.task.train.shape(),
        })
        .collect();
    Ok(candidate_features(aen, &descriptions)?)
}

/// Fits a chooser among `settings` on the table at `table` (runs of `steps`
/// steps), reading the embeddings of the meta-model at `meta_model` when given.
pub(super) fn fit(
    table: &Path,
    meta_model: Option<&Path>,
    settings: &[UpdateSettings],
    steps: usize,
    device: &burn::tensor::Device,
) -> anyhow::Result<FittedChooser> {
    let rows = read_settings_table(table)?;
    if let Some(other) = rows.iter().find(|r| r.steps != steps) {
        anyhow::bail!(
            "{} holds runs of {} steps (pair {}); the held-out pairs run {steps}: pass --steps {}",
            table.display(),
            other.steps,
            other.pair,
            other.steps
        );
    }
    let pairs = table_pairs(&rows, settings);
    anyhow::ensure!(
        !pairs.is_empty(),
        "{} holds no pair measured with every setting of the oracle grid ({} settings); \
         make it with `cargo xtask aon-table` and the same --warmup",
        table.display(),
        settings.len()
    );
    let aen = match meta_model {
        Some(dir) => Some(
            MetaModel::load(dir, device)
                .with_context(|| format!("loading the meta-model {}", dir.display()))?
                .aen,
        ),
        None => None,
    };
    let descriptions: Vec<CandidateDescription> = pairs
        .iter()
        .map(|p| CandidateDescription::of_table_row(&p.row))
        .collect::<Result<_, _>>()?;
    let features = candidate_features(aen.as_ref(), &descriptions)?;
    let examples: Vec<ChooserExample> = features
        .into_iter()
        .zip(&pairs)
        .map(|(features, pair)| ChooserExample {
            features,
            losses: pair.losses.clone(),
        })
        .collect();
    let chooser = SettingsChooser::fit(settings, &examples, SettingsChooserConfig::default())?;
    let losses: Vec<Vec<f64>> = pairs.iter().map(|p| p.losses.clone()).collect();
    let (table_best, _) = best_single_setting(settings, &losses)
        .context("every setting diverged on some pair of the table")?;
    Ok(FittedChooser {
        chooser,
        table_best,
        table_pairs: pairs.len(),
        aen,
    })
}
