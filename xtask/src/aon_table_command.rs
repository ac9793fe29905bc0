//! `cargo xtask aon-table`: measure (or continue) the table of short training
//! runs an architecture-conditioned AON learns its settings from: MNIST
//! meta-training candidates, each trained with every setting of a grid.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use metanas_aon::{
    CandidateTraining, CellPool, InnerProblemConfig, InnerProblemSampler, SettingsGrid,
    SettingsTableConfig, best_outcome, extend_settings_table,
};
use metanas_data::shipped;
use metanas_device::BackendChoice;
use std::path::PathBuf;

/// Arguments of `cargo xtask aon-table`.
#[derive(Debug, clap::Args)]
pub struct AonTableArgs {
    /// The table (CSV); the pairs it already holds are kept and the rest appended.
    #[arg(long, default_value = "datasets/aon-settings/table.csv")]
    pub out: PathBuf,
    /// Pairs (candidate cell, width and 5-way MNIST task) the table should hold.
    #[arg(long, default_value_t = 96)]
    pub pairs: usize,
    /// The table's seed (pair `i` is drawn from this seed and `i` alone).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Steps of every run (`K`, the horizon the AON is judged at).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Warm-up lengths of the grid (steps, comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub warmup: Vec<usize>,
    /// Backend: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    pub device: BackendChoice,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the command.
pub fn run(args: &AonTableArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.pairs > 0 && args.steps > 0,
        "--pairs and --steps must be at least 1"
    );
    let problems = InnerProblemConfig::new().with_horizon(args.steps);
    let sampler = InnerProblemSampler::new(
        problems.clone(),
        shipped::mnist10k().context("shipped MNIST")?,
        CellPool::MetaTraining,
    )?;
    let grid = SettingsGrid {
        warmup_steps: args.warmup.clone(),
        ..SettingsGrid::default()
    };
    let config = SettingsTableConfig {
        path: args.out.clone(),
        pairs: args.pairs,
        seed: args.seed,
        grid: grid.clone(),
        training: CandidateTraining {
            steps: args.steps,
            batch_size: problems.batch_size,
            eval_every: 0,
        },
    };
    let settings = grid.settings()?.len();
    eprintln!(
        "{}: {} pairs × {settings} settings, {} steps of batch {} each (seed {})",
        args.out.display(),
        args.pairs,
        args.steps,
        problems.batch_size,
        args.seed
    );
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.pairs as u64)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} pairs  {elapsed_precise} eta {eta}  {msg}",
    ) {
        bar.set_style(style);
    }
    let device = args.device.device();
    let progress = extend_settings_table(
        &config,
        &sampler,
        &device,
        |so_far, pair, problem, outcomes| {
            bar.set_position((so_far.kept + so_far.measured) as u64);
            if let Some(best) = best_outcome(outcomes) {
                let line = format!(
                    "pair {pair}: best {} (loss {:.4}) — {}",
                    best.settings,
                    best.loss,
                    problem.describe()
                );
                // A bar that is not drawn (not a terminal, or --quiet) prints
                // nothing: a long run into a log still says where it is.
                if !bar.is_hidden() {
                    bar.println(line);
                } else if !args.quiet {
                    eprintln!("{line}");
                }
            }
        },
    )
    .with_context(|| format!("measuring {}", args.out.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "{}: {} pairs kept, {} measured",
        args.out.display(),
        progress.kept,
        progress.measured
    );
    Ok(())
}
