//! A new device's latencies from a few measurements: which cells to measure
//! ([`plan_measurements`]), every cell's latency predicted from them
//! ([`DeviceLatencyModel`]), and a search constraint that trusts a
//! prediction only as far as its uncertainty allows
//! ([`PredictedLatencies::constraint`]).
//!
//! The model is a latency meta-model (a [`MetaAen`] meta-trained on known
//! devices' latencies) adapted in closed form to the new device's
//! measurements; where the known devices' latencies of every cell are at
//! hand ([`CellSourceValues`]), its heads read them too, and the prediction
//! is a model average of "the new device is a scaled known device" models
//! (`metanas_aen::SideModel`).
//!
//! Latencies belong to a cell's *string*, not to its canonical class: on
//! hardware a cell's dead operations still run, so two strings of one
//! computation take different times. [`CellSourceValues`] therefore keeps
//! each string's own values ([`crate::SourceValues`], made for accuracies,
//! averages a class), which ranks the new device's cells far better
//! (`cargo xtask bench-latency`, docs/BENCHMARKS.md).

use crate::acquisition::normal_cdf;
use crate::constraints::Constraint;
use crate::error::{Result, SearchError};
use crate::source_values::column_scores;
use metanas_aen::{AenPredictor, FeatureCache, MetaAen, Prediction, SourceSlopePrior};
use metanas_data::{BenchmarkTable, MIN_MEASURED_CELLS, MeasuredLatencies};
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

/// The known values of some columns (a latency meta-model's source tasks)
/// for each cell *string* of a table, as normal scores over the table (the
/// Gaussian copula of each column).
#[derive(Debug, Clone)]
pub struct CellSourceValues {
    columns: Vec<String>,
    /// Row-major `cells × columns`, in the table's row order.
    values: Vec<f64>,
    rows: HashMap<String, usize>,
}

impl CellSourceValues {
    /// The `columns` of `table`, for each of its cells.
    ///
    /// # Errors
    /// [`SearchError::Data`] for an unknown column; [`SearchError::Surrogate`]
    /// for a column with a non-finite value.
    pub fn from_table<S: SearchSpace>(
        table: &BenchmarkTable<S>,
        columns: &[String],
    ) -> Result<Self> {
        Self::from_tables(&[table], columns)
    }

    /// The `columns`, each read from the first of `tables` that has it (e.g.
    /// NAS-Bench-201's latency table and its accuracy table), for the cells
    /// of the first table that every table read has, in its row order. Each
    /// column's normal scores are taken over its own table.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] for no table; [`SearchError::Data`] for
    /// a column no table has; [`SearchError::Surrogate`] for a column with a
    /// non-finite value.
    pub fn from_tables<S: SearchSpace>(
        tables: &[&BenchmarkTable<S>],
        columns: &[String],
    ) -> Result<Self> {
        let per_column = column_scores(tables, columns)?;
        let first = tables[0];
        // Each table read: its rows by cell string.
        let mut by_text: Vec<Option<HashMap<String, usize>>> = vec![None; tables.len()];
        for &(t, _) in &per_column {
            let table = tables[t];
            by_text[t].get_or_insert_with(|| {
                table
                    .archs()
                    .iter()
                    .enumerate()
                    .map(|(row, arch)| (table.space().format(arch), row))
                    .collect()
            });
        }
        let mut values = Vec::new();
        let mut rows = HashMap::new();
        for arch in first.archs() {
            let text = first.space().format(arch);
            let row: Option<Vec<f64>> = per_column
                .iter()
                .map(|(t, scores)| {
                    by_text[*t]
                        .as_ref()
                        .and_then(|index| index.get(&text))
                        .map(|&r| scores[r])
                })
                .collect();
            if let Some(row) = row {
                rows.insert(text, rows.len());
                values.extend(row);
            }
        }
        Ok(Self {
            columns: columns.to_vec(),
            values,
            rows,
        })
    }

    /// The columns, in feature order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The normal scores of `archs`, row-major (`len × columns`).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] naming the first cell the table lacks.
    pub fn rows<S: SearchSpace>(&self, space: &S, archs: &[S::Arch]) -> Result<Vec<f64>> {
        let k = self.columns.len();
        let mut out = Vec::with_capacity(archs.len() * k);
        for arch in archs {
            let text = space.format(arch);
            let row = self.rows.get(&text).ok_or_else(|| {
                SearchError::InvalidConfig(format!(
                    "cell {text} is not in the table of known latencies"
                ))
            })?;
            out.extend_from_slice(&self.values[row * k..(row + 1) * k]);
        }
        Ok(out)
    }

    /// The prior over a single source's weight in a new task, learned from
    /// these columns over every cell ([`SourceSlopePrior::from_source_values`]).
    ///
    /// # Errors
    /// As [`SourceSlopePrior::from_source_values`].
    pub fn slope_prior(&self) -> Result<SourceSlopePrior> {
        Ok(SourceSlopePrior::from_source_values(
            &self.values,
            self.columns.len(),
        )?)
    }
}

/// `meta`'s body features of `archs`, with the source values beside them
/// when given (what the heads read).
fn features<S: SearchSpace>(
    meta: &MetaAen,
    sources: Option<&CellSourceValues>,
    space: &S,
    archs: &[S::Arch],
) -> Result<FeatureCache> {
    let encodings: Vec<GraphEncoding> = archs.iter().map(|a| space.encode(a)).collect();
    let cache = meta.features(&meta.encode(&encodings)?);
    match sources {
        Some(sources) => {
            Ok(cache.with_side_features(&sources.rows(space, archs)?, sources.columns().len())?)
        }
        None => Ok(cache),
    }
}

/// Checks that `sources` are the values of `meta`'s source tasks.
fn check_sources(meta: &MetaAen, sources: Option<&CellSourceValues>) -> Result<()> {
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
/// canonical class, in the order chosen.
///
/// A greedy Bayesian D-optimal design over what the adapted heads read of a
/// cell: the known devices' normal scores (`sources`; without them, the
/// first body's features), and a bias. Each next cell is the one whose
/// inputs `x` are least covered by the cells already chosen, the largest
/// `xᵀ (I + Σ x_c x_cᵀ)⁻¹ x` (the prior predictive variance of a ridge
/// model): the measurements span the directions in which the known devices
/// differ, which tells which of them the new device resembles, and its
/// scale. No measurement is needed to choose them.
///
/// # Errors
/// [`SearchError::InvalidConfig`] for fewer than
/// [`MIN_MEASURED_CELLS`] cells, or more than the pool's canonical classes;
/// [`SearchError::Surrogate`] / [`SearchError::InvalidConfig`] when the
/// meta-model or the sources cannot score the pool.
pub fn plan_measurements<S: SearchSpace>(
    space: &S,
    meta: &MetaAen,
    sources: Option<&CellSourceValues>,
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
    let (inputs, width) = match sources {
        Some(sources) => (sources.rows(space, &pool)?, sources.columns().len()),
        None => {
            let cache = features(meta, None, space, &pool)?;
            let first = cache.features.first().ok_or_else(|| {
                SearchError::InvalidConfig("the meta-model has no ensemble member".into())
            })?;
            let values: Vec<f32> = first
                .to_data()
                .try_to_vec()
                .map_err(|e| SearchError::InvalidConfig(format!("body features: {e:?}")))?;
            (values.into_iter().map(f64::from).collect(), cache.width())
        }
    };
    Ok(d_optimal_rows(&inputs, width, count)
        .into_iter()
        .map(|i| pool[i].clone())
        .collect())
}

/// Greedy D-optimal choice of `count` rows of `inputs` (row-major, `width`
/// columns, a bias appended): each the row of largest `xᵀ A⁻¹ x`, with `A`
/// the identity plus the chosen rows' outer products (kept inverted by
/// Sherman–Morrison); ties go to the first row.
fn d_optimal_rows(inputs: &[f64], width: usize, count: usize) -> Vec<usize> {
    let p = width + 1;
    let row = |i: usize| -> Vec<f64> {
        inputs[i * width..(i + 1) * width]
            .iter()
            .copied()
            .chain(std::iter::once(1.0))
            .collect()
    };
    let rows = inputs.len() / width.max(1);
    let mut inverse: Vec<f64> = (0..p * p)
        .map(|k| if k % (p + 1) == 0 { 1.0 } else { 0.0 })
        .collect();
    let times = |inverse: &[f64], x: &[f64]| -> Vec<f64> {
        (0..p)
            .map(|i| (0..p).map(|j| inverse[i * p + j] * x[j]).sum())
            .collect()
    };
    let mut chosen: Vec<usize> = Vec::with_capacity(count);
    while chosen.len() < count.min(rows) {
        let mut best: Option<(f64, usize)> = None;
        for i in (0..rows).filter(|i| !chosen.contains(i)) {
            let x = row(i);
            let spread: f64 = x.iter().zip(times(&inverse, &x)).map(|(a, b)| a * b).sum();
            if best.is_none_or(|(b, _)| spread > b) {
                best = Some((spread, i));
            }
        }
        let Some((_, i)) = best else { break };
        let x = row(i);
        let ax = times(&inverse, &x);
        let denominator = 1.0 + x.iter().zip(&ax).map(|(a, b)| a * b).sum::<f64>();
        for r in 0..p {
            for c in 0..p {
                inverse[r * p + c] -= ax[r] * ax[c] / denominator;
            }
        }
        chosen.push(i);
    }
    chosen
}

/// The values of `columns` for every cell from what is known before a new
/// device is measured ([`metanas_data::nb201_latency_and_cost_table`]: the
/// shipped devices' latencies and the cells' parameters and FLOPs); `None`
/// when some column is not there (a meta-model of other sources).
///
/// # Errors
/// When a shipped table cannot be read.
pub fn latency_source_values(columns: &[String]) -> Result<Option<CellSourceValues>> {
    let table = metanas_data::nb201_latency_and_cost_table()?;
    if columns.iter().all(|c| table.has_column(c)) {
        Ok(Some(CellSourceValues::from_table(&table, columns)?))
    } else {
        Ok(None)
    }
}

/// A latency meta-model adapted to one new device's measurements.
#[derive(Debug, Clone)]
pub struct DeviceLatencyModel {
    device: String,
    measured: String,
    meta: MetaAen,
    sources: Option<CellSourceValues>,
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
        sources: Option<CellSourceValues>,
        measured: &MeasuredLatencies<S>,
    ) -> Result<Self> {
        check_sources(&meta, sources.as_ref())?;
        let meta = match &sources {
            Some(s) => meta.with_slope_prior(s.slope_prior()?),
            None => meta,
        };
        let observed = features(&meta, sources.as_ref(), space, measured.cells())?;
        let predictor = meta.adapt_features(&observed, measured.latencies())?;
        Ok(Self {
            device: measured.device().to_string(),
            measured: measured.identity().to_string(),
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
        let cache = features(&self.meta, self.sources.as_ref(), space, archs)?;
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
            measured: self.measured.clone(),
            by_cell: archs
                .iter()
                .map(|a| space.format(a))
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
    /// The measurements they come from ([`MeasuredLatencies::identity`]).
    measured: String,
    /// By the cell's text form: strings of one computation differ in latency.
    by_cell: HashMap<String, Prediction>,
}

impl PredictedLatencies {
    /// The device.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The prediction of `arch`, when it was predicted.
    pub fn get<S: SearchSpace>(&self, space: &S, arch: &S::Arch) -> Option<Prediction> {
        self.by_cell.get(&space.format(arch)).copied()
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
        // The measurements are part of the name, so a search's trial store
        // (keyed by its constraints) refuses to continue with other ones.
        let name = format!(
            "{} predicted from {} latency <= {limit} with probability >= {feasibility}",
            self.device, self.measured
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
        CellSourceValues,
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
        let sources = CellSourceValues::from_table(&table, &names).expect("sources");
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
        // The plan spans the known devices' range.
        let gold: Vec<f64> = plan
            .iter()
            .map(|c| table.value(c, "gold_6240").expect("value"))
            .collect();
        let column = table.column("gold_6240").expect("column");
        let (low, high) = (
            column.iter().copied().fold(f64::INFINITY, f64::min),
            column.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let (min, max) = (
            gold.iter().copied().fold(f64::INFINITY, f64::min),
            gold.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        assert!(
            max - min > 0.5 * (high - low),
            "the plan spans the range: {gold:?} in [{low}, {high}]"
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
    fn d_optimal_rows_cover_the_directions_first() {
        // Four points: two far along each axis, one at the origin, one near a far one.
        let inputs = [3.0, 0.0, 0.0, 3.0, 0.0, 0.0, 2.9, 0.1];
        let chosen = d_optimal_rows(&inputs, 2, 3);
        assert_eq!(
            &chosen[..2],
            &[0, 1],
            "the two directions first: {chosen:?}"
        );
        assert_eq!(chosen.len(), 3);
        assert_eq!(d_optimal_rows(&inputs, 2, 9).len(), 4, "at most every row");
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

    #[test]
    fn cell_values_of_two_tables_are_each_read_from_their_own() {
        let latency = shipped::nb201_latency_table().expect("latency table");
        let accuracy = shipped::nb201_table().expect("accuracy table");
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mixed = CellSourceValues::from_tables(
            &[&latency, &accuracy],
            &names(&["pixel3", "c10v_valid"]),
        )
        .expect("mixed");
        let alone_latency =
            CellSourceValues::from_table(&latency, &names(&["pixel3"])).expect("latency");
        let alone_accuracy =
            CellSourceValues::from_table(&accuracy, &names(&["c10v_valid"])).expect("accuracy");
        let archs = &latency.archs()[..500];
        let rows = mixed.rows(&Nb201Space, archs).expect("rows");
        let pixel3 = alone_latency.rows(&Nb201Space, archs).expect("pixel3");
        let c10 = alone_accuracy.rows(&Nb201Space, archs).expect("c10v");
        for (i, pair) in rows.chunks(2).enumerate() {
            assert_eq!(pair, [pixel3[i], c10[i]]);
        }
        assert!(matches!(
            CellSourceValues::from_tables(&[&latency, &accuracy], &names(&["no_such_column"])),
            Err(SearchError::Data(_))
        ));
    }
}
