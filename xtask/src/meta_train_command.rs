//! `cargo xtask meta-train`: learn from earlier tasks into a meta-model folder.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use metanas_aen::{AenConfig, MetaAenConfig, PriorKind, TrainingConfig};
use metanas_aon::{AonMetaTrainerConfig, AonStart, InnerProblemConfig, read_settings_table};
use metanas_data::{
    BenchmarkTable, MetricKind, TableTasks, TaskCatalog, latency_and_cost_catalog,
    nb201_latency_and_cost_table, shipped,
};
use metanas_device::BackendChoice;
use metanas_meta::{
    AonSelection, MetaModel, MetaProgress, MetaTrainConfig, MetaTrainer, SourceTasks,
    image_stages_serve,
};
use metanas_plot::{Series, line_chart};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `cargo xtask meta-train`.
#[derive(Debug, clap::Args)]
pub struct MetaTrainArgs {
    /// Output folder of the meta-model (an interrupted run in it is resumed).
    #[arg(long, default_value = "runs/meta-model")]
    pub out: PathBuf,
    /// Task families to leave out, comma-separated (e.g. `c100` drops every `c100_*` column).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Source tasks: `accuracy` (NAS-Bench-201 accuracies, 200- and 12-epoch), `latency`
    /// (the latency table's devices, and the cells' parameters and FLOPs), or `table`
    /// (every column of --table).
    #[arg(long, default_value = "accuracy")]
    pub sources: String,
    /// Your own benchmark table (CSV with an `arch` column of NAS-Bench-201 cells) for `--sources table`;
    /// a side-car `<table>.tasks.json` beside it sets columns' families, kinds and objectives.
    #[arg(long)]
    pub table: Option<PathBuf>,
    /// Also meta-train on the report-only columns of the families kept (on
    /// NAS-Bench-201: the other datasets' test and NATS re-run accuracies),
    /// as tasks of their families: an excluded family still loses all of its columns.
    #[arg(long)]
    pub report_columns_as_sources: bool,
    /// AEN ensemble members.
    #[arg(long, default_value_t = 5)]
    pub ensemble: usize,
    /// Most AEN epochs (early stopping on 10% of the cells).
    #[arg(long, default_value_t = 30)]
    pub aen_epochs: usize,
    /// AON meta-steps (0: no AON in the meta-model). Default: 60 when the
    /// sources hold accuracies (the AON trains image searches' candidates),
    /// 0 for latency or cost sources.
    #[arg(long)]
    pub aon_steps: Option<usize>,
    /// Where the AON's meta-training starts: `blend` (Adam at 0.005 plus
    /// SGD-Nesterov at 0.05: half of the rates `cargo xtask bench-aon`'s grids
    /// choose on MNIST problems) or `adam` (Adam at 0.01).
    #[arg(long, default_value_t = AonStart::Blend)]
    pub aon_start: AonStart,
    /// MNIST problems that choose the AON kept: the start and every 10th
    /// meta-step are scored on them, the best is kept (0: keep the last, as
    /// folders made before this option did — pass 0 to resume one of those).
    #[arg(long, default_value_t = 3)]
    pub aon_validation_problems: usize,
    /// Cells measured on MNIST after the AON (the prior of image searches; 0 skips it).
    /// Default: 24 when the sources hold accuracies, 0 for latency or cost sources.
    #[arg(long)]
    pub image_cells: Option<usize>,
    /// Table of measured AON runs (`cargo xtask aon-table`) to fit the choice
    /// of the AON's settings per candidate on, with the AEN's embeddings
    /// (the architecture-conditioned AON). Default: the shipped
    /// `datasets/aon-settings/table.csv` when the sources hold accuracies;
    /// `none` skips it.
    #[arg(long)]
    pub aon_settings_table: Option<String>,
    /// Stop starting new work after this many seconds; run again to resume.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Device: flex (the fastest CPU backend here), ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    pub device: BackendChoice,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// Adam's learning rate chosen by `cargo xtask bench-aon`'s grid on MNIST problems.
const TUNED_ADAM_RATE: f64 = 0.01;
/// SGD-Nesterov's learning rate chosen by the same grid.
const TUNED_SGD_NESTEROV_RATE: f64 = 0.1;

/// The AEN settings of a meta-model.
pub fn aen_config(space: &Nb201Space, ensemble: usize, epochs: usize) -> MetaAenConfig {
    MetaAenConfig::new(AenConfig::new(space.vocabulary_size()))
        .with_ensemble(ensemble)
        .with_prior(PriorKind::SourceMean)
        .with_training(
            TrainingConfig::new()
                .with_batch_size(256)
                .with_max_epochs(epochs)
                .with_patience(4)
                .with_validation_fraction(0.1),
        )
}

/// AON meta-steps and image cells by default for sources that hold accuracies.
const IMAGE_STAGE_DEFAULTS: (usize, usize) = (60, 24);

/// The source tasks named by `--sources`, and whether the image stages
/// (AON, MNIST cells) serve them ([`image_stages_serve`]).
pub fn source_tasks(
    sources: &str,
    table: Option<&Path>,
    exclude: &[String],
    report_columns_as_sources: bool,
) -> anyhow::Result<(SourceTasks, bool)> {
    let space = Nb201Space;
    let (table, catalog, kinds): (BenchmarkTable<Nb201Space>, TaskCatalog, Vec<MetricKind>) =
        match sources {
            "accuracy" => {
                let t = shipped::nb201_table()?;
                let c = TaskCatalog::nb201_accuracy(t.column_names());
                (t, c, vec![MetricKind::Accuracy])
            }
            "latency" => {
                let t = nb201_latency_and_cost_table()?;
                let c = latency_and_cost_catalog(&t)?;
                (t, c, vec![MetricKind::Latency, MetricKind::Cost])
            }
            "table" => {
                let Some(path) = table else {
                    bail!("--sources table needs --table PATH")
                };
                let t = BenchmarkTable::from_csv(space, path)?;
                let tasks = TableTasks::of_table(path, TaskCatalog::generic(t.column_names()))?;
                if let Some(side_car) = tasks.side_car() {
                    eprintln!("task overrides from {}", side_car.display());
                }
                let c = tasks.into_catalog();
                (
                    t,
                    c,
                    vec![MetricKind::Accuracy, MetricKind::Latency, MetricKind::Cost],
                )
            }
            other => bail!("unknown --sources `{other}`: expected accuracy, latency or table"),
        };
    if report_columns_as_sources && catalog.report_only().is_empty() {
        bail!(
            "--report-columns-as-sources: the `{sources}` sources have no report-only column to add"
        );
    }
    let catalog = if report_columns_as_sources {
        catalog.with_report_columns_as_tasks()
    } else {
        catalog
    };
    let chosen: Vec<MetricKind> = catalog
        .tasks()
        .iter()
        .filter(|t| kinds.contains(&t.kind))
        .map(|t| t.kind)
        .collect();
    Ok((
        SourceTasks::from_table(&table, &catalog, &kinds, exclude)?,
        image_stages_serve(&chosen),
    ))
}

/// Meta-trains (or resumes) into `out`; `None` when the time limit paused it.
pub fn meta_train(args: &MetaTrainArgs) -> anyhow::Result<Option<MetaModel>> {
    let space = Nb201Space;
    let (sources, image_stages) = source_tasks(
        &args.sources,
        args.table.as_deref(),
        &args.exclude,
        args.report_columns_as_sources,
    )?;
    let (default_aon_steps, default_image_cells) = if image_stages {
        IMAGE_STAGE_DEFAULTS
    } else {
        (0, 0)
    };
    let aon_steps = args.aon_steps.unwrap_or(default_aon_steps);
    let image_cells = args.image_cells.unwrap_or(default_image_cells);
    if !image_stages && args.aon_steps.is_none() && args.image_cells.is_none() {
        eprintln!(
            "the `{}` sources hold no accuracy: the meta-model holds the AEN only (no AON, no MNIST cells; --aon-steps and --image-cells add them)",
            args.sources
        );
    }
    eprintln!(
        "meta-training on {} source tasks [{}]{} → {}",
        sources.tasks.len(),
        sources.selection.tasks.join(", "),
        if args.exclude.is_empty() {
            String::new()
        } else {
            format!(
                ", excluding {}",
                sources.selection.excluded_columns.join(", ")
            )
        },
        args.out.display()
    );
    let initial = args
        .aon_start
        .config(TUNED_ADAM_RATE, TUNED_SGD_NESTEROV_RATE);
    let aon = (aon_steps > 0).then(|| {
        AonMetaTrainerConfig::new(initial, InnerProblemConfig::new()).with_seed(args.seed)
    });
    let config = MetaTrainConfig::new(aen_config(&space, args.ensemble, args.aen_epochs))
        .with_aon(aon)
        .with_aon_meta_steps(aon_steps)
        .with_aon_selection(
            (aon_steps > 0 && args.aon_validation_problems > 0)
                .then(|| AonSelection::new().with_problems(args.aon_validation_problems)),
        )
        .with_image_cells(image_cells)
        .with_seed(args.seed);
    let images = if aon_steps > 0 || image_cells > 0 {
        Some(shipped::mnist10k()?)
    } else {
        None
    };
    let device = args.device.device();
    let mut trainer =
        MetaTrainer::new(config, &args.out, &device)?.with_time_limit(args.time_limit);
    if let Some(table) = aon_settings_table(args.aon_settings_table.as_deref(), image_stages)? {
        let rows = read_settings_table(&table)
            .with_context(|| format!("reading the AON settings table {}", table.display()))?;
        trainer = trainer.with_aon_settings_table(rows, table.display().to_string());
    }
    let spinner = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(aon_steps as u64)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "AON {bar:30} {pos}/{len} meta-steps  {elapsed_precise} eta {eta}  {msg}",
    ) {
        bar.set_style(style);
    }
    let model = trainer.run(&sources, images.as_ref(), &mut |p| match p {
        MetaProgress::AenStarted { tasks, cells, members } => {
            spinner.enable_steady_tick(Duration::from_millis(200));
            spinner.set_message(format!("AEN: {members} GCN bodies on {cells} cells × {tasks} tasks …"));
        }
        MetaProgress::AenDone { resumed } => {
            spinner.finish_and_clear();
            eprintln!("AEN {}", if resumed { "found complete in the folder (resumed)" } else { "done" });
        }
        MetaProgress::AonResumed { steps_done } => {
            eprintln!("AON resumed from its checkpoint after {steps_done} meta-steps");
            bar.set_position(steps_done as u64);
        }
        MetaProgress::AonStep { point, total, checkpointed } => {
            bar.set_length(total as u64);
            bar.set_position(point.step as u64);
            bar.set_message(format!("meta-loss {:.4}{}", point.meta_loss, if checkpointed { " (checkpoint)" } else { "" }));
        }
        MetaProgress::AonValidated { step, loss, best_step } => {
            // `suspend`, not `println`: a hidden bar (a log, not a terminal) drops printed lines.
            bar.suspend(|| eprintln!("AON meta-validation at meta-step {step}: {loss:.4} (best: meta-step {best_step})"));
        }
        MetaProgress::ImageCell { done, total, arch, accuracy } => {
            bar.suspend(|| eprintln!("MNIST cell {done}/{total}: {accuracy:.2}%  {arch}"));
        }
        MetaProgress::AonSettingsChooserFitted { record } => {
            let v = &record.validation;
            bar.suspend(|| eprintln!(
                "AON settings chooser: fitted on {} measured pairs, {} settings, {} features per candidate ({}); by {}-fold cross-validation over the pairs (L2 {}): loss above each pair's best {:.4}, one setting for all {:.4}{}",
                record.pairs, record.settings, record.features,
                if record.reads_aen { "plain and the AEN's embedding" } else { "plain" },
                v.folds, v.l2, v.regret(), v.single_setting_regret,
                v.other_features_regret.map_or(String::new(), |r| format!(", the other feature set {r:.4}"))
            ));
            if v.prefers_single_setting {
                bar.suspend(|| eprintln!(
                    "reading the candidate did not pay on the table's pairs: image searches train every candidate with its best single setting, {}",
                    record.table_best
                ));
            }
        }
        MetaProgress::Paused => {
            bar.abandon();
            eprintln!("time limit reached: run the same command again to resume from the last checkpoint");
        }
    });
    bar.finish_and_clear();
    let model = model.with_context(|| format!("meta-training into {}", args.out.display()))?;
    if let Some(model) = &model {
        plot_curves(&args.out, model)?;
        eprintln!(
            "meta-model complete in {} ({:.0} s in all): AEN of {} source tasks{}",
            args.out.display(),
            model.manifest.seconds,
            model.manifest.sources.tasks.len(),
            match (&model.aon, model.manifest.aon_best_step) {
                (None, _) => String::new(),
                (Some(_), Some(step)) => format!(
                    ", AON of meta-step {step} of {} (best meta-validation loss {:.4})",
                    model.manifest.aon_steps_done,
                    model
                        .manifest
                        .aon_validation
                        .iter()
                        .find(|v| v.step == step)
                        .map_or(f64::NAN, |v| v.loss)
                ),
                (Some(_), None) =>
                    format!(", AON after {} meta-steps", model.manifest.aon_steps_done),
            }
        );
        if !model.manifest.image_observations.is_empty() {
            eprintln!(
                "{} cells measured on {}",
                model.manifest.image_observations.len(),
                model
                    .manifest
                    .image_task
                    .as_deref()
                    .unwrap_or("the image task")
            );
        }
    }
    Ok(model)
}

/// The table the AON settings chooser is fitted on: `asked` (`none`: no
/// chooser), else the shipped one when the image stages serve the sources.
fn aon_settings_table(asked: Option<&str>, image_stages: bool) -> anyhow::Result<Option<PathBuf>> {
    match asked {
        Some("none") => Ok(None),
        Some(path) => Ok(Some(PathBuf::from(path))),
        None if image_stages => Ok(Some(
            shipped::aon_settings_table_path().context("the shipped AON settings table")?,
        )),
        None => Ok(None),
    }
}

/// Runs the command.
pub fn run(args: &MetaTrainArgs) -> anyhow::Result<()> {
    meta_train(args).map(|_| ())
}

fn plot_curves(out: &Path, model: &MetaModel) -> anyhow::Result<()> {
    let mut series: Vec<Series> = model
        .manifest
        .aen_curves
        .iter()
        .map(|c| Series {
            name: format!("AEN member {} (validation loss per epoch)", c.member),
            points: c
                .epoch_losses
                .iter()
                .enumerate()
                .map(|(i, l)| ((i + 1) as f64, *l))
                .collect(),
        })
        .collect();
    line_chart(
        &out.join("aen_curves.png"),
        "AEN meta-training",
        "epoch",
        "validation loss",
        &series,
    )?;
    if !model.manifest.aon_curve.is_empty() {
        series = vec![Series {
            name: "AON meta-loss".into(),
            points: model
                .manifest
                .aon_curve
                .iter()
                .map(|p| (p.step as f64, p.meta_loss))
                .collect(),
        }];
        if !model.manifest.aon_validation.is_empty() {
            series.push(Series {
                name: "meta-validation (after the whole horizon)".into(),
                points: model
                    .manifest
                    .aon_validation
                    .iter()
                    .map(|v| (v.step as f64, v.loss))
                    .collect(),
            });
        }
        line_chart(
            &out.join("aon_curve.png"),
            "AON meta-training",
            "meta-step",
            "validation loss after the unroll",
            &series,
        )?;
    }
    Ok(())
}
