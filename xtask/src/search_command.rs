//! `cargo xtask search`: find the best architecture for a task, train it, save it.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use metanas_data::{
    BenchmarkTable, DatasetFormat, DirectionSource, FixedTask, ImageDataset, ImageFileReading,
    Objective, TableTasks, TaskCatalog, TaskDirection, shipped,
};
use metanas_device::BackendChoice;
use metanas_meta::{ConditionedSettings, MetaModel, SearchedNetworks};
use metanas_plot::{Series, line_chart};
use metanas_search::{
    Constraint, Constraints, Evaluator, FLOPS, FinalChoice, NetworkSize, REFERENCE_NAMES,
    ReferenceCell, Rematch, SearchConfig, SearchError, SearchOutcome, Searcher, StartingCells,
    Strategy, TableEvaluator, TrainingEvaluator, Trial, TrialOutcome, TrialStore,
    VALIDATION_EXAMPLES, acquisition_by_name, meta_strategy, shipped_source_values,
    strategy_by_name, trajectory,
};
use metanas_search::{PredictedLatencies, SpeedWeights, probability_within};
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use metanas_space::{CanonicalHash, SearchSpace};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `cargo xtask search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The task: a column of the benchmark table (e.g. `c100_valid`, searched by
    /// lookup; its test column is reported), a shipped dataset (`fashion-mnist`,
    /// `mnist`; searched by real training), or `dataset` with --dataset.
    #[arg(long, default_value = "fashion-mnist")]
    task: String,
    /// Your own images for `--task dataset`: an IDX image file (labels with
    /// --labels), a CSV file, `.csv` or `.csv.gz` (label then values; shape
    /// with --shape; integers in 0..=255 are read as pixels, any other values
    /// as float features kept as they are) or a folder with one sub-folder of
    /// PNG/JPEG images per class. Any height and width.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// IDX label file for an IDX --dataset.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Image shape `C,H,W` for a CSV --dataset.
    #[arg(long, value_delimiter = ',')]
    shape: Option<Vec<usize>>,
    /// Resize every image of a folder --dataset to `H,W` as it is read
    /// (bilinear, averaging when shrinking): photos of many sizes, or large
    /// ones that would make every candidate slow. The saved model records it,
    /// and `cargo xtask predict` resizes its image files the same way.
    #[arg(long, value_delimiter = ',')]
    image_size: Option<Vec<usize>>,
    /// Your own benchmark table (CSV with an `arch` column) instead of the shipped NAS-Bench-201 table.
    #[arg(long)]
    table: Option<PathBuf>,
    /// Search strategy: random, evolution (regularized evolution), local (local search),
    /// bo (Bayesian optimization with the AEN ensemble and expected improvement), bo-ucb, bo-ts (Thompson sampling).
    #[arg(long, default_value = "bo")]
    strategy: String,
    /// Cells to query first, before the strategy's own proposals (they count
    /// in the budget): a comma-separated list of reference names (`resnet`,
    /// `largest`) or NAS-Bench-201 cells (`|nor_conv_3x3~0|+|…|`), e.g. a
    /// design you trust, so that the search measures its candidates beside it
    /// and can pick it when none does better.
    /// Default for image tasks: `resnet` (`none` for no starting cell);
    /// table tasks start with none.
    #[arg(long)]
    start_cells: Option<String>,
    /// Queries to spend (evaluations of new architectures; default 100 for table tasks, 10 for real training).
    #[arg(long)]
    budget: Option<usize>,
    /// Stop starting new queries after this many seconds.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Seed of the search (and of training).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Only cells with at most this many parameters (millions, NB201 CIFAR-10 network).
    #[arg(long)]
    max_params: Option<f64>,
    /// Only cells with at most this many MFLOPs (NB201 CIFAR-10 network).
    #[arg(long)]
    max_flops: Option<f64>,
    /// Only cells at most this fast on a device of the latency table: `DEVICE=MS`, e.g. `pixel3=12`
    /// (or on your own device, with --latency-measured).
    #[arg(long)]
    max_latency: Option<String>,
    /// Your device's measured latencies (a CSV: `arch` and one latency column named for the device,
    /// e.g. from `cargo xtask latency plan`): --max-latency DEVICE=MS then limits the latencies
    /// that the latency meta-model predicts from them.
    #[arg(long, requires = "max_latency")]
    latency_measured: Option<PathBuf>,
    /// The latency meta-model that --latency-measured adapts (`cargo xtask meta-train --sources latency --out DIR`).
    #[arg(long, default_value = "runs/latency-model")]
    latency_meta_model: PathBuf,
    /// With --latency-measured: a cell is searched only if its predicted latency is within
    /// the limit with at least this probability.
    #[arg(long, default_value_t = metanas_search::DEFAULT_FEASIBILITY)]
    feasibility: f64,
    /// Minimise the task's column (wins over the table's side-car `<table>.tasks.json` and the
    /// column's name; `*_latency`, `*_ms`, `*_energy`, `params_*`, `flops_*` are minimised by default).
    #[arg(long, conflicts_with = "maximize")]
    minimize: bool,
    /// Maximise the task's column (wins over the side-car and the column's name).
    #[arg(long)]
    maximize: bool,
    /// Output folder (default `runs/search/<task>-<strategy>-seed<seed>`, or
    /// `runs/search/<task>-meta-<strategy>-seed<seed>` with --meta-model).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Trial store (default `<out>/trials.sqlite`).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Continue the search recorded in the store.
    #[arg(long)]
    resume: bool,
    /// Device for real training: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    device: BackendChoice,
    /// Training steps per candidate (real-training tasks).
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// How long each candidate trains (real-training tasks): `steps` (every
    /// candidate --steps steps) or `time` (as long as --steps steps of
    /// NAS-Bench-201's ResNet cell take, timed at the final stage's size, so
    /// a cell with faster steps trains more of them, as it would under the
    /// final stage's --final-time budget). `time` finds small, fast cells and
    /// has not beaten `steps` (docs/BENCHMARKS.md, time-matched candidates).
    #[arg(long, value_enum, default_value_t = CandidateLength::Steps)]
    candidate_length: CandidateLength,
    /// How much a candidate's speed counts in its score (real-training
    /// tasks): the score is its validation accuracy × (its step time / the
    /// ResNet cell's, both timed at the final stage's size)^-W, the form of
    /// MnasNet's latency-aware objective (W = 0.07 there). Under --final-time
    /// a cell whose steps are faster trains more epochs. 0: accuracy alone.
    #[arg(long, default_value_t = DEFAULT_SPEED_WEIGHT)]
    speed_weight: f64,
    /// With --speed-weight: a candidate faster than the ResNet cell gains
    /// nothing, a slower one still loses (the score is accuracy × max(1,
    /// step time / the ResNet cell's)^-W: MnasNet's objective with α = 0 and
    /// β = -W). Ranks the cells that keep up with the ResNet cell by
    /// accuracy alone.
    #[arg(long)]
    no_speed_bonus: bool,
    /// Channels of the candidates' first stage (real-training tasks).
    #[arg(long, default_value_t = 8)]
    channels: usize,
    /// Cells per stage of the candidates (real-training tasks).
    #[arg(long, default_value_t = 1)]
    cells: usize,
    /// Which finished candidate the final stage trains (real-training tasks):
    /// `best` (the best validation accuracy), `cheapest-within-error` (the
    /// fewest FLOPs among the candidates within one standard error of the
    /// best: a difference the validation split cannot resolve, while under
    /// --final-time a cheaper network trains more epochs) or
    /// `start-within-error` (the best of --start-cells unless a candidate
    /// beats it by more than one standard error; without starting cells, the
    /// best). Default: `start-within-error` for image tasks, `best` with
    /// --speed-weight (whose score is more than an accuracy).
    #[arg(long)]
    final_choice: Option<FinalChoice>,
    /// With `--final-choice start-within-error`: when a candidate beat the
    /// starting cell in the search, both train this many more times (fresh
    /// seeds, the same for both), and the starting cell is kept unless the
    /// candidate's mean accuracy still beats its mean by more than one
    /// standard error of the difference. 0: the search's single runs decide.
    /// [default: 2; refused under another final choice, where it would do nothing]
    #[arg(long)]
    rematch_repeats: Option<usize>,
    /// Final training of the winner and of reference cells (real-training tasks).
    #[command(flatten)]
    final_stage: crate::final_stage_args::FinalStageArgs,
    /// A meta-model folder from `cargo xtask meta-train`: Bayesian optimization starts
    /// from its AEN (no random start; needs --strategy bo, bo-ucb or bo-ts).
    #[arg(long)]
    meta_model: Option<PathBuf>,
    /// With --meta-model on an image task, what trains the candidates: `aon`
    /// (the meta-model's meta-trained AON, the same for every candidate; the
    /// default when the meta-model has one) or `conditioned` (a fresh AON
    /// whose settings the meta-model's chooser picks for each candidate; see
    /// docs/BENCHMARKS.md for how the two compare).
    #[arg(long, requires = "meta_model")]
    candidate_optimizer: Option<CandidateOptimizerChoice>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// One search on many workers (a study in PostgreSQL).
    #[command(flatten)]
    distributed: crate::distributed_search::DistributedArgs,
}

/// `--speed-weight` unless told otherwise.
const DEFAULT_SPEED_WEIGHT: f64 = 0.0;

/// How long each candidate trains (`--candidate-length`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CandidateLength {
    /// The same steps for every candidate.
    Steps,
    /// The time the steps take the ResNet cell.
    Time,
}

/// What trains a meta-model search's candidates (`--candidate-optimizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CandidateOptimizerChoice {
    /// A fresh AON with the settings the meta-model's chooser picks per candidate.
    Conditioned,
    /// The meta-model's meta-trained AON.
    Aon,
}

/// What the meta-model gives the training of an image search's candidates.
enum CandidateTrainer {
    Aon(Box<metanas_aon::Aon>, String),
    Conditioned(
        Box<(metanas_aon::SettingsChooser, metanas_aen::MetaAen)>,
        String,
    ),
}

/// Runs the command.
pub fn run(args: &SearchArgs) -> anyhow::Result<()> {
    if crate::distributed_search::spawn_workers(&args.distributed)? {
        return Ok(());
    }
    let strategy_name = args.strategy.as_str();
    let out = args.out.clone().unwrap_or_else(|| default_out(args));
    let space = Nb201Space;
    let table = Arc::new(match &args.table {
        Some(path) => BenchmarkTable::from_csv(space, path)?,
        None => shipped::nb201_table()?,
    });
    let (constraints, predicted_latency) = constraints(args, &table)?;
    let is_table_task = table.has_column(&args.task);
    if !is_table_task && asked_objective(args).is_some() {
        bail!(
            "--minimize and --maximize choose the direction of a table column; `{}` is not a column of the table, and an image task maximises accuracy",
            args.task
        );
    }
    if is_table_task && args.final_choice.is_some_and(|c| c != FinalChoice::Best) {
        bail!(
            "--final-choice chooses the candidate an image search trains in its final stage; `{}` is searched by table lookup, which has no final stage",
            args.task
        );
    }
    check_speed_weight(args, is_table_task)?;
    let starting = start_cells(args, is_table_task)?;
    let rule = final_choice(args, !starting.is_empty());
    // A table task has no final stage, so no rematch, whatever the rule says.
    check_rematch_repeats(
        args,
        if is_table_task {
            FinalChoice::Best
        } else {
            rule
        },
    )?;
    let config = SearchConfig::new()
        .with_max_queries(args.budget.unwrap_or(if is_table_task { 100 } else { 10 }))
        .with_max_seconds(args.time_limit)
        .with_seed(args.seed);
    config.check()?;
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let searcher = Searcher::new(space, constraints, config.clone());
    let mut candidate_trainer = None;
    let mut strategy = match &args.meta_model {
        None => strategy_by_name(
            strategy_name,
            &space,
            &args.device.device(),
            config.max_queries,
        )?,
        Some(dir) => {
            let acquisition = acquisition_by_name(strategy_name)?;
            let meta = MetaModel::load(dir, &args.device.device())
                .with_context(|| format!("loading the meta-model {}", dir.display()))?;
            if let Some(reason) = meta.saw(&args.task) {
                eprintln!(
                    "warning: {reason}; this search is not a test of transfer to an unseen task"
                );
            }
            eprintln!(
                "meta-model {}: AEN of [{}]{}",
                dir.display(),
                meta.manifest.sources.tasks.join(", "),
                if meta.manifest.sources.excluded_families.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", trained without {}",
                        meta.manifest.sources.excluded_families.join(", ")
                    )
                }
            );
            // Image tasks start from the cells meta-training measured on MNIST,
            // and train candidates with its AON.
            let related = if is_table_task {
                Vec::new()
            } else {
                meta.image_observations()?
            };
            if !related.is_empty() {
                eprintln!(
                    "prior: {} cells measured on {}",
                    related.len(),
                    meta.manifest
                        .image_task
                        .as_deref()
                        .unwrap_or("an image task")
                );
            }
            if !is_table_task {
                candidate_trainer = candidate_trainer_of(&meta, dir, args.candidate_optimizer)?;
            } else if args.candidate_optimizer.is_some() {
                bail!(
                    "--candidate-optimizer chooses how an image search trains its candidates; `{}` is searched by table lookup",
                    args.task
                );
            }
            let sources = shipped_source_values(meta.aen.task_names())?;
            if sources.is_none() {
                eprintln!(
                    "note: the meta-model's source columns are not all in one shipped table; its heads read the GCN features only"
                );
            }
            meta_strategy(&space, meta.aen, sources, &related, acquisition)?
        }
    };
    for cell in starting
        .iter()
        .filter(|c| !searcher.constraints().allows(c))
    {
        eprintln!(
            "note: the starting cell {} is outside --max-params/--max-flops/--max-latency; it is not queried",
            space.format(cell)
        );
    }
    let starting_hashes: Vec<String> = starting
        .iter()
        .map(|c| space.canonical_hash(c).to_string())
        .collect();
    let starting_texts: Vec<String> = starting.iter().map(|c| space.format(c)).collect();
    if !starting.is_empty() {
        strategy = Box::new(StartingCells::new(&space, starting, strategy));
    }
    if is_table_task {
        let (catalog, direction) = table_tasks(args, &table)?;
        let objective = direction.objective;
        let report = catalog
            .task(&args.task)
            .map(|task| task.report_column.clone());
        eprintln!("{}: {direction}", args.task);
        let mut evaluator =
            TableEvaluator::new(table.clone(), &args.task, report.as_deref(), objective)?;
        // A store written before tables were keyed by content names the table's path.
        let former_task = evaluator.describe_by_path();
        let Some(outcome) = run_searcher(
            &searcher,
            strategy.as_mut(),
            &mut evaluator,
            Some(former_task.as_str()),
            args,
            &out,
        )?
        else {
            return Ok(());
        };
        write_results(
            &out,
            args,
            SearchSetup {
                searcher: &searcher,
                start_cells: &starting_texts,
            },
            &outcome,
            &direction,
            FinalPart::default(),
            predicted_latency.as_ref(),
        )?;
        return Ok(());
    }
    let device = args.device.autodiff_device();
    let (train_all, test) = load_dataset(args)?;
    let task = FixedTask::new(
        &train_all,
        metanas_search::CANDIDATE_VALIDATION_FRACTION,
        args.seed,
    )?
    .into_task();
    eprintln!(
        "task: {} — {} training, {} validation images for the search; {} test images kept for the final report",
        args.task,
        task.train.len(),
        task.validation.len(),
        test.len()
    );
    let size = NetworkSize {
        channels: args.channels,
        cells_per_stage: args.cells,
    };
    let training = metanas_search::candidate_training(args.steps);
    let networks = SearchedNetworks::new(size, &task);
    let mut evaluator = TrainingEvaluator::<Nb201Space>::new(task, size, training, device.clone());
    if args.candidate_length == CandidateLength::Time || args.speed_weight > 0.0 {
        let reference = ReferenceCell::Resnet;
        let cell = Nb201Space
            .parse(reference.architecture())
            .context("the ResNet reference cell")?;
        let pace_size = NetworkSize {
            channels: args.final_stage.final_channels,
            cells_per_stage: args.final_stage.final_cells,
        };
        let label = format!("the {} cell", reference.name());
        evaluator = if args.candidate_length == CandidateLength::Time {
            evaluator.with_time_matched_steps(cell, label, pace_size)
        } else {
            evaluator.with_speed_weighted_score(cell, label, pace_size, speed_weights(args))
        };
    }
    match candidate_trainer {
        Some(CandidateTrainer::Aon(aon, label)) => {
            eprintln!("candidates are trained by the meta-model's AON");
            evaluator = evaluator.with_aon(*aon, label);
        }
        Some(CandidateTrainer::Conditioned(chooser_and_aen, label)) => {
            let (chooser, aen) = *chooser_and_aen;
            eprintln!(
                "candidates are trained by a fresh AON whose settings the meta-model's chooser picks for each"
            );
            let settings = ConditionedSettings::new(chooser, Some(aen), networks, label)
                .context("the meta-model's AON settings chooser")?;
            evaluator = evaluator.with_candidate_settings(Box::new(settings));
        }
        None => {}
    }
    evaluator
        .check()
        .with_context(|| format!("the images of task `{}` cannot be searched", args.task))?;
    let Some(outcome) = run_searcher(
        &searcher,
        strategy.as_mut(),
        &mut evaluator,
        None,
        args,
        &out,
    )?
    else {
        return Ok(());
    };
    let chosen = chosen_trial(rule, &outcome, &starting_hashes)?;
    let (chosen, rematch) = rematched(
        args,
        rule,
        &outcome,
        &starting_hashes,
        chosen,
        &mut evaluator,
    )?;
    let final_stage = match chosen {
        Some(trial) => crate::final_stage::run_final_stage(
            &args.final_stage,
            args.seed,
            args.quiet,
            &trial.architecture,
            metanas_search::FinalData {
                train: &train_all,
                test: &test,
            },
            args.device,
            &out,
        )?,
        None => None,
    };
    let accuracy = TaskDirection {
        objective: Objective::Maximize,
        source: DirectionSource::Default,
    };
    write_results(
        &out,
        args,
        SearchSetup {
            searcher: &searcher,
            start_cells: &starting_texts,
        },
        &outcome,
        &accuracy,
        FinalPart {
            choice: chosen.map(|trial| (rule, trial)),
            rematch: rematch.as_ref(),
            stage: final_stage.as_ref(),
        },
        predicted_latency.as_ref(),
    )?;
    if let Some(stage) = &final_stage {
        crate::final_stage::print_comparison(stage, &out);
    }
    Ok(())
}

/// The rule `--final-choice` names, or an image search's default: the
/// starting cell unless beaten when there is one, else (and with a speed
/// weight, whose score is more than an accuracy) the best.
fn final_choice(args: &SearchArgs, has_starting_cells: bool) -> FinalChoice {
    args.final_choice
        .unwrap_or(if has_starting_cells && args.speed_weight == 0.0 {
            FinalChoice::StartWithinError
        } else {
            FinalChoice::Best
        })
}

/// How many more times a rematch trains each of its two cells (`--rematch-repeats`).
const DEFAULT_REMATCH_REPEATS: usize = 2;

/// Refuses a rematch (`--rematch-repeats` above 0) under a final choice other
/// than `start-within-error`, the only rule with a rematch (it would do
/// nothing); `--rematch-repeats 0`, no rematch, fits every rule.
fn check_rematch_repeats(args: &SearchArgs, rule: FinalChoice) -> anyhow::Result<()> {
    if let Some(repeats) = args.rematch_repeats.filter(|&repeats| repeats > 0)
        && rule != FinalChoice::StartWithinError
    {
        bail!(
            "--rematch-repeats {repeats} retrains the starting cell and the candidate that beat it, which only --final-choice start-within-error does; this search's final choice is `{rule}` (with --start-cells none, --speed-weight or a table task, the default is `best`): drop --rematch-repeats, or ask for --final-choice start-within-error"
        );
    }
    Ok(())
}

/// The cells `--start-cells` lists (reference names or NAS-Bench-201
/// cells, each once; `none`: no cell), or the default: the ResNet cell for
/// an image task, none for a table task.
fn start_cells(args: &SearchArgs, is_table_task: bool) -> anyhow::Result<Vec<Nb201Cell>> {
    let list = match args.start_cells.as_deref().map(str::trim) {
        None if is_table_task => return Ok(Vec::new()),
        None => ReferenceCell::Resnet.name(),
        Some("none") => return Ok(Vec::new()),
        Some(list) => list,
    };
    let mut cells = Vec::new();
    for item in list_items(list) {
        let text = if item.contains('|') {
            item
        } else {
            item.parse::<ReferenceCell>()
                .with_context(|| {
                    format!(
                        "--start-cells `{item}`: give a reference name ({REFERENCE_NAMES}) or a NAS-Bench-201 cell such as `{}`",
                        ReferenceCell::Resnet.architecture()
                    )
                })?
                .architecture()
        };
        let cell = Nb201Space
            .parse(text)
            .with_context(|| format!("--start-cells: `{item}` is not a NAS-Bench-201 cell"))?;
        let hash = Nb201Space.canonical_hash(&cell);
        if !cells.iter().any(|c| Nb201Space.canonical_hash(c) == hash) {
            cells.push(cell);
        }
    }
    if cells.is_empty() {
        bail!(
            "--start-cells lists no cell; give reference names ({REFERENCE_NAMES}), NAS-Bench-201 cells or `none`"
        );
    }
    Ok(cells)
}

/// The items of a comma-separated list, trimmed, the empty ones dropped.
fn list_items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// The items of a comma-separated list, sorted, each once: the same cells in
/// another order or repeated are the same list.
fn sorted_items(list: &str) -> Vec<&str> {
    let mut items: Vec<&str> = list_items(list).collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// The weights `--speed-weight` and `--no-speed-bonus` ask for.
fn speed_weights(args: &SearchArgs) -> SpeedWeights {
    if args.no_speed_bonus {
        SpeedWeights::slower_only(args.speed_weight)
    } else {
        SpeedWeights::symmetric(args.speed_weight)
    }
}

/// Refuses a `--speed-weight` that is not a non-negative number, or one
/// (or `--no-speed-bonus`) beside another way of counting a candidate's
/// cost or on a table task, and `--no-speed-bonus` without a weight.
fn check_speed_weight(args: &SearchArgs, is_table_task: bool) -> anyhow::Result<()> {
    let weight = args.speed_weight;
    if !(weight.is_finite() && weight >= 0.0) {
        bail!("--speed-weight must be a non-negative number (0: accuracy alone), got {weight}");
    }
    if weight == 0.0 && !args.no_speed_bonus {
        return Ok(());
    }
    if is_table_task {
        bail!(
            "--speed-weight weighs the step times of candidates trained on images; `{}` is searched by table lookup (use --max-latency for a device's latency)",
            args.task
        );
    }
    if args.candidate_length == CandidateLength::Time {
        bail!(
            "--candidate-length time already counts each candidate's speed (in its training steps); use it with --speed-weight 0 and without --no-speed-bonus"
        );
    }
    if weight == 0.0 {
        bail!(
            "--no-speed-bonus changes how --speed-weight scores a faster candidate; give a weight too (e.g. --speed-weight 0.07)"
        );
    }
    if let Some(rule) = args.final_choice.filter(|c| *c != FinalChoice::Best) {
        bail!(
            "--final-choice {rule} compares validation accuracies, and --speed-weight {weight} makes the score more than an accuracy; use one of the two (--speed-weight 0 turns the weight off)"
        );
    }
    Ok(())
}

/// What a speed-weighted score is made of: the validation accuracy and the
/// step time against the reference's (empty when the measurement lacks them).
fn speed_weighted_parts(measurement: &metanas_search::Measurement) -> String {
    let detail = |name: &str| measurement.details.get(name).copied();
    match (
        detail(metanas_search::VALIDATION_ACCURACY),
        detail(metanas_search::STEP_SECONDS),
        detail(metanas_search::REFERENCE_STEP_SECONDS),
    ) {
        (Some(accuracy), Some(pace), Some(reference)) if reference > 0.0 => format!(
            " (validation accuracy {accuracy:.2} %, step time {:.2}× the ResNet cell's)",
            pace / reference
        ),
        _ => String::new(),
    }
}

/// The trial the final stage trains, by `rule`; says so when the rule
/// passes over the best one.
fn chosen_trial<'a>(
    rule: FinalChoice,
    outcome: &'a SearchOutcome,
    starting: &[String],
) -> anyhow::Result<Option<&'a Trial>> {
    let index = rule
        .choose(outcome, Objective::Maximize, starting)
        .context("choosing the candidate that the final stage trains")?;
    let chosen = index.and_then(|i| outcome.trials.get(i));
    let (Some(trial), Some(best)) = (chosen, outcome.best_trial()) else {
        return Ok(chosen);
    };
    let detail = |t: &Trial, key: &str| t.detail(key).unwrap_or(f64::NAN);
    let accuracy = |t: &Trial| t.objective().unwrap_or(f64::NAN);
    let examples = detail(best, VALIDATION_EXAMPLES);
    let error = 100.0 * metanas_search::accuracy_standard_error(accuracy(best) / 100.0, examples);
    if trial.index != best.index {
        let what = if rule == FinalChoice::StartWithinError {
            "the starting cell, "
        } else {
            ""
        };
        println!(
            "final choice ({rule}): {what}query {} `{}` ({:.2} %, {:.1} MFLOPs) over the best, \
             query {} ({:.2} %, {:.1} MFLOPs): within one standard error ({error:.2} points on \
             {examples} images)",
            trial.index + 1,
            trial.architecture,
            accuracy(trial),
            detail(trial, FLOPS) / 1e6,
            best.index + 1,
            accuracy(best),
            detail(best, FLOPS) / 1e6,
        );
    } else if rule != FinalChoice::StartWithinError || starting.contains(&best.canonical_hash) {
        // The best is the rule's choice, or the starting cell itself.
    } else if let Some(start) =
        FinalChoice::best_starting_trial(outcome, starting).map(|i| &outcome.trials[i])
    {
        println!(
            "final choice ({rule}): the best, query {} ({:.2} %), beat the starting cell, query {} \
             `{}` ({:.2} %), by {:.2} points: more than one standard error ({error:.2} points on \
             {examples} images)",
            best.index + 1,
            accuracy(best),
            start.index + 1,
            start.architecture,
            accuracy(start),
            accuracy(best) - accuracy(start),
        );
    } else if starting.is_empty() {
        println!(
            "final choice ({rule}): no starting cells (--start-cells none); the best, query {}",
            best.index + 1
        );
    } else {
        println!(
            "final choice ({rule}): no starting cell finished (it failed, or was not queried); the best, query {}",
            best.index + 1
        );
    }
    Ok(chosen)
}

/// A rematch of the starting cell and the candidate that beat it, and the
/// trial it hands to the final stage.
struct RematchOutcome<'a> {
    rematch: Rematch,
    start: &'a Trial,
    challenger: &'a Trial,
    kept: &'a Trial,
    /// The validation images behind each accuracy.
    examples: f64,
}

/// With `start-within-error`, when the search's best beat the starting cell:
/// both train `--rematch-repeats` more times, and the starting cell is kept
/// unless the best still beats it by more than one standard error of the
/// difference of their means. Otherwise `chosen` as it is.
fn rematched<'a>(
    args: &SearchArgs,
    rule: FinalChoice,
    outcome: &'a SearchOutcome,
    starting: &[String],
    chosen: Option<&'a Trial>,
    evaluator: &mut dyn Evaluator<Nb201Space>,
) -> anyhow::Result<(Option<&'a Trial>, Option<RematchOutcome<'a>>)> {
    let Some(challenger) = chosen else {
        return Ok((chosen, None));
    };
    let repeats = args.rematch_repeats.unwrap_or(DEFAULT_REMATCH_REPEATS);
    let start = FinalChoice::best_starting_trial(outcome, starting).map(|i| &outcome.trials[i]);
    let Some(start) = start.filter(|_| {
        rule == FinalChoice::StartWithinError
            && repeats > 0
            && !starting.contains(&challenger.canonical_hash)
    }) else {
        return Ok((chosen, None));
    };
    let cell = |trial: &Trial| {
        Nb201Space
            .parse(&trial.architecture)
            .with_context(|| format!("query {} of the store", trial.index + 1))
    };
    eprintln!(
        "rematch: the starting cell (query {}) and query {} train {repeats} more time{} each",
        start.index + 1,
        challenger.index + 1,
        if repeats == 1 { "" } else { "s" }
    );
    let accuracy = |trial: &Trial| trial.objective().unwrap_or(f64::NAN);
    let rematch = Rematch::run(
        evaluator,
        (&cell(start)?, accuracy(start)),
        (&cell(challenger)?, accuracy(challenger)),
        repeats,
        args.seed,
    )?;
    let examples = challenger.detail(VALIDATION_EXAMPLES).unwrap_or(f64::NAN);
    let kept = if rematch.challenger_wins(examples) {
        challenger
    } else {
        start
    };
    let listed = |scores: &[f64]| {
        scores
            .iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let failed = |count: usize| match count {
        0 => String::new(),
        1 => " (1 repeat failed)".into(),
        n => format!(" ({n} repeats failed)"),
    };
    println!(
        "rematch: the starting cell {} %{}, query {} {} %{}: difference of the means {:+.2} points, one standard error {:.2}: {}",
        listed(&rematch.start),
        failed(rematch.start_failures),
        challenger.index + 1,
        listed(&rematch.challenger),
        failed(rematch.challenger_failures),
        rematch.difference(),
        rematch.standard_error(examples),
        if kept.index == start.index {
            "the final stage trains the starting cell"
        } else {
            "the final stage trains the candidate"
        }
    );
    Ok((
        Some(kept),
        Some(RematchOutcome {
            rematch,
            start,
            challenger,
            kept,
            examples,
        }),
    ))
}

/// The latency limit of a search on a device known by its measured cells.
struct PredictedLimit {
    predicted: Arc<PredictedLatencies>,
    limit: f64,
}

/// The `--minimize` / `--maximize` choice, if any.
fn asked_objective(args: &SearchArgs) -> Option<Objective> {
    if args.minimize {
        Some(Objective::Minimize)
    } else if args.maximize {
        Some(Objective::Maximize)
    } else {
        None
    }
}

/// The tasks of the searched table (its side-car and --minimize/--maximize
/// applied) and the direction of `--task`, with what decided it.
fn table_tasks(
    args: &SearchArgs,
    table: &BenchmarkTable<Nb201Space>,
) -> anyhow::Result<(TaskCatalog, TaskDirection)> {
    let catalog = TaskCatalog::nb201_accuracy(table.column_names());
    let mut tasks = match &args.table {
        Some(path) => TableTasks::of_table(path, catalog)?,
        None => TableTasks::new(catalog),
    };
    if let Some(side_car) = tasks.side_car() {
        eprintln!("task overrides from {}", side_car.display());
    }
    if let Some(objective) = asked_objective(args) {
        tasks = tasks.with_objective(&args.task, objective)?;
    }
    let direction = tasks.direction(&args.task)?;
    Ok((tasks.into_catalog(), direction))
}

fn constraints(
    args: &SearchArgs,
    table: &Arc<BenchmarkTable<Nb201Space>>,
) -> anyhow::Result<(Constraints<Nb201Space>, Option<PredictedLimit>)> {
    let mut predicted = None;
    let mut constraints = Constraints::default();
    if let Some(limit) = args.max_params {
        constraints = constraints.with(Constraint::from_table(
            table.clone(),
            "params_mb_c10",
            limit,
        ));
    }
    if let Some(limit) = args.max_flops {
        constraints = constraints.with(Constraint::from_table(table.clone(), "flops_m_c10", limit));
    }
    if let Some(spec) = &args.max_latency {
        let (device, ms) = spec
            .split_once('=')
            .with_context(|| format!("--max-latency expects DEVICE=MS, got `{spec}`"))?;
        let ms: f64 = ms
            .parse()
            .with_context(|| format!("--max-latency: `{ms}` is not a number"))?;
        if let Some(measured) = &args.latency_measured {
            let (constraint, latencies) = crate::latency_command::predicted_latency_constraint(
                measured,
                &args.latency_meta_model,
                device,
                ms,
                args.feasibility,
                args.device,
            )?;
            predicted = Some(PredictedLimit {
                predicted: latencies,
                limit: ms,
            });
            return Ok((constraints.with(constraint), predicted));
        }
        let latency = Arc::new(shipped::nb201_latency_table()?);
        if !latency.has_column(device) {
            bail!(
                "--max-latency: unknown device `{device}`; the latency table has: {}",
                latency.column_names().join(", ")
            );
        }
        constraints = constraints.with(Constraint::from_table(latency, device, ms));
    }
    Ok((constraints, predicted))
}

fn load_dataset(args: &SearchArgs) -> anyhow::Result<(ImageDataset, ImageDataset)> {
    if args.image_size.is_some() && args.task != "dataset" {
        bail!(
            "--image-size resizes the images of --task dataset; {} is searched at its own size",
            args.task
        );
    }
    match args.task.as_str() {
        "fashion-mnist" => Ok((
            shipped::fashion_mnist_train10k()?,
            shipped::fashion_mnist_test()?,
        )),
        "mnist" => Ok(shipped::mnist_train_test()?),
        "dataset" => {
            let path = args
                .dataset
                .as_ref()
                .context("--task dataset needs --dataset PATH")?;
            let format = DatasetFormat::of_path(path);
            let reading = image_file_reading(args.image_size.as_deref(), format)?;
            let all = match format {
                DatasetFormat::Folder => ImageDataset::from_folder_with(path, reading)?,
                DatasetFormat::Csv => {
                    let shape = args
                        .shape
                        .as_ref()
                        .context("a CSV --dataset needs --shape C,H,W")?;
                    let [c, h, w] = shape[..] else {
                        bail!("--shape needs three numbers C,H,W, got {shape:?}");
                    };
                    ImageDataset::from_csv(path, [c, h, w])?
                }
                DatasetFormat::Idx => {
                    let labels = args.labels.as_ref().with_context(|| {
                        format!(
                            "{} is taken for an IDX image file (a CSV file's name ends in .csv or .csv.gz); an IDX --dataset needs --labels PATH",
                            path.display()
                        )
                    })?;
                    ImageDataset::from_idx(path, labels)?
                }
            };
            let large = (format == DatasetFormat::Folder)
                .then(|| large_images_note(&all))
                .flatten();
            for note in [empty_classes_note(&all), large].into_iter().flatten() {
                eprintln!("note: {note}");
            }
            // 20% held out as the test split, touched only by final training's report.
            let mut parts = all.stratified_split(&[0.8, 0.2], args.seed)?.into_iter();
            match (parts.next(), parts.next()) {
                (Some(train), Some(test)) => Ok((train, test)),
                _ => bail!("could not split the dataset"),
            }
        }
        other => bail!(
            "unknown task `{other}`: expected a benchmark column (e.g. c100_valid), fashion-mnist, mnist, or dataset with --dataset"
        ),
    }
}

/// How the image files of a --dataset folder are read: resized to
/// --image-size when it is given (only a folder's files can be).
fn image_file_reading(
    image_size: Option<&[usize]>,
    format: DatasetFormat,
) -> anyhow::Result<ImageFileReading> {
    let Some(size) = image_size else {
        return Ok(ImageFileReading::as_stored());
    };
    let [height, width] = size[..] else {
        bail!("--image-size needs two numbers H,W, got {size:?}");
    };
    if format != DatasetFormat::Folder {
        bail!(
            "--image-size resizes the image files of a folder --dataset; an IDX or CSV dataset has one shape already (--shape for a CSV file)"
        );
    }
    Ok(ImageFileReading::resized_to(height, width)?)
}

/// Images above this many pixels get a note that --image-size would make
/// the search faster (64×64: every shipped dataset is below it).
const LARGE_IMAGE_PIXELS: usize = 64 * 64;

/// What a user's folder of large images should be told: every candidate
/// trains at that size, so the search takes about as many times longer.
fn large_images_note(data: &ImageDataset) -> Option<String> {
    let [_, height, width] = data.shape();
    (height * width > LARGE_IMAGE_PIXELS && data.files_resized_to().is_none()).then(|| {
        format!(
            "the images are {height}×{width} pixels, {:.0} times Fashion-MNIST's 28×28: every candidate trains at that size; --image-size H,W (e.g. 32,32) resizes a folder's images as they are read",
            (height * width) as f64 / (28.0 * 28.0)
        )
    })
}

/// What a user's dataset should be told when some labels below its largest
/// have no image (labels `1..=K`, or gaps): the network gets one output per
/// label up to the largest, so those outputs are never trained.
fn empty_classes_note(data: &ImageDataset) -> Option<String> {
    let empty: Vec<String> = data
        .class_counts()
        .iter()
        .enumerate()
        .filter(|&(_, &count)| count == 0)
        .map(|(label, _)| label.to_string())
        .collect();
    if empty.is_empty() {
        return None;
    }
    let outputs = data.num_classes();
    Some(format!(
        "label{} {} {} no image: classes are the labels 0..={} as written, so the network has {outputs} outputs, {} of them never trained; renumber the labels 0..K-1 for a network of K outputs",
        if empty.len() == 1 { "" } else { "s" },
        empty.join(", "),
        if empty.len() == 1 { "has" } else { "have" },
        outputs - 1,
        empty.len(),
    ))
}

/// The output folder when --out is not given: it names the task, the strategy,
/// whether a meta-model starts it, and the seed, so that the searches the README
/// shows one after the other do not share a trial store.
fn default_out(args: &SearchArgs) -> PathBuf {
    let meta = if args.meta_model.is_some() {
        "meta-"
    } else {
        ""
    };
    // Another list of starting cells is another search (its own store).
    let start = match args.start_cells.as_deref().map(str::trim) {
        None => String::new(),
        Some("none") => "-no-start".into(),
        Some(list) if !list.contains('|') => {
            format!("-start-{}", list_items(list).collect::<Vec<_>>().join("-"))
        }
        // Cells in NAS-Bench-201's notation: a hash of the list tells
        // one list from another.
        Some(list) => format!(
            "-own-start-{:08x}",
            CanonicalHash::of_bytes(sorted_items(list).join(",").as_bytes()).0 >> 32
        ),
    };
    PathBuf::from(format!(
        "runs/search/{}-{meta}{}-seed{}{start}",
        args.task, args.strategy, args.seed
    ))
}

/// `error`, with a hint when the store or study it refused holds this very
/// search as it was before image searches started from the ResNet cell: its
/// key (`stored`) is `requested` with the starting cells left out. `how` says
/// how to continue it (with `--start-cells none`).
pub(crate) fn with_starting_cells_hint<S: SearchSpace>(
    error: impl std::error::Error + Send + Sync + 'static,
    stored: Option<&str>,
    requested: &str,
    how: &str,
) -> anyhow::Error {
    let error = anyhow::Error::new(error);
    if stored.is_some()
        && StartingCells::<S>::key_without_starting_cells(requested).as_deref() == stored
    {
        error.context(format!(
            "it holds this search as it was without starting cells (image searches start from the ResNet cell by default): {how}"
        ))
    } else {
        error
    }
}

/// Runs the search with its trial store. `former_task` is the evaluator's
/// description as earlier versions wrote it into the store's key, when it
/// differs: such a store is taken over (and its key rewritten) instead of refused.
/// With `--storage postgres://…` this process is one worker of a study: `None`
/// when another worker runs the final stage.
fn run_searcher<S: SearchSpace>(
    searcher: &Searcher<S>,
    strategy: &mut dyn Strategy<S>,
    evaluator: &mut dyn Evaluator<S>,
    former_task: Option<&str>,
    args: &SearchArgs,
    out: &Path,
) -> anyhow::Result<Option<SearchOutcome>> {
    if args.distributed.storage.is_some() {
        return crate::distributed_search::run_study(
            &args.distributed,
            args.time_limit,
            searcher,
            strategy,
            evaluator,
            out,
        );
    }
    let store_path = args
        .store
        .clone()
        .unwrap_or_else(|| out.join("trials.sqlite"));
    let key = searcher.search_key(strategy, evaluator);
    let former_keys: Vec<String> = former_task
        .map(|task| searcher.search_key_for_task(&*strategy, task))
        .into_iter()
        .collect();
    let mut store =
        TrialStore::open_migrating(&store_path, &key, &former_keys).map_err(|error| {
            let stored = match &error {
                SearchError::StoreMismatch { stored, .. } => Some(stored.clone()),
                _ => None,
            };
            let place = match &args.store {
                Some(path) => format!("--store {}", path.display()),
                None => format!("--out {}", out.display()),
            };
            with_starting_cells_hint::<S>(
                error,
                stored.as_deref(),
                &key,
                &format!("resume it with --start-cells none --resume {place}"),
            )
        })?;
    let stored = store.trials()?.len();
    if stored == 0 && args.resume {
        eprintln!(
            "note: {} holds no trials: --resume starts this search from its first query",
            store_path.display()
        );
    }
    if stored > 0 && !args.resume {
        bail!(
            "{} already holds {stored} trials of this search; pass --resume to continue it, or --out/--store for a new one",
            store_path.display()
        );
    }
    eprintln!(
        "searching {} with {} ({})",
        evaluator.describe(),
        strategy.describe(),
        store_path.display()
    );
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} queries  {elapsed_precise} eta {eta}  {msg}",
    ) {
        bar.set_style(style);
    }
    let outcome = searcher.run(strategy, evaluator, Some(&mut store), &mut |p| {
        bar.set_length(p.queries.1 as u64);
        bar.set_position(p.queries.0 as u64);
        if let Some(best) = p.best_objective {
            bar.set_message(format!(
                "best {best:.3}{}",
                if p.replayed { " (replaying store)" } else { "" }
            ));
        }
    })?;
    bar.finish_and_clear();
    Ok(Some(outcome))
}

/// What an image search's results add: the trial handed to the final stage
/// (and by which rule), and the stage's outcome.
#[derive(Default, Clone, Copy)]
struct FinalPart<'a> {
    choice: Option<(FinalChoice, &'a Trial)>,
    rematch: Option<&'a RematchOutcome<'a>>,
    stage: Option<&'a crate::final_stage::FinalStageOutcome>,
}

/// How a search was set up, as `results.json` records it.
struct SearchSetup<'a, S: SearchSpace> {
    searcher: &'a Searcher<S>,
    /// The cells queried first (NAS-Bench-201 text form).
    start_cells: &'a [String],
}

/// Writes `results.json` and the best-so-far plot, and prints the summary.
fn write_results<S: SearchSpace>(
    out: &Path,
    args: &SearchArgs,
    setup: SearchSetup<'_, S>,
    outcome: &SearchOutcome,
    direction: &TaskDirection,
    final_part: FinalPart<'_>,
    predicted: Option<&PredictedLimit>,
) -> anyhow::Result<()> {
    let SearchSetup {
        searcher,
        start_cells,
    } = setup;
    let objective = direction.objective;
    let best = outcome.best_trial();
    // The winner's predicted latency on a device known by its measured cells: measure it.
    let predicted_latency = predicted.and_then(|limit| {
        let cell = searcher.space().parse(&best?.architecture).ok()?;
        let p = limit.predicted.get(searcher.space(), &cell)?;
        Some(json!({
            "device": limit.predicted.device(),
            "mean": p.mean,
            "std": p.std,
            "limit": limit.limit,
            "probability_within_limit": probability_within(&p, limit.limit),
        }))
    });
    let best_curve: Vec<(f64, f64)> = {
        let mut best: Option<f64> = None;
        outcome
            .trials
            .iter()
            .filter_map(|t| {
                if let Some(o) = t.objective()
                    && best.is_none_or(|b| objective.better(o, b))
                {
                    best = Some(o);
                }
                best.map(|b| ((t.index + 1) as f64, b))
            })
            .collect()
    };
    let report_curve = trajectory::best_report_curve(&outcome.trials, objective);
    let results = json!({
        "task": args.task,
        "space": searcher.space().name(),
        "objective": objective,
        "objective_decided_by": direction.source.to_string(),
        "strategy": args.strategy,
        "start_cells": start_cells,
        "seed": args.seed,
        "image_size": args.image_size,
        "speed_weights": (args.speed_weight > 0.0).then(|| {
            let weights = speed_weights(args);
            json!({"faster": weights.faster, "slower": weights.slower})
        }),
        "queries": outcome.trials.len(),
        "replayed_from_store": outcome.replayed,
        "free_repeats": outcome.free_repeats,
        "stop": outcome.stop,
        "best": best.map(|t| json!({
            "query": t.index + 1,
            "architecture": t.architecture,
            "canonical_hash": t.canonical_hash,
            "measurement": t.measurement(),
        })),
        "final_choice": final_part.choice.map(|(rule, t)| json!({
            "rule": rule,
            "query": t.index + 1,
            "architecture": t.architecture,
            "objective": t.objective(),
        })),
        "rematch": final_part.rematch.map(|r| json!({
            "start_query": r.start.index + 1,
            "start": r.rematch.start,
            "start_failures": r.rematch.start_failures,
            "challenger_query": r.challenger.index + 1,
            "challenger": r.rematch.challenger,
            "challenger_failures": r.rematch.challenger_failures,
            "difference": r.rematch.difference(),
            "standard_error": r.rematch.standard_error(r.examples),
            "kept_query": r.kept.index + 1,
        })),
        "best_objective_curve": best_curve.iter().map(|p| p.1).collect::<Vec<_>>(),
        "best_report_curve": report_curve,
        "final": final_part.stage.map(|f| &f.found),
        "references": final_part.stage.map(crate::final_stage::FinalStageOutcome::references_json),
        "best_by_validation": final_part.stage.map(crate::final_stage::FinalStageOutcome::best_by_validation_json),
        "winner_predicted_latency": predicted_latency,
    });
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("writing {}", path.display()))?;
    if best_curve.is_empty() {
        // Nothing to plot: say why instead of failing in the plot.
        let first_failure = outcome.trials.iter().find_map(|t| match &t.outcome {
            TrialOutcome::Failed { error } => Some(error.as_str()),
            TrialOutcome::Finished(_) => None,
        });
        println!("results: {}", path.display());
        match first_failure {
            Some(error) => bail!(
                "no trial finished: all {} failed; the first with: {error}",
                outcome.trials.len()
            ),
            None => {
                println!("no trial finished");
                return Ok(());
            }
        }
    }
    let plot = out.join("best_so_far.png");
    let series = vec![Series {
        name: format!("{} ({})", args.strategy, args.task),
        points: best_curve,
    }];
    line_chart(
        &plot,
        &format!("best so far: {}", args.task),
        "queries",
        "objective",
        &series,
    )?;
    println!("objective: {} {direction}", args.task);
    if let Some(p) = &predicted_latency {
        println!(
            "predicted latency of the best on `{}`: {:.3} ± {:.3} (within {} with probability {:.2}); measure it to confirm",
            p["device"].as_str().unwrap_or_default(),
            p["mean"].as_f64().unwrap_or(f64::NAN),
            p["std"].as_f64().unwrap_or(f64::NAN),
            p["limit"],
            p["probability_within_limit"].as_f64().unwrap_or(f64::NAN)
        );
    }
    match best {
        Some(t) => println!(
            "best after {} queries: {} — objective {:.4}{}{}",
            outcome.trials.len(),
            t.architecture,
            t.objective().unwrap_or(f64::NAN),
            t.measurement()
                .and_then(|m| m.report)
                .map_or(String::new(), |r| format!(", report {r:.4}")),
            t.measurement()
                .filter(|_| args.speed_weight > 0.0)
                .map_or(String::new(), speed_weighted_parts)
        ),
        None => println!("no trial finished"),
    }
    println!("results: {}  plot: {}", path.display(), plot.display());
    crate::distributed_search::final_stage_done()
}

/// What trains an image search's candidates, from the meta-model at `dir`
/// and `--candidate-optimizer` (`None`: the meta-model's AON when it has one,
/// else its chooser, else the search's own optimizer). The AON is the
/// default because on the held-out pairs of `bench-aon` it trains better
/// than the chooser fitted on the shipped table (docs/BENCHMARKS.md).
fn candidate_trainer_of(
    meta: &MetaModel,
    dir: &Path,
    asked: Option<CandidateOptimizerChoice>,
) -> anyhow::Result<Option<CandidateTrainer>> {
    let label = dir.display().to_string();
    let conditioned = || {
        meta.aon_settings
            .clone()
            .map(|c| CandidateTrainer::Conditioned(Box::new((c, meta.aen.clone())), label.clone()))
    };
    let aon = || {
        meta.aon
            .clone()
            .map(|a| CandidateTrainer::Aon(Box::new(a), label.clone()))
    };
    Ok(match asked {
        None => aon().or_else(conditioned),
        Some(CandidateOptimizerChoice::Conditioned) => Some(conditioned().with_context(|| {
            format!(
                "the meta-model {} has no AON settings chooser: make it with `cargo xtask meta-train` (it fits one on the shipped AON settings table), or pass --candidate-optimizer aon",
                dir.display()
            )
        })?),
        Some(CandidateOptimizerChoice::Aon) => Some(aon().with_context(|| {
            format!(
                "the meta-model {} has no AON (it was meta-trained with --aon-steps 0)",
                dir.display()
            )
        })?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `cargo xtask search`'s arguments alone.
    #[derive(Debug, Parser)]
    struct SearchOnly {
        #[command(flatten)]
        args: SearchArgs,
    }

    #[test]
    fn an_image_size_is_two_sides_for_a_folder_only_and_large_images_get_a_note() {
        let reading =
            image_file_reading(Some(&[24, 32]), DatasetFormat::Folder).expect("a valid size");
        assert_eq!(reading.resize_to, Some([24, 32]));
        assert_eq!(
            image_file_reading(None, DatasetFormat::Folder).expect("no size"),
            ImageFileReading::as_stored()
        );
        let message = |size: &[usize], format| {
            image_file_reading(Some(size), format)
                .expect_err("refused")
                .to_string()
        };
        assert!(message(&[32], DatasetFormat::Folder).contains("two numbers H,W"));
        assert!(message(&[0, 32], DatasetFormat::Folder).contains("at least 1"));
        assert!(message(&[32, 32], DatasetFormat::Csv).contains("folder --dataset"));
        assert!(message(&[32, 32], DatasetFormat::Idx).contains("folder --dataset"));

        let dataset = |side: usize| {
            ImageDataset::new(vec![0.5; 3 * side * side], vec![0], [3, side, side], 1)
                .expect("a valid one-image dataset")
        };
        assert_eq!(large_images_note(&dataset(64)), None);
        let note = large_images_note(&dataset(65)).expect("65×65 is large");
        assert!(
            note.contains("65×65") && note.contains("--image-size"),
            "{note}"
        );
    }

    #[test]
    fn labels_without_images_are_named_and_a_compact_numbering_is_not() {
        let dataset = |labels: Vec<usize>, classes: usize| {
            ImageDataset::new(vec![0.5; labels.len()], labels, [1, 1, 1], classes)
                .expect("a valid one-pixel dataset")
        };
        let note = empty_classes_note(&dataset(vec![1, 2, 3, 4, 1], 5)).expect("label 0 is empty");
        assert!(note.starts_with("label 0 has no image"), "{note}");
        assert!(
            note.contains("5 outputs, 1 of them never trained"),
            "{note}"
        );
        let note = empty_classes_note(&dataset(vec![0, 2, 7], 8)).expect("labels 1, 3-6 are empty");
        assert!(
            note.starts_with("labels 1, 3, 4, 5, 6 have no image"),
            "{note}"
        );
        assert!(note.contains("0..=7"), "{note}");
        assert_eq!(empty_classes_note(&dataset(vec![0, 1, 2, 1], 3)), None);
    }

    #[test]
    fn candidates_train_equal_steps_unless_time_is_asked() {
        let length = |arguments: &[&str]| {
            SearchOnly::parse_from(std::iter::once("search").chain(arguments.iter().copied()))
                .args
                .candidate_length
        };
        assert_eq!(length(&[]), CandidateLength::Steps);
        assert_eq!(
            length(&["--candidate-length", "time"]),
            CandidateLength::Time
        );
        assert!(SearchOnly::try_parse_from(["search", "--candidate-length", "epochs"]).is_err());
    }

    #[test]
    fn a_speed_weight_is_refused_where_it_cannot_apply() {
        let check = |arguments: &[&str], is_table_task: bool| {
            let parsed =
                SearchOnly::parse_from(std::iter::once("search").chain(arguments.iter().copied()));
            check_speed_weight(&parsed.args, is_table_task).map_err(|e| e.to_string())
        };
        assert!(check(&[], false).is_ok());
        assert!(check(&["--speed-weight", "0.07"], false).is_ok());
        assert!(check(&["--speed-weight", "0"], true).is_ok());
        let refusal = |arguments: &[&str], is_table_task: bool, names: &str| {
            let message = check(arguments, is_table_task).expect_err("refused");
            assert!(message.contains(names), "{message}");
        };
        refusal(&["--speed-weight=-1"], false, "non-negative");
        refusal(&["--speed-weight", "NaN"], false, "non-negative");
        refusal(&["--speed-weight", "0.07"], true, "table lookup");
        refusal(&["--no-speed-bonus"], false, "give a weight too");
        refusal(&["--no-speed-bonus"], true, "table lookup");
        assert!(check(&["--speed-weight", "0.07", "--no-speed-bonus"], false).is_ok());
        refusal(
            &["--speed-weight", "0.07", "--candidate-length", "time"],
            false,
            "--speed-weight 0",
        );
        refusal(
            &[
                "--speed-weight",
                "0.07",
                "--final-choice",
                "cheapest-within-error",
            ],
            false,
            "use one of the two",
        );
    }

    #[test]
    fn image_searches_start_from_the_resnet_cell_and_keep_it_unless_beaten() {
        let parsed = |arguments: &[&str]| {
            SearchOnly::parse_from(std::iter::once("search").chain(arguments.iter().copied())).args
        };
        let cells = |arguments: &[&str], is_table_task: bool| {
            start_cells(&parsed(arguments), is_table_task)
                .map(|cells| {
                    cells
                        .iter()
                        .map(|c| Nb201Space.format(c))
                        .collect::<Vec<_>>()
                })
                .map_err(|e| format!("{e:#}"))
        };
        let resnet = ReferenceCell::Resnet.architecture().to_string();
        let largest = ReferenceCell::Largest.architecture().to_string();
        assert_eq!(cells(&[], false), Ok(vec![resnet.clone()]));
        assert_eq!(cells(&[], true), Ok(Vec::new()));
        assert_eq!(cells(&["--start-cells", "none"], false), Ok(Vec::new()));
        assert_eq!(
            cells(&["--start-cells", "largest, resnet"], true),
            Ok(vec![largest, resnet.clone()])
        );
        let own = "|skip_connect~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|avg_pool_3x3~2|";
        assert_eq!(
            cells(&["--start-cells", own], false),
            Ok(vec![own.to_string()])
        );
        for (list, names) in [
            ("resnt", REFERENCE_NAMES),
            ("|conv~0|", "not a NAS-Bench-201 cell"),
            (",", "`none`"),
        ] {
            let message = cells(&["--start-cells", list], false).expect_err("refused");
            assert!(message.contains(names), "{list}: {message}");
        }
        assert_eq!(
            cells(&["--start-cells", "resnet,largest,resnet"], false).map(|c| c.len()),
            Ok(2),
            "each cell once"
        );
        assert_eq!(
            final_choice(&parsed(&[]), true),
            FinalChoice::StartWithinError
        );
        assert_eq!(final_choice(&parsed(&[]), false), FinalChoice::Best);
        assert_eq!(
            final_choice(&parsed(&["--speed-weight", "0.07"]), true),
            FinalChoice::Best
        );
        assert_eq!(
            final_choice(&parsed(&["--final-choice", "best"]), true),
            FinalChoice::Best
        );
        // --rematch-repeats only where a rematch can happen.
        let rematch = |arguments: &[&str], has_starting_cells| {
            let args = parsed(arguments);
            check_rematch_repeats(&args, final_choice(&args, has_starting_cells))
                .map_err(|e| e.to_string())
        };
        assert!(rematch(&["--rematch-repeats", "3"], true).is_ok());
        assert!(rematch(&["--final-choice", "best"], true).is_ok());
        // 0 asks for no rematch, which every rule can do.
        assert!(rematch(&["--rematch-repeats", "0", "--final-choice", "best"], true).is_ok());
        assert!(rematch(&["--rematch-repeats", "0"], false).is_ok());
        for (arguments, has_starting_cells) in [
            (
                &["--rematch-repeats", "3", "--final-choice", "best"][..],
                true,
            ),
            (&["--rematch-repeats", "3"][..], false),
            (
                &[
                    "--rematch-repeats",
                    "1",
                    "--final-choice",
                    "cheapest-within-error",
                ][..],
                true,
            ),
        ] {
            let message = rematch(arguments, has_starting_cells).expect_err("refused");
            assert!(
                message.contains("drop --rematch-repeats"),
                "{arguments:?}: {message}"
            );
        }
    }

    /// Scores the ResNet cell 77.5 % and any other cell 76.8 %, every time.
    struct FixedScores;

    impl Evaluator<Nb201Space> for FixedScores {
        fn describe(&self) -> String {
            "fixed scores".into()
        }
        fn objective(&self) -> Objective {
            Objective::Maximize
        }
        fn evaluate(
            &mut self,
            arch: &Nb201Cell,
            _: u64,
        ) -> metanas_search::Result<metanas_search::Measurement> {
            let resnet = Nb201Space.format(arch) == ReferenceCell::Resnet.architecture();
            Ok(metanas_search::Measurement::of(if resnet {
                77.5
            } else {
                76.8
            }))
        }
    }

    #[test]
    fn a_candidate_that_beat_the_starting_cell_once_must_beat_it_again() {
        let parsed = |arguments: &[&str]| {
            SearchOnly::parse_from(std::iter::once("search").chain(arguments.iter().copied())).args
        };
        let trial = |index: usize, text: &str, accuracy: f64| {
            let cell = Nb201Space.parse(text).expect("a cell");
            let mut measured = metanas_search::Measurement::of(accuracy);
            measured.details.insert(VALIDATION_EXAMPLES.into(), 2000.0);
            Trial {
                index,
                architecture: text.into(),
                canonical_hash: Nb201Space.canonical_hash(&cell).to_string(),
                outcome: TrialOutcome::Finished(measured),
                seconds: 1.0,
            }
        };
        let resnet = ReferenceCell::Resnet.architecture();
        let other =
            "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|";
        // One unlucky run of the ResNet cell: 73.0 against the other's 78.0,
        // 5 points where one standard error is 0.93.
        let outcome = SearchOutcome {
            trials: vec![trial(0, resnet, 73.0), trial(1, other, 78.0)],
            best: Some(1),
            replayed: 0,
            free_repeats: 0,
            stop: metanas_search::StopReason::QueryBudget,
        };
        let starting = vec![outcome.trials[0].canonical_hash.clone()];
        let rule = FinalChoice::StartWithinError;
        let chosen = chosen_trial(rule, &outcome, &starting).expect("chosen");
        assert_eq!(chosen.map(|t| t.index), Some(1));
        // Two more runs each: 73.0, 77.5, 77.5 (mean 76.0, spread 2.6) against
        // 78.0, 76.8, 76.8 (mean 77.2): 1.2 points, one standard error 1.59.
        let (kept, rematch) = rematched(
            &parsed(&[]),
            rule,
            &outcome,
            &starting,
            chosen,
            &mut FixedScores,
        )
        .expect("rematched");
        assert_eq!(kept.map(|t| t.index), Some(0), "the starting cell is kept");
        let rematch = rematch.expect("a rematch");
        assert_eq!(rematch.rematch.start, [73.0, 77.5, 77.5]);
        assert_eq!(rematch.rematch.challenger, [78.0, 76.8, 76.8]);
        assert_eq!(rematch.kept.index, 0);
        // No rematch: asked for none, another rule, or the starting cell chosen.
        for (arguments, rule, chosen) in [
            (&["--rematch-repeats", "0"][..], rule, chosen),
            (&[][..], FinalChoice::Best, chosen),
            (&[][..], rule, outcome.trials.first()),
        ] {
            let (kept, rematch) = rematched(
                &parsed(arguments),
                rule,
                &outcome,
                &starting,
                chosen,
                &mut FixedScores,
            )
            .expect("as chosen");
            assert!(rematch.is_none());
            assert_eq!(kept.map(|t| t.index), chosen.map(|t| t.index));
        }
    }

    fn default_out_of(arguments: &[&str]) -> PathBuf {
        let parsed =
            SearchOnly::parse_from(std::iter::once("search").chain(arguments.iter().copied()));
        default_out(&parsed.args)
    }

    #[test]
    fn the_readme_searches_get_their_own_default_folders() {
        let plain = default_out_of(&[]);
        let meta = default_out_of(&["--meta-model", "runs/meta-model"]);
        assert_eq!(plain, PathBuf::from("runs/search/fashion-mnist-bo-seed0"));
        assert_eq!(
            meta,
            PathBuf::from("runs/search/fashion-mnist-meta-bo-seed0")
        );
        assert_eq!(
            default_out_of(&["--start-cells", "none"]),
            PathBuf::from("runs/search/fashion-mnist-bo-seed0-no-start")
        );
        assert_eq!(
            default_out_of(&["--start-cells", "resnet, largest"]),
            PathBuf::from("runs/search/fashion-mnist-bo-seed0-start-resnet-largest")
        );
        assert_eq!(
            default_out_of(&["--start-cells", ReferenceCell::Largest.architecture()]),
            PathBuf::from("runs/search/fashion-mnist-bo-seed0-own-start-26dd2dda")
        );
        // Another list of the user's own cells, another folder; the same cells
        // in another order, repeated or with other spaces, the same folder.
        let own = |list: &str| default_out_of(&["--start-cells", list]);
        let (largest, resnet) = (
            ReferenceCell::Largest.architecture(),
            ReferenceCell::Resnet.architecture(),
        );
        assert_ne!(own(largest), own(resnet));
        assert_ne!(own(largest), own(&format!("{largest},{resnet}")));
        assert_eq!(
            own(&format!("{largest},{resnet}")),
            own(&format!(" {resnet} , {largest},{resnet}"))
        );
        assert_eq!(
            default_out_of(&[
                "--task",
                "c100_valid",
                "--strategy",
                "evolution",
                "--seed",
                "3"
            ]),
            PathBuf::from("runs/search/c100_valid-evolution-seed3")
        );
    }
}
