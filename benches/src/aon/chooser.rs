//! `bench-aon --chooser-table`: the architecture-conditioned choice of the
//! update rule's settings, fitted on a table of measured meta-training runs
//! (`cargo xtask aon-table`) and scored on the held-out pairs' sweeps.

use anyhow::Context;
use metanas_aen::MetaAen;
use metanas_aon::{
    InnerProblem, SettingsChooser, SettingsChooserConfig, UpdateSettings, read_settings_table,
};
use metanas_meta::{
    CandidateDescription, MetaModel, SearchedNetworks, SettingsChooserRecord, candidate_features,
    fit_settings_chooser,
};
use metanas_search::NetworkSize;
use std::path::Path;

/// A chooser fitted on a table, what it was fitted on, and the AEN whose
/// embeddings it reads (if it reads any).
pub(super) struct FittedChooser {
    pub chooser: SettingsChooser,
    pub record: SettingsChooserRecord,
    pub aen: Option<MetaAen>,
}

/// What the chooser reads of each held-out problem.
pub(super) fn problem_features(
    aen: Option<&MetaAen>,
    problems: &[InnerProblem],
) -> anyhow::Result<Vec<Vec<f64>>> {
    let descriptions: Vec<CandidateDescription> = problems
        .iter()
        .map(|p| {
            let size = NetworkSize {
                channels: p.channels,
                cells_per_stage: p.cells_per_stage,
            };
            SearchedNetworks::new(size, &p.task).candidate(p.cell)
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
    let aen = match meta_model {
        Some(dir) => Some(
            MetaModel::load(dir, device)
                .with_context(|| format!("loading the meta-model {}", dir.display()))?
                .aen,
        ),
        None => None,
    };
    let fitted = fit_settings_chooser(
        aen.as_ref(),
        &rows,
        settings,
        &table.display().to_string(),
        SettingsChooserConfig::default(),
    )?;
    // Cross-validation may have preferred the plain features: then the
    // chooser reads no embedding.
    let aen = if fitted.record.reads_aen { aen } else { None };
    Ok(FittedChooser {
        chooser: fitted.chooser,
        record: fitted.record,
        aen,
    })
}
