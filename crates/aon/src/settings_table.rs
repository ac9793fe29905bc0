//! A table of measured short training runs: candidates of the meta-training
//! distribution (a cell, a width, a class-subset task), each trained with
//! every setting of a [`SettingsGrid`]. It is what an architecture-conditioned
//! choice of the update rule's settings learns from, and it is made once,
//! resumably, then reused: a CSV file with one row per (pair, setting).
//!
//! Pair `i` of a table is drawn from its own generator, seeded by the table's
//! seed and `i` alone, so a table can grow pair by pair across interrupted
//! runs and any pair can be rebuilt exactly ([`pair_problem`]).

use crate::candidate_training::CandidateTraining;
use crate::error::AonError;
use crate::inner_problem::{InnerProblem, InnerProblemSampler};
use crate::settings_sweep::{SettingsOutcome, sweep_settings};
use crate::update_settings::{SettingsGrid, UpdateSettings};
use burn::tensor::Device;
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One measured run: a pair (candidate and task) trained with one setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsTableRow {
    /// The pair's index in its table.
    pub pair: usize,
    /// The table's seed (with `pair`, it rebuilds the problem: [`pair_problem`]).
    pub table_seed: u64,
    /// The NAS-Bench-201 cell, in its usual string form.
    pub cell: String,
    /// First-stage channels `C`.
    pub channels: usize,
    /// Cells per stage `N`.
    pub cells_per_stage: usize,
    /// The task's classes of the source dataset, space-separated.
    pub classes: String,
    /// Training images of the task.
    pub train_images: usize,
    /// Image channels, height and width, as `CxHxW`.
    pub image_shape: String,
    /// Steps of the run (`K`).
    pub steps: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Step size of the Adam direction.
    pub adam_step: f64,
    /// Step size of the SGD-Nesterov direction (empty: none).
    pub sgd_nesterov_step: Option<f64>,
    /// Steps of warm-up.
    pub warmup_steps: usize,
    /// Validation loss after the last step (empty: the run diverged).
    pub validation_loss: Option<f64>,
    /// Validation accuracy after the last step (empty: the run diverged).
    pub validation_accuracy: Option<f64>,
    /// Seconds the run took.
    pub seconds: f64,
}

impl SettingsTableRow {
    fn new(
        pair: usize,
        table_seed: u64,
        problem: &InnerProblem,
        training: CandidateTraining,
        outcome: &SettingsOutcome,
    ) -> Self {
        let [c, h, w] = problem.task.train.shape();
        let finite = |x: f64| (!outcome.diverged && x.is_finite()).then_some(x);
        Self {
            pair,
            table_seed,
            cell: Nb201Space.format(&problem.cell),
            channels: problem.channels,
            cells_per_stage: problem.cells_per_stage,
            classes: classes_field(problem),
            train_images: problem.task.train.len(),
            image_shape: format!("{c}x{h}x{w}"),
            steps: training.steps,
            batch_size: training.batch_size,
            adam_step: outcome.settings.adam_step,
            sgd_nesterov_step: outcome.settings.sgd_nesterov_step,
            warmup_steps: outcome.settings.warmup_steps,
            validation_loss: finite(outcome.loss),
            validation_accuracy: finite(outcome.accuracy),
            seconds: outcome.seconds,
        }
    }

    /// The settings the row was trained with.
    pub fn settings(&self) -> UpdateSettings {
        UpdateSettings {
            adam_step: self.adam_step,
            sgd_nesterov_step: self.sgd_nesterov_step,
            warmup_steps: self.warmup_steps,
        }
    }

    /// Its validation loss, infinite when the run diverged.
    pub fn loss(&self) -> f64 {
        self.validation_loss.unwrap_or(f64::INFINITY)
    }
}

/// The task's classes as a row stores them: space-separated.
fn classes_field(problem: &InnerProblem) -> String {
    problem
        .task
        .classes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pair `pair` of a table seeded `table_seed`: drawn by `sampler` from a
/// generator of its own.
pub fn pair_problem(sampler: &InnerProblemSampler, table_seed: u64, pair: usize) -> InnerProblem {
    let seed = table_seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(pair as u64);
    sampler.sample(&mut StdRng::seed_from_u64(seed))
}

fn io_error(path: &Path, source: std::io::Error) -> AonError {
    AonError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn csv_error(path: &Path, error: &csv::Error) -> AonError {
    AonError::Table {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// The rows of the table at `path` (none when the file does not exist).
///
/// # Errors
/// [`AonError::Io`] when it cannot be read; [`AonError::Table`] naming the
/// line of a row that does not parse (e.g. a last line cut short by a crash:
/// delete it and the run that continues the table remakes that pair).
pub fn read_settings_table(path: &Path) -> crate::error::Result<Vec<SettingsTableRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(path, &e))?;
    reader
        .deserialize()
        .map(|row| row.map_err(|e| csv_error(path, &e)))
        .collect()
}

/// Appends `rows` to the table at `path`, with the header if the file is new
/// or empty, and flushes them.
///
/// # Errors
/// [`AonError::Io`] / [`AonError::Table`] when the file cannot be written.
pub fn append_settings_rows(path: &Path, rows: &[SettingsTableRow]) -> crate::error::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let fresh = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    let mut writer = csv::WriterBuilder::new()
        .has_headers(fresh)
        .from_writer(file);
    for row in rows {
        writer.serialize(row).map_err(|e| csv_error(path, &e))?;
    }
    writer.flush().map_err(|e| io_error(path, e))
}

/// How a table is made: how many pairs, its seed, the grid, and the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsTableConfig {
    /// The table's file.
    pub path: PathBuf,
    /// Pairs the table should hold when done (`0..pairs`).
    pub pairs: usize,
    /// The table's seed.
    pub seed: u64,
    /// The settings every pair is trained with.
    pub grid: SettingsGrid,
    /// Length and batch size of every run.
    pub training: CandidateTraining,
}

/// What [`extend_settings_table`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableProgress {
    /// Pairs already complete in the file before this run.
    pub kept: usize,
    /// Pairs measured by this run.
    pub measured: usize,
}

/// Grows the table at `config.path` until it holds pairs `0..config.pairs`,
/// each with every setting of the grid: pairs already complete are kept, the
/// others (re)measured and appended one pair at a time, so an interrupted run
/// loses at most the pair it was measuring. `progress` hears of each pair
/// measured (the counts so far, its index, problem and outcomes).
///
/// # Errors
/// [`AonError::InvalidConfig`] when the file holds rows made with another
/// seed, run length or batch size, or settings off the grid (continuing it
/// would mix two tables); errors of reading, writing and training.
pub fn extend_settings_table(
    config: &SettingsTableConfig,
    sampler: &InnerProblemSampler,
    device: &Device,
    mut progress: impl FnMut(TableProgress, usize, &InnerProblem, &[SettingsOutcome]),
) -> crate::error::Result<TableProgress> {
    let settings = config.grid.settings()?;
    let existing = read_settings_table(&config.path)?;
    if let Some(other) = existing.iter().find(|r| {
        r.table_seed != config.seed
            || r.steps != config.training.steps
            || r.batch_size != config.training.batch_size
            || !settings.contains(&r.settings())
    }) {
        return Err(AonError::InvalidConfig(format!(
            "{} holds runs of another table (pair {}: seed {}, {} steps, batch {}, {}); \
             continue it with the same seed, steps, batch size and grid, or write to another file",
            config.path.display(),
            other.pair,
            other.table_seed,
            other.steps,
            other.batch_size,
            other.settings()
        )));
    }
    if let Some(first) = existing.first() {
        let problem = pair_problem(sampler, config.seed, first.pair);
        let again = (
            Nb201Space.format(&problem.cell),
            problem.channels,
            classes_field(&problem),
            problem.task.train.len(),
        );
        let stored = (
            first.cell.clone(),
            first.channels,
            first.classes.clone(),
            first.train_images,
        );
        if again != stored {
            return Err(AonError::InvalidConfig(format!(
                "{} was made from another problem distribution (its pair {} is {} C={} on classes {}, \
                 this sampler draws {} C={} on classes {}); use the same problem settings or another file",
                config.path.display(),
                first.pair,
                first.cell,
                first.channels,
                first.classes,
                again.0,
                again.1,
                again.2
            )));
        }
    }
    let mut done: BTreeMap<usize, Vec<UpdateSettings>> = BTreeMap::new();
    for row in &existing {
        done.entry(row.pair).or_default().push(row.settings());
    }
    let complete = |pair: usize| {
        done.get(&pair)
            .is_some_and(|have| settings.iter().all(|s| have.contains(s)))
    };
    let kept = (0..config.pairs).filter(|&p| complete(p)).count();
    let mut measured = 0;
    for pair in (0..config.pairs).filter(|&p| !complete(p)) {
        let problem = pair_problem(sampler, config.seed, pair);
        let outcomes = sweep_settings(&problem, &settings, config.training, device)?;
        let rows: Vec<SettingsTableRow> = outcomes
            .iter()
            .map(|o| SettingsTableRow::new(pair, config.seed, &problem, config.training, o))
            .collect();
        append_settings_rows(&config.path, &rows)?;
        measured += 1;
        progress(TableProgress { kept, measured }, pair, &problem, &outcomes);
    }
    Ok(TableProgress { kept, measured })
}

/// One complete pair of a table: its rows' description and each setting's
/// loss, in the order asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePair {
    /// The first row of the pair (its cell, width and task).
    pub row: SettingsTableRow,
    /// Each setting's validation loss (infinite for a diverged run).
    pub losses: Vec<f64>,
}

/// The pairs of `rows` that hold every one of `settings`, in pair order, with
/// their losses in the order of `settings` (of repeated rows, the last).
pub fn table_pairs(rows: &[SettingsTableRow], settings: &[UpdateSettings]) -> Vec<TablePair> {
    let mut by_pair: BTreeMap<usize, Vec<&SettingsTableRow>> = BTreeMap::new();
    for row in rows {
        by_pair.entry(row.pair).or_default().push(row);
    }
    by_pair
        .into_values()
        .filter_map(|pair_rows| {
            let losses: Option<Vec<f64>> = settings
                .iter()
                .map(|s| {
                    pair_rows
                        .iter()
                        .rev()
                        .find(|r| r.settings() == *s)
                        .map(|r| r.loss())
                })
                .collect();
            Some(TablePair {
                row: (*pair_rows.first()?).clone(),
                losses: losses?,
            })
        })
        .collect()
}
