//! A new device's latencies from a few measurements: which cells to measure
//! ([`plan_measurements`]), every cell's latency predicted from them
//! ([`DeviceLatencyModel`]), and a search constraint that trusts a
//! prediction only as far as its uncertainty allows
//! ([`PredictedLatencies::constraint`]).
//!
//! The model is a latency meta-model (a [`MetaAen`] meta-trained on known
//! devices' latencies) adapted in closed form to the new device's
//! measurements; where the known devices' latencies of every cell are at
//! hand ([`SourceValues`]), its heads read them too, and the prediction is a
//! model average of "the new device is a scaled known device" models
//! (`metanas_aen::SideModel`).

use crate::acquisition::normal_cdf;
use crate::constraints::Constraint;
use crate::error::{Result, SearchError};
use crate::source_values::SourceValues;
use metanas_aen::{AenPredictor, FeatureCache, MetaAen, Prediction};
use metanas_data::{MIN_MEASURED_CELLS, MeasuredLatencies};
use metanas_space::{GraphEncoding, SearchSpace};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The probability of being within the limit that a constrained search asks
/// of a cell's predicted latency by default.
pub const DEFAULT_FEASIBILITY: f64 = 0.9;

/// One cell of each canonical class of `archs` (the first), in their order:
/// measuring two strings of one computation teaches nothing new.
pub fn distinct_cells<S: SearchSpace>(space: &S, archs: &[S::Arch]) -> Vec<S::Arch> {
    let mut seen = HashSet::new();
    archs
        .iter()
        .filter(|a| seen.insert(space.canonical_hash(a)))
        .cloned()
        .collect()
}

/// `meta`'s body features of `encodings`, with the source values beside
/// them when given (what the heads read).
fn features(
    meta: &MetaAen,
    sources: Option<&SourceValues>,
    encodings: &[GraphEncoding],
) -> Result<FeatureCache> {
    let cache = meta.features(&meta.encode(encodings)?);
    match sources {
        Some(sources) => {
            Ok(cache.with_side_features(&sources.rows(encodings)?, sources.columns().len())?)
        }
        None => Ok(cache),
    }
}

/// Checks that `sources` are the values of `meta`'s source tasks.
fn check_sources(meta: &MetaAen, sources: Option<&SourceValues>) -> Result<()> {
    match sources {
        Some(s) if s.columns() != meta.task_names() => Err(SearchError::InvalidConfig(format!(
            "source values of [{}] for a meta-model of [{}]",
            s.columns().join(", "),
            meta.task_names().join(", ")
        ))),
        _ => Ok(()),
    }
}

/// The `count` cells of `pool` worth measuring on a new device, one per
/// canonical class, from the fastest expected to the slowest.
///
/// The cells are ranked by their expected latency on a typical device: the
/// mean of the known devices' normal scores (`sources`), or without them the
/// meta-model's prior prediction. The ranking is cut into `count` strata of
/// equal size, and each stratum gives the cell on which the known devices
/// disagree most (the spread of their normal scores; without sources, the
/// prior's standard deviation). The measurements then span the whole range
/// of latencies, which fixes the new device's scale, and fall where known
/// devices rank cells differently, which tells which of them the new device
/// resembles. No measurement is needed to choose them.
///
/// # Errors
/// [`SearchError::InvalidConfig`] for fewer than
/// [`MIN_MEASURED_CELLS`] cells, or more than the pool's canonical classes;
/// [`SearchError::Surrogate`] / [`SearchError::InvalidConfig`] when the
/// meta-model or the sources cannot score the pool.
pub fn plan_measurements<S: SearchSpace>(
    space: &S,
    meta: &MetaAen,
    sources: Option<&SourceValues>,
    pool: &[S::Arch],
    count: usize,
) -> Result<Vec<S::Arch>> {
    check_sources(meta, sources)?;
    let pool = distinct_cells(space, pool);
    if count < MIN_MEASURED_CELLS || count > pool.len() {
        return Err(SearchError::InvalidConfig(format!(
            "cells to measure: asked for {count}; between {MIN_MEASURED_CELLS} and {} (the distinct cells of the pool)",
            pool.len()
        )));
    }
    let encodings: Vec<GraphEncoding> = pool.iter().map(|a| space.encode(a)).collect();
    let (level, spread): (Vec<f64>, Vec<f64>) = match sources {
        Some(sources) => {
            let k = sources.columns().len();
            sources
                .rows(&encodings)?
                .chunks(k)
                .map(|row| {
                    let mean = row.iter().sum::<f64>() / k as f64;
                    let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
                    (mean, (variance / k as f64).sqrt())
                })
                .unzip()
        }
        None => {
            let cache = features(meta, None, &encodings)?;
            meta.prior_predictor(false)?
                .predict_features(&cache)?
                .into_iter()
                .map(|p| (p.mean, p.std))
                .unzip()
        }
    };
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by(|&a, &b| level[a].total_cmp(&level[b]).then(a.cmp(&b)));
    let n = order.len();
    Ok((0..count)
        .filter_map(|s| {
            order[s * n / count..(s + 1) * n / count]
                .iter()
                .copied()
                .reduce(|best, i| if spread[i] > spread[best] { i } else { best })
        })
        .map(|i| pool[i].clone())
        .collect())
}

/// A latency meta-model adapted to one new device's measurements.
#[derive(Debug, Clone)]
pub struct DeviceLatencyModel {
    device: String,
    meta: MetaAen,
    sources: Option<SourceValues>,
    predictor: AenPredictor,
}

impl DeviceLatencyModel {
    /// Adapts `meta` (its heads also reading `sources`, the known devices'
    /// values of its source tasks, when given) to the `measured` latencies
    /// of a new device, in closed form.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] when `sources` are not `meta`'s source
    /// tasks or lack a measured cell; [`SearchError::Surrogate`] when the
    /// adaptation fails.
    pub fn adapt<S: SearchSpace>(
        space: &S,
        meta: MetaAen,
        sources: Option<SourceValues>,
        measured: &MeasuredLatencies<S>,
    ) -> Result<Self> {
        check_sources(&meta, sources.as_ref())?;
        let meta = match &sources {
            Some(s) => meta.with_slope_prior(s.slope_prior()?),
            None => meta,
        };
        let encodings: Vec<GraphEncoding> =
            measured.cells().iter().map(|a| space.encode(a)).collect();
        let observed = features(&meta, sources.as_ref(), &encodings)?;
        let predictor = meta.adapt_features(&observed, measured.latencies())?;
        Ok(Self {
            device: measured.device().to_string(),
            meta,
            sources,
            predictor,
        })
    }

    /// The device (the measured file's latency column).
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Whether the heads read the known devices' latencies.
    pub fn reads_sources(&self) -> bool {
        self.sources.is_some()
    }

    /// The predicted latency (mean and standard deviation, in the measured
    /// units) of each of `archs`.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] for a cell the source values lack;
    /// [`SearchError::Surrogate`] when scoring fails.
    pub fn predict<S: SearchSpace>(&self, space: &S, archs: &[S::Arch]) -> Result<Vec<Prediction>> {
        let encodings: Vec<GraphEncoding> = archs.iter().map(|a| space.encode(a)).collect();
        let cache = features(&self.meta, self.sources.as_ref(), &encodings)?;
        Ok(self.predictor.predict_features(&cache)?)
    }

    /// [`Self::predict`] kept by cell, for a constraint.
    ///
    /// # Errors
    /// As [`Self::predict`].
    pub fn predicted<S: SearchSpace>(
        &self,
        space: &S,
        archs: &[S::Arch],
    ) -> Result<PredictedLatencies> {
        let predictions = self.predict(space, archs)?;
        Ok(PredictedLatencies {
            device: self.device.clone(),
            by_cell: archs
                .iter()
                .map(|a| space.encode(a))
                .zip(predictions)
                .collect(),
        })
    }
}

/// The probability that a latency predicted as `prediction` (a normal
/// distribution) is at most `limit`.
pub fn probability_within(prediction: &Prediction, limit: f64) -> f64 {
    if prediction.std <= 1e-12 || !prediction.std.is_finite() {
        return if prediction.mean <= limit { 1.0 } else { 0.0 };
    }
    normal_cdf((limit - prediction.mean) / prediction.std)
}

/// The `p`-quantile of the standard normal distribution (bisection on Φ).
fn standard_normal_quantile(p: f64) -> f64 {
    let (mut low, mut high) = (-12.0, 12.0);
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if normal_cdf(mid) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// Predicted latencies of cells on one device, looked up by cell.
#[derive(Debug, Clone)]
pub struct PredictedLatencies {
    device: String,
    by_cell: HashMap<GraphEncoding, Prediction>,
}

impl PredictedLatencies {
    /// The device.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The prediction of `arch`, when it was predicted.
    pub fn get<S: SearchSpace>(&self, space: &S, arch: &S::Arch) -> Option<Prediction> {
        self.by_cell.get(&space.encode(arch)).copied()
    }

    /// `predicted latency <= limit` with probability at least `feasibility`:
    /// a cell is allowed when the `feasibility`-quantile of its predicted
    /// latency is within `limit` (a cell without a prediction is not).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] for a `feasibility` outside (0, 1) or
    /// a `limit` that is not a positive number.
    pub fn constraint<S>(
        self: Arc<Self>,
        space: S,
        limit: f64,
        feasibility: f64,
    ) -> Result<Constraint<S>>
    where
        S: SearchSpace + Send + Sync + 'static,
    {
        if !(feasibility > 0.0 && feasibility < 1.0) {
            return Err(SearchError::InvalidConfig(format!(
                "feasibility is a probability strictly between 0 and 1, got {feasibility}"
            )));
        }
        if !(limit.is_finite() && limit > 0.0) {
            return Err(SearchError::InvalidConfig(format!(
                "a latency limit is a positive number, got {limit}"
            )));
        }
        let z = standard_normal_quantile(feasibility);
        let name = format!(
            "{} predicted latency <= {limit} with probability >= {feasibility}",
            self.device
        );
        Ok(Constraint::new(name, limit, move |arch: &S::Arch| {
            self.get(&space, arch).map(|p| p.mean + z * p.std)
        }))
    }
}

/// Writes `arch`, the predicted mean (column named for `device`) and its
/// standard deviation (`<device>_std`) of each cell as CSV.
///
/// # Errors
/// [`SearchError::Io`] naming the file; [`SearchError::InvalidConfig`]
/// when the numbers of cells and predictions differ.
pub fn write_predictions_csv<S: SearchSpace>(
    path: &Path,
    space: &S,
    device: &str,
    archs: &[S::Arch],
    predictions: &[Prediction],
) -> Result<()> {
    if archs.len() != predictions.len() {
        return Err(SearchError::InvalidConfig(format!(
            "{} cells for {} predictions",
            archs.len(),
            predictions.len()
        )));
    }
    let io = |source| SearchError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(out, "arch,{},{}_std", csv_field(device), csv_field(device)).map_err(io)?;
    for (arch, p) in archs.iter().zip(predictions) {
        writeln!(
            out,
            "{},{},{}",
            csv_field(&space.format(arch)),
            p.mean,
            p.std
        )
        .map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Writes the cells of a plan as a CSV file to fill in: `arch` and an empty
/// column named for `device`, the format [`MeasuredLatencies`] reads.
///
/// # Errors
/// [`SearchError::Io`] naming the file.
pub fn write_plan_csv<S: SearchSpace>(
    path: &Path,
    space: &S,
    device: &str,
    cells: &[S::Arch],
) -> Result<()> {
    let io = |source| SearchError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(out, "arch,{}", csv_field(device)).map_err(io)?;
    for arch in cells {
        writeln!(out, "{},", csv_field(&space.format(arch))).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// `text` as one CSV field (quoted when it holds a comma, quote or newline).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_aen::{AenConfig, MetaAenConfig, TaskValues, TrainingConfig, spearman_rho};
    use metanas_data::shipped;
    use metanas_space::nb201::{Nb201Cell, Nb201Space};

    /// A small meta-model of three known devices, their source values, and
    /// the latency table (a fourth device, `pixel3`, is the new one).
    fn latency_meta_model() -> (
        MetaAen,
        SourceValues,
        metanas_data::BenchmarkTable<Nb201Space>,
    ) {
        let table = shipped::nb201_latency_table().expect("shipped latency table");
        let space = Nb201Space;
        let encodings: Vec<GraphEncoding> = table.archs().iter().map(|a| space.encode(a)).collect();
        let names: Vec<String> = ["1080ti_1", "gold_6240", "samsung_a50"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let tasks: Vec<TaskValues> = names
            .iter()
            .map(|n| TaskValues {
                name: n.clone(),
                values: table.column(n).expect("column").to_vec(),
            })
            .collect();
        let config = MetaAenConfig::new(
            AenConfig::new(space.vocabulary_size())
                .with_hidden(16)
                .with_features(16),
        )
        .with_ensemble(1)
        .with_training(
            TrainingConfig::new()
                .with_batch_size(512)
                .with_max_epochs(2)
                .with_seed(3),
        );
        let device = metanas_device::test_device();
        let meta = MetaAen::meta_train(&encodings, &tasks, &config, &device).expect("meta-trains");
        let sources = SourceValues::from_table(&table, &names).expect("sources");
        (meta, sources, table)
    }

    fn measured_file(
        dir: &Path,
        cells: &[Nb201Cell],
        table: &metanas_data::BenchmarkTable<Nb201Space>,
    ) -> MeasuredLatencies<Nb201Space> {
        let path = dir.join("pixel3.csv");
        let mut text = String::from("arch,pixel3\n");
        for c in cells {
            let v = table.value(c, "pixel3").expect("in the table");
            text.push_str(&format!("{},{v}\n", Nb201Space.format(c)));
        }
        std::fs::write(&path, text).expect("write");
        MeasuredLatencies::from_csv(&Nb201Space, &path).expect("valid")
    }

    #[test]
    fn a_plan_spans_the_range_predicts_a_new_device_and_constrains_by_probability() {
        let (meta, sources, table) = latency_meta_model();
        let space = Nb201Space;
        let plan =
            plan_measurements(&space, &meta, Some(&sources), table.archs(), 10).expect("a plan");
        assert_eq!(plan.len(), 10);
        let classes: HashSet<_> = plan.iter().map(|c| space.canonical_hash(c)).collect();
        assert_eq!(classes.len(), 10, "one cell per canonical class");
        // From the fastest expected to the slowest: the known devices agree.
        let gold: Vec<f64> = plan
            .iter()
            .map(|c| table.value(c, "gold_6240").expect("value"))
            .collect();
        assert!(
            gold.first() < gold.last(),
            "the plan spans the range: {gold:?}"
        );
        assert!(matches!(
            plan_measurements(&space, &meta, Some(&sources), table.archs(), 2),
            Err(SearchError::InvalidConfig(_))
        ));

        // The plan's cells measured on pixel3 (never a source) predict its ranking.
        let dir = tempfile::tempdir().expect("temp dir");
        let measured = measured_file(dir.path(), &plan, &table);
        let model =
            DeviceLatencyModel::adapt(&space, meta.clone(), Some(sources.clone()), &measured)
                .expect("adapts");
        assert!(model.reads_sources());
        assert_eq!(model.device(), "pixel3");
        let predictions = model.predict(&space, table.archs()).expect("predicts");
        let means: Vec<f64> = predictions.iter().map(|p| p.mean).collect();
        let truth = table.column("pixel3").expect("column");
        let rho = spearman_rho(&means, truth).expect("rho");
        assert!(rho > 0.8, "Spearman rho {rho}");

        // The constraint: the feasibility-quantile within the limit.
        let limit = 8.0;
        let predicted = Arc::new(model.predicted(&space, table.archs()).expect("predicted"));
        let strict = predicted
            .clone()
            .constraint(space, limit, 0.9)
            .expect("a constraint");
        let lenient = predicted
            .clone()
            .constraint(space, limit, 0.5)
            .expect("a constraint");
        let strict_allowed = table.archs().iter().filter(|a| strict.allows(a)).count();
        let lenient_allowed = table.archs().iter().filter(|a| lenient.allows(a)).count();
        assert!(
            0 < strict_allowed && strict_allowed < lenient_allowed,
            "{strict_allowed} vs {lenient_allowed}"
        );
        for arch in table.archs().iter().filter(|a| strict.allows(a)).take(50) {
            let p = predicted.get(&space, arch).expect("predicted");
            assert!(probability_within(&p, limit) >= 0.9 - 1e-6, "{p:?}");
        }
        assert!(matches!(
            predicted.clone().constraint(space, limit, 1.0),
            Err(SearchError::InvalidConfig(_))
        ));
        assert!(matches!(
            predicted.constraint(space, -1.0, 0.9),
            Err(SearchError::InvalidConfig(_))
        ));

        // Files: the plan to fill in reads back once filled; predictions as CSV.
        let plan_path = dir.path().join("to_measure.csv");
        write_plan_csv(&plan_path, &space, "my_board_ms", &plan).expect("writes");
        let text = std::fs::read_to_string(&plan_path).expect("reads");
        assert!(text.starts_with("arch,my_board_ms\n"), "{text}");
        assert_eq!(text.lines().count(), 11);
        let out = dir.path().join("all.csv");
        write_predictions_csv(&out, &space, "pixel3", table.archs(), &predictions).expect("writes");
        let text = std::fs::read_to_string(&out).expect("reads");
        assert!(text.starts_with("arch,pixel3,pixel3_std\n"));
        assert_eq!(text.lines().count(), table.rows() + 1);
    }

    #[test]
    fn normal_quantiles_invert_the_distribution() {
        for (p, z) in [(0.5, 0.0), (0.9, 1.281_551_6), (0.975, 1.959_964)] {
            assert!((standard_normal_quantile(p) - z).abs() < 1e-5, "{p}");
        }
        let p = Prediction {
            mean: 10.0,
            std: 2.0,
        };
        assert!((probability_within(&p, 10.0) - 0.5).abs() < 1e-6);
        assert!(probability_within(&p, 14.0) > 0.97);
    }
}
