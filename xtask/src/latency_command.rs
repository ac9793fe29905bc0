//! `cargo xtask latency`: a new device's latencies from a few measured cells
//! (`plan`: which cells to measure; `predict`: every cell's latency), and
//! the predicted-latency constraint of `cargo xtask search --latency-measured`.

use anyhow::{Context, bail};
use metanas_aen::MetaAen;
use metanas_data::{MeasuredLatencies, shipped};
use metanas_device::BackendChoice;
use metanas_meta::MetaModel;
use metanas_search::{
    CellSourceValues, Constraint, DeviceLatencyModel, PredictedLatencies, latency_source_values,
    plan_measurements, write_plan_csv, write_predictions_csv,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `cargo xtask latency`.
#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    #[command(subcommand)]
    command: LatencyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LatencyCommand {
    /// List the cells worth measuring on a new device (a CSV to fill in), chosen for the latency meta-model.
    Plan(PlanArgs),
    /// Adapt the latency meta-model to your measured cells and predict the latency of every NAS-Bench-201 cell.
    Predict(PredictArgs),
}

/// Arguments of `cargo xtask latency plan`.
#[derive(Debug, clap::Args)]
struct PlanArgs {
    /// The latency meta-model (`cargo xtask meta-train --sources latency --out DIR`).
    #[arg(long)]
    meta_model: PathBuf,
    /// Cells to measure (at least 3).
    #[arg(long, default_value_t = 10)]
    samples: usize,
    /// The CSV to fill in: `arch` and an empty latency column.
    #[arg(long, default_value = "to_measure.csv")]
    out: PathBuf,
    /// Name of the latency column, named for your device (e.g. `my_phone_ms`).
    #[arg(long, default_value = "my_device")]
    column: String,
    /// Burn backend that runs the meta-model: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    backend: BackendChoice,
}

/// Arguments of `cargo xtask latency predict`.
#[derive(Debug, clap::Args)]
struct PredictArgs {
    /// The latency meta-model (`cargo xtask meta-train --sources latency --out DIR`).
    #[arg(long)]
    meta_model: PathBuf,
    /// Your measurements: a CSV with an `arch` column (NAS-Bench-201 cells) and one
    /// latency column named for the device; at least 3 distinct cells.
    #[arg(long)]
    measured: PathBuf,
    /// Output CSV: `arch`, the predicted latency (column named for the device), its standard deviation.
    #[arg(long)]
    out: PathBuf,
    /// Burn backend that runs the meta-model: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    backend: BackendChoice,
}

/// Runs the command.
pub fn run(args: &LatencyArgs) -> anyhow::Result<()> {
    match &args.command {
        LatencyCommand::Plan(args) => plan(args),
        LatencyCommand::Predict(args) => predict(args),
    }
}

/// A latency meta-model's AEN and the known values its heads read (the
/// shipped devices' latencies and the cells' costs; `None` when some source
/// column is not among them).
fn load_latency_model(
    dir: &Path,
    backend: BackendChoice,
) -> anyhow::Result<(MetaAen, Option<CellSourceValues>)> {
    let meta = MetaModel::load(dir, &backend.device()).with_context(|| {
        format!(
            "loading the latency meta-model {} (make one with `cargo xtask meta-train --sources latency --out {}`)",
            dir.display(),
            dir.display()
        )
    })?;
    let names = meta.aen.task_names().to_vec();
    let accuracy = shipped::nb201_table()?;
    if names.iter().all(|c| accuracy.has_column(c)) {
        bail!(
            "{} is a meta-model of accuracies ([{}]), not of latencies: make a latency meta-model with `cargo xtask meta-train --sources latency --out DIR`",
            dir.display(),
            names.join(", ")
        );
    }
    let sources = latency_source_values(&names)?;
    if sources.is_none() {
        eprintln!(
            "note: the meta-model's source columns are not all shipped devices' latencies or cell costs; its heads read the GCN features only"
        );
    }
    Ok((meta.aen, sources))
}

/// Every NAS-Bench-201 cell, in the shipped latency table's order.
fn every_cell() -> anyhow::Result<Vec<Nb201Cell>> {
    Ok(shipped::nb201_latency_table()?.archs().to_vec())
}

fn plan(args: &PlanArgs) -> anyhow::Result<()> {
    let space = Nb201Space;
    let (meta, sources) = load_latency_model(&args.meta_model, args.backend)?;
    let cells = plan_measurements(
        &space,
        &meta,
        sources.as_ref(),
        &every_cell()?,
        args.samples,
    )?;
    write_plan_csv(&args.out, &space, &args.column, &cells)?;
    println!(
        "{} cells to measure, in {}:",
        cells.len(),
        args.out.display()
    );
    for cell in &cells {
        println!("  {}", space.format(cell));
    }
    println!(
        "fill in the `{}` column with each cell's latency on your device, then run\n  cargo xtask latency predict --meta-model {} --measured {} --out {}_all.csv",
        args.column,
        args.meta_model.display(),
        args.out.display(),
        args.column
    );
    Ok(())
}

fn predict(args: &PredictArgs) -> anyhow::Result<()> {
    let space = Nb201Space;
    let measured = MeasuredLatencies::from_csv(&space, &args.measured)?;
    let (meta, sources) = load_latency_model(&args.meta_model, args.backend)?;
    let model = DeviceLatencyModel::adapt(&space, meta, sources, &measured)?;
    let cells = every_cell()?;
    let predictions = model.predict(&space, &cells)?;
    write_predictions_csv(&args.out, &space, model.device(), &cells, &predictions)?;
    let at_measured = model.predict(&space, measured.cells())?;
    let error = at_measured
        .iter()
        .zip(measured.latencies())
        .map(|(p, v)| (p.mean - v).abs())
        .sum::<f64>()
        / measured.len() as f64;
    let (fastest, p) = cells
        .iter()
        .zip(&predictions)
        .min_by(|a, b| a.1.mean.total_cmp(&b.1.mean))
        .context("no cell predicted")?;
    println!(
        "adapted to {} cells of `{}`{}; at those cells the predictions are off by {error:.3} on average",
        measured.len(),
        model.device(),
        if model.reads_sources() {
            " (the heads also read the known devices' latencies)"
        } else {
            ""
        }
    );
    println!(
        "predicted latency of {} cells in {} (fastest: {} at {:.3} ± {:.3})",
        cells.len(),
        args.out.display(),
        space.format(fastest),
        p.mean,
        p.std
    );
    Ok(())
}

/// The constraint of `search --latency-measured FILE --max-latency DEVICE=MS`:
/// the latency meta-model in `meta_model` adapted to FILE, a cell allowed when
/// its predicted latency is within `limit` with probability `feasibility`.
///
/// # Errors
/// When the file, the meta-model or the settings are unusable, or the file
/// measures another device than `device`.
pub fn predicted_latency_constraint(
    measured: &Path,
    meta_model: &Path,
    device: &str,
    limit: f64,
    feasibility: f64,
    backend: BackendChoice,
) -> anyhow::Result<(Constraint<Nb201Space>, Arc<PredictedLatencies>)> {
    let space = Nb201Space;
    let measured = MeasuredLatencies::from_csv(&space, measured)?;
    if measured.device() != device {
        bail!(
            "--max-latency names the device `{device}`, but {} measures `{}`: use --max-latency {}={limit}",
            measured.path().display(),
            measured.device(),
            measured.device()
        );
    }
    let (meta, sources) = load_latency_model(meta_model, backend)?;
    let model = DeviceLatencyModel::adapt(&space, meta, sources, &measured)?;
    let predicted = Arc::new(model.predicted(&space, &every_cell()?)?);
    eprintln!(
        "latency of `{device}` predicted from {} measured cells ({}); a cell is searched only if within {limit} with probability >= {feasibility}",
        measured.len(),
        measured.path().display()
    );
    let constraint = predicted.clone().constraint(space, limit, feasibility)?;
    Ok((constraint, predicted))
}
