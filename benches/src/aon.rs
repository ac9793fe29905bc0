//! `cargo xtask bench-aon`: the AON's Must-show table.
//!
//! Meta-trains an AON on MNIST class-subset tasks with meta-training cells (or
//! loads one), tunes Adam's and SGD-Nesterov's learning rates on MNIST tasks,
//! then trains 20 held-out (Fashion-MNIST task, unseen cell) pairs with each
//! optimizer and prints the table. Every number is measured here, seeded.

use crate::statistics::mean_sd;
use anyhow::Context;
use metanas_aon::{
    Aon, AonMetaTrainer, AonMetaTrainerConfig, AonStart, Baseline, CandidateOutcome,
    CandidateTraining, CellPool, InnerProblem, InnerProblemConfig, InnerProblemSampler,
    LearningRateTuning, MetaGradientMethod, SettingsGrid, SettingsOutcome, best_outcome,
    mean_final_loss_with_aon, sweep_settings, train_with_aon, train_with_optimizer,
    train_with_settings, tune_blend, tune_learning_rate,
};
use metanas_data::shipped;
use metanas_device::BackendChoice;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

mod chooser;
mod oracle;
mod reach;
mod reuse;

use reach::{ReachCache, shortest_reaching_run};

/// Arguments of `cargo xtask bench-aon`.
#[derive(Debug, clap::Args)]
pub struct BenchAonArgs {
    /// Load this AON (a folder with aon.json and aon.bpk) instead of meta-training one.
    #[arg(long)]
    pub aon: Option<PathBuf>,
    /// Folder for the meta-trained AON, the trainer checkpoint and results.json.
    #[arg(long, default_value = "target/bench-aon")]
    pub out: PathBuf,
    /// Meta-steps of meta-training (each advances a problem by one window of `--unroll` steps).
    #[arg(long, default_value_t = 100)]
    pub meta_steps: usize,
    /// Steps per meta-training window (the unroll `T`).
    #[arg(long, default_value_t = 20)]
    pub unroll: usize,
    /// Meta-gradient estimator: evolution (antithetic ES) or first-order (truncated).
    #[arg(long, default_value = "evolution")]
    pub method: String,
    /// Meta-train the AON with the run-feedback inputs (loss relative to its start, trend, progress).
    #[arg(long)]
    pub feedback: bool,
    /// Rate of the AON's online per-tensor step-size adaptation by
    /// hypergradients (`AonConfig::hypergradient_rate`; 0: none).
    #[arg(long, default_value_t = 0.0)]
    pub hypergradient_rate: f64,
    /// Where meta-training starts: `blend` (half of tuned Adam's rate plus
    /// half of tuned SGD-Nesterov's, through the AON's two directions) or
    /// `adam` (tuned Adam alone).
    #[arg(long, default_value_t = AonStart::Blend)]
    pub start: AonStart,
    /// With `--start blend`: choose the blend's two step sizes by grid
    /// (0.25, 0.5, 0.75 and 1 × each tuned rate) on the MNIST tuning problems,
    /// as the baselines' rates are chosen, instead of half of each.
    #[arg(long)]
    pub blend_grid: bool,
    /// Adam learning rate of the AON's weights.
    #[arg(long, default_value_t = 1e-3)]
    pub meta_learning_rate: f64,
    /// Antithetic pairs per problem and meta-step (evolution strategies).
    #[arg(long, default_value_t = 2)]
    pub es_pairs: usize,
    /// Perturbation scale of evolution strategies.
    #[arg(long, default_value_t = 0.01)]
    pub es_sigma: f64,
    /// Inner problems advanced (and averaged) per meta-step.
    #[arg(long, default_value_t = 1)]
    pub problems_per_step: usize,
    /// Held-out (Fashion-MNIST task, unseen cell) pairs.
    #[arg(long, default_value_t = 20)]
    pub pairs: usize,
    /// Training steps `K` of every compared run.
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Longest tuned-Adam run tried when measuring how many steps Adam needs
    /// to reach a loss (default 10 × `--steps`).
    #[arg(long)]
    pub reach_limit: Option<usize>,
    /// Also measure the ceiling of a per-candidate choice of the update
    /// rule's settings: train every pair with each setting of a grid (a fresh
    /// AON: Adam steps 3e-4…3e-2 × SGD-Nesterov off or 0.01…0.3), take each
    /// pair's best by its own validation loss (the per-pair oracle) and the
    /// best single setting over the pairs, and how many steps tuned Adam
    /// needs to reach each.
    #[arg(long)]
    pub oracle: bool,
    /// With `--oracle`: fit the architecture-conditioned choice of settings on
    /// this table of measured MNIST runs (`cargo xtask aon-table`) and score it,
    /// its best single setting and the choice with features shuffled across
    /// pairs, on the held-out pairs' sweeps.
    #[arg(long)]
    pub chooser_table: Option<PathBuf>,
    /// Meta-model whose AEN embeds the cells for `--chooser-table` (without
    /// it the choice reads the plain features alone).
    #[arg(long)]
    pub meta_model: Option<PathBuf>,
    /// Reuse the held-out pairs' measurements (baselines, sweeps, Adam runs
    /// reaching them) of an earlier run's results.json with the same AON,
    /// Adam rate, `--steps`, `--seed` and grid, and measure only what it lacks
    /// (new choices, further pairs). Every run is seeded, so the numbers are
    /// those a full run would measure.
    #[arg(long)]
    pub reuse_pairs: Option<PathBuf>,
    /// Warm-up lengths of the oracle's grid (steps; comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub oracle_warmup: Vec<usize>,
    /// Pairs also trained by the AON for 5× the horizon (stability).
    #[arg(long, default_value_t = 5)]
    pub stability_pairs: usize,
    /// Score the AON on MNIST validation problems every this many meta-steps and keep the best checkpoint (the initial, Adam-like AON included).
    #[arg(long, default_value_t = 25)]
    pub validate_every: usize,
    /// MNIST validation problems (meta-training distribution) that choose the checkpoint.
    #[arg(long, default_value_t = 3)]
    pub validation_problems: usize,
    /// MNIST problems the baselines' learning rates are tuned on.
    #[arg(long, default_value_t = 3)]
    pub tuning_problems: usize,
    /// Skip Adam's grid search and use this rate.
    #[arg(long)]
    pub adam_rate: Option<f64>,
    /// Skip SGD-Nesterov's grid search and use this rate.
    #[arg(long)]
    pub sgd_rate: Option<f64>,
    /// Seed of everything (tasks, cells, weights).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Backend: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    pub device: BackendChoice,
    /// A ~2-minute smoke run: 8 meta-steps, 3 pairs, 1 tuning problem, 1 stability pair, 2-point grids.
    #[arg(long)]
    pub quick: bool,
}

/// One held-out pair's measurements.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PairResult {
    problem: String,
    aon: RunSummary,
    adam: RunSummary,
    sgd: RunSummary,
    /// Length of the shortest tuned-Adam run (its own cosine schedule, lengths
    /// in steps of 10) whose final validation loss ≤ the AON's K-step loss
    /// (`None`: no run up to `reach_limit`). The goal is measured on this.
    adam_steps_to_aon: Option<usize>,
    /// The first evaluated step (every 10) of one Adam run of K steps, or of
    /// 2K steps if the K-step run does not get there, at which its validation
    /// loss ≤ the AON's (a mid-run point of a longer schedule, not a run of
    /// that length; a looser measure than `adam_steps_to_aon`).
    adam_step_within_run: Option<usize>,
    /// AON at 5× the horizon, if measured.
    aon_long: Option<RunSummary>,
    /// With `--oracle`: every grid setting's run on this pair.
    sweep: Vec<SettingsOutcome>,
    /// With `--oracle`: the shortest tuned-Adam run reaching the pair's best setting's loss.
    adam_steps_to_oracle: Option<usize>,
    /// With `--oracle`: other ways of choosing a setting on the grid, each
    /// with its loss and the shortest tuned-Adam run reaching it.
    #[serde(default)]
    choices: Vec<SettingsChoice>,
    /// With `--chooser-table`, on the first `--stability-pairs` pairs: the
    /// conditioned choice's settings trained for 5× the horizon.
    #[serde(default)]
    conditioned_long: Option<RunSummary>,
}

/// The name of the architecture-conditioned choice among the choices.
const CONDITIONED_CHOICE: &str = "conditioned on the candidate";

/// One way of choosing the update rule's settings, on one pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SettingsChoice {
    name: String,
    settings: metanas_aon::UpdateSettings,
    loss: f64,
    adam_steps: Option<usize>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct RunSummary {
    loss: f64,
    accuracy: f64,
    diverged: bool,
    seconds: f64,
}

impl RunSummary {
    fn of(outcome: &CandidateOutcome) -> Self {
        let validation = outcome.final_validation();
        Self {
            loss: validation.map_or(f64::INFINITY, |e| e.loss),
            accuracy: validation.map_or(0.0, |e| e.accuracy),
            diverged: outcome.diverged_at.is_some(),
            seconds: outcome.report.as_ref().map_or(0.0, |r| r.seconds),
        }
    }
}

#[derive(Debug, Serialize)]
struct Results {
    aon_source: String,
    /// The blend grid, when `--blend-grid` chose the start.
    blend: Option<metanas_aon::BlendTuning>,
    meta_training_seconds: f64,
    adam: LearningRateTuning,
    sgd: LearningRateTuning,
    steps: usize,
    reach_limit: usize,
    /// With `--oracle`: the setting with the lowest mean loss over the pairs.
    best_single_setting: Option<metanas_aon::UpdateSettings>,
    /// With `--chooser-table`: what the chooser was fitted on, and its cross-validation.
    chooser: Option<metanas_meta::SettingsChooserRecord>,
    pairs: Vec<PairResult>,
    seconds: f64,
}

fn tuning(
    baseline: Baseline,
    fixed: Option<f64>,
    grid: &[f64],
    problems: &[InnerProblem],
    training: CandidateTraining,
    device: &burn::tensor::Device,
) -> anyhow::Result<LearningRateTuning> {
    if let Some(rate) = fixed {
        return Ok(LearningRateTuning {
            baseline,
            best_rate: rate,
            mean_losses: Vec::new(),
        });
    }
    let start = Instant::now();
    let result = tune_learning_rate(baseline, grid, problems, training, device)?;
    eprintln!(
        "tuned {} on {} MNIST problems in {:.0} s: {}  → {}",
        baseline.name(),
        problems.len(),
        start.elapsed().as_secs_f64(),
        result
            .mean_losses
            .iter()
            .map(|(r, l)| format!("{r}: {l:.4}"))
            .collect::<Vec<_>>()
            .join(", "),
        result.best_rate
    );
    Ok(result)
}

/// What every held-out pair is measured with.
struct PairSetup<'a> {
    aon: &'a Aon,
    adam_rate: f64,
    sgd_rate: f64,
    training: CandidateTraining,
    reach_limit: usize,
    within_run_limit: usize,
    /// The oracle's grid (empty without `--oracle`).
    oracle_settings: &'a [metanas_aon::UpdateSettings],
    device: &'a burn::tensor::Device,
}

/// Records the Adam runs an earlier run measured on pair `i`.
fn record_known_reaches(cache: &mut ReachCache, i: usize, pair: &PairResult) {
    cache.record(i, pair.aon.loss, pair.adam_steps_to_aon);
    if let Some(best) = best_outcome(&pair.sweep) {
        cache.record(i, best.loss, pair.adam_steps_to_oracle);
    }
    for choice in &pair.choices {
        cache.record(i, choice.loss, choice.adam_steps);
    }
}

/// Trains held-out pair `i` of `pairs` with the AON and the baselines (and,
/// with the oracle's grid, every setting of it), and measures how many steps
/// tuned Adam needs to reach each; `stability` adds the AON at 5× the horizon.
fn measure_pair(
    setup: &PairSetup,
    problem: &InnerProblem,
    (i, pairs): (usize, usize),
    stability: bool,
    cache: &mut ReachCache,
) -> anyhow::Result<PairResult> {
    let PairSetup {
        training,
        reach_limit,
        within_run_limit,
        device,
        ..
    } = *setup;
    let k = training.steps;
    let aon_run = train_with_aon(problem, setup.aon, training, device)?;
    let adam_training = CandidateTraining {
        eval_every: 10,
        ..training
    };
    let adam_run = train_with_optimizer(
        problem,
        Baseline::Adam.optimizer(setup.adam_rate),
        adam_training,
        device,
    )?;
    let sgd_run = train_with_optimizer(
        problem,
        Baseline::SgdNesterov.optimizer(setup.sgd_rate),
        training,
        device,
    )?;
    let aon_summary = RunSummary::of(&aon_run);
    let target = aon_summary.loss;
    let reach = |target: f64| {
        shortest_reaching_run(
            problem,
            setup.adam_rate,
            target,
            adam_run.final_loss(),
            reach_limit,
            training,
            device,
        )
    };
    let adam_steps_to_aon = cache.get_or_measure(i, target, || reach(target))?;
    let adam_step_within_run = match first_reaching(&adam_run, target) {
        Some(step) => Some(step),
        None if target.is_finite() => {
            let long = CandidateTraining {
                steps: within_run_limit,
                eval_every: 10,
                ..training
            };
            let long_run = train_with_optimizer(
                problem,
                Baseline::Adam.optimizer(setup.adam_rate),
                long,
                device,
            )?;
            first_reaching(&long_run, target)
        }
        None => None,
    };
    let aon_long = if stability {
        let long = CandidateTraining {
            steps: 5 * k,
            ..training
        };
        Some(RunSummary::of(&train_with_aon(
            problem, setup.aon, long, device,
        )?))
    } else {
        None
    };
    let (sweep, adam_steps_to_oracle) = if !setup.oracle_settings.is_empty() {
        let sweep = sweep_settings(problem, setup.oracle_settings, training, device)?;
        let best = best_outcome(&sweep);
        let best_loss = best.map_or(f64::INFINITY, |o| o.loss);
        let steps = cache.get_or_measure(i, best_loss, || reach(best_loss))?;
        if let Some(o) = best {
            eprintln!(
                "          best of {} settings: {} at {:.4}; shortest Adam run reaching it {}",
                sweep.len(),
                o.settings,
                o.loss,
                steps.map_or(format!(">{reach_limit}"), |s| s.to_string())
            );
        }
        (sweep, steps)
    } else {
        (Vec::new(), None)
    };
    let adam_summary = RunSummary::of(&adam_run);
    let sgd_summary = RunSummary::of(&sgd_run);
    eprintln!(
        "pair {:>2}/{pairs}: AON {:.4} ({:.1}%)  Adam {:.4}  SGD {:.4}  shortest Adam run reaching the AON {} (within one run {}){}  — {}",
        i + 1,
        aon_summary.loss,
        100.0 * aon_summary.accuracy,
        adam_summary.loss,
        sgd_summary.loss,
        adam_steps_to_aon.map_or(format!(">{reach_limit}"), |s| s.to_string()),
        adam_step_within_run.map_or(format!(">{within_run_limit}"), |s| s.to_string()),
        aon_long.map_or(String::new(), |l| format!(
            ", AON at {}: {:.4}",
            5 * k,
            l.loss
        )),
        problem.describe()
    );
    Ok(PairResult {
        problem: problem.describe(),
        aon: aon_summary,
        adam: adam_summary,
        sgd: sgd_summary,
        adam_steps_to_aon,
        adam_step_within_run,
        aon_long,
        sweep,
        adam_steps_to_oracle,
        choices: Vec::new(),
        conditioned_long: None,
    })
}

/// Of runs at K paired with the same runs at 5× K (their K-step loss and the
/// long run): how many long runs diverged, their mean finite loss, and the
/// mean K-step loss.
fn stability(runs: &[(f64, RunSummary)]) -> (usize, f64, f64) {
    let diverged = runs.iter().filter(|(_, l)| l.diverged).count();
    let finite: Vec<f64> = runs
        .iter()
        .map(|(_, l)| l.loss)
        .filter(|l| l.is_finite())
        .collect();
    let (long_mean, _) = mean_sd(&finite);
    let (short_mean, _) = mean_sd(&runs.iter().map(|(s, _)| *s).collect::<Vec<_>>());
    (diverged, long_mean, short_mean)
}

/// The first evaluated step whose validation loss is at most `target`.
fn first_reaching(outcome: &CandidateOutcome, target: f64) -> Option<usize> {
    outcome
        .report
        .as_ref()?
        .validations
        .iter()
        .find(|(_, e)| e.loss <= target)
        .map(|(s, _)| *s)
}

/// Runs the benchmark and prints the table (markdown) on stdout, progress on stderr.
pub fn run(args: &BenchAonArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let device = args.device.device();
    let (meta_steps, pairs, tuning_problems, stability_pairs, validation_problems) = if args.quick {
        (8, 3, 1, 1, 1)
    } else {
        (
            args.meta_steps,
            args.pairs,
            args.tuning_problems,
            args.stability_pairs,
            args.validation_problems,
        )
    };
    let (adam_grid, sgd_grid): (&[f64], &[f64]) = if args.quick {
        (&[3e-3, 1e-2], &[0.03, 0.1])
    } else {
        (&[1e-3, 3e-3, 1e-2, 3e-2], &[0.01, 0.03, 0.1, 0.3])
    };
    let method = match args.method.as_str() {
        "first-order" => MetaGradientMethod::FirstOrder,
        "evolution" => MetaGradientMethod::Evolution,
        other => anyhow::bail!("unknown --method `{other}`; expected first-order or evolution"),
    };
    let k = args.steps;
    anyhow::ensure!(k > 0 && pairs > 0, "--steps and --pairs must be positive");
    anyhow::ensure!(
        args.chooser_table.is_none() || args.oracle,
        "--chooser-table is scored on the held-out pairs' sweeps: it needs --oracle"
    );
    anyhow::ensure!(
        !args.blend_grid || (args.start == AonStart::Blend && args.aon.is_none()),
        "--blend-grid chooses where meta-training starts: it needs --start blend and no --aon"
    );
    let problems = InnerProblemConfig::new().with_horizon(k);
    let training = CandidateTraining {
        steps: k,
        batch_size: problems.batch_size,
        eval_every: 0,
    };
    let mnist = shipped::mnist10k().context("shipped MNIST")?;
    let fashion = shipped::fashion_mnist_test().context("shipped Fashion-MNIST")?;

    // 1. Baselines tuned on meta-training (MNIST) problems, same schedule and steps.
    let meta_sampler =
        InnerProblemSampler::new(problems.clone(), mnist.clone(), CellPool::MetaTraining)?;
    let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(1000));
    let tune: Vec<InnerProblem> = (0..tuning_problems.max(1))
        .map(|_| meta_sampler.sample(&mut rng))
        .collect();
    let adam = tuning(
        Baseline::Adam,
        args.adam_rate,
        adam_grid,
        &tune,
        training,
        &device,
    )?;
    let sgd = tuning(
        Baseline::SgdNesterov,
        args.sgd_rate,
        sgd_grid,
        &tune,
        training,
        &device,
    )?;

    // 2. The AON: loaded, or meta-trained from Adam's tuned rate.
    let meta_start = Instant::now();
    let blend = if args.blend_grid {
        let start = Instant::now();
        let fractions: &[f64] = if args.quick {
            &[0.5, 1.0]
        } else {
            &[0.25, 0.5, 0.75, 1.0]
        };
        let tuned = tune_blend(
            adam.best_rate,
            sgd.best_rate,
            fractions,
            &tune,
            training,
            &device,
        )?;
        eprintln!(
            "tuned the blend on {} MNIST problems in {:.0} s: {}  → Adam {} + SGD-Nesterov {}",
            tune.len(),
            start.elapsed().as_secs_f64(),
            tuned
                .mean_losses
                .iter()
                .map(|(a, s, l)| format!("{a}+{s}: {l:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            tuned.adam_step,
            tuned.sgd_nesterov_step
        );
        Some(tuned)
    } else {
        None
    };
    let (aon, aon_source) = match &args.aon {
        Some(dir) => (
            Aon::load(dir, &device)
                .with_context(|| format!("loading the AON from {}", dir.display()))?,
            dir.display().to_string(),
        ),
        None => {
            let initial = blend.as_ref().map_or_else(
                || args.start.config(adam.best_rate, sgd.best_rate),
                |b| b.config(),
            );
            let config = AonMetaTrainerConfig::new(
                initial
                    .clone()
                    .with_use_feedback(args.feedback)
                    .with_hypergradient_rate(args.hypergradient_rate),
                problems.clone(),
            )
            .with_unroll(args.unroll)
            .with_method(method)
            .with_meta_learning_rate(args.meta_learning_rate)
            .with_es_pairs(args.es_pairs)
            .with_es_sigma(args.es_sigma)
            .with_problems_per_step(args.problems_per_step)
            .with_seed(args.seed);
            let mut trainer = AonMetaTrainer::new(config, mnist.clone(), &device)?;
            let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(2000));
            let mut validation_rng = StdRng::seed_from_u64(args.seed.wrapping_add(4000));
            let validation: Vec<InnerProblem> = (0..validation_problems.max(1))
                .map(|_| meta_sampler.sample(&mut validation_rng))
                .collect();
            let mut best = (
                mean_final_loss_with_aon(&trainer.aon(), &validation, training, &device)?,
                0usize,
                trainer.aon(),
            );
            eprintln!(
                "meta-validation at meta-step 0 (the untrained start): {:.4}",
                best.0
            );
            let mut window = Vec::new();
            while trainer.meta_steps() < meta_steps {
                let chunk = args
                    .validate_every
                    .max(1)
                    .min(meta_steps - trainer.meta_steps());
                trainer.run(chunk, &mut rng, |r| {
                    window.push(r.meta_loss);
                    if (r.step + 1) % 10 == 0 || r.step + 1 == meta_steps {
                        let (m, _) = mean_sd(&window);
                        eprintln!(
                            "meta-step {:>4}/{meta_steps}: meta-loss {m:.4} (mean of {}), |g| {:.3}, {:.1} s/step",
                            r.step + 1,
                            window.len(),
                            r.gradient_norm,
                            r.seconds
                        );
                        window.clear();
                    }
                })?;
                let score =
                    mean_final_loss_with_aon(&trainer.aon(), &validation, training, &device)?;
                eprintln!(
                    "meta-validation at meta-step {}: {score:.4} (best {:.4} at {})",
                    trainer.meta_steps(),
                    best.0,
                    best.1
                );
                if score < best.0 {
                    best = (score, trainer.meta_steps(), trainer.aon());
                }
            }
            trainer.save(&args.out.join("trainer"))?;
            let (score, at, aon) = best;
            aon.save(&args.out.join("aon"))?;
            eprintln!(
                "saved the AON of meta-step {at} (meta-validation {score:.4}) to {}",
                args.out.join("aon").display()
            );
            (
                aon,
                format!(
                    "meta-trained {meta_steps} meta-steps ({method:?}, T = {}, meta lr {}, {} problem(s) per step, ES {} pairs σ {}, feedback {}, hypergradient rate {}, start: Adam {}{}), checkpoint of meta-step {at} chosen on {} MNIST validation problems",
                    args.unroll,
                    args.meta_learning_rate,
                    args.problems_per_step,
                    args.es_pairs,
                    args.es_sigma,
                    args.feedback,
                    args.hypergradient_rate,
                    initial.initial_step,
                    initial
                        .initial_momentum_step
                        .map_or(String::new(), |m| format!(" + SGD-Nesterov {m}")),
                    validation.len()
                ),
            )
        }
    };
    let meta_training_seconds = meta_start.elapsed().as_secs_f64();

    // 3. Held-out pairs: Fashion-MNIST tasks, cells never seen in meta-training.
    let held_out = InnerProblemSampler::new(problems.clone(), fashion, CellPool::HeldOut)?;
    let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(3000));
    let reach_limit = args.reach_limit.unwrap_or(10 * k);
    // One Adam run of 2K steps is the looser, within-run measure's limit.
    let within_run_limit = 2 * k;
    let oracle_settings = if args.oracle {
        SettingsGrid {
            warmup_steps: args.oracle_warmup.clone(),
            ..SettingsGrid::default()
        }
        .settings()?
    } else {
        Vec::new()
    };
    let reused = match &args.reuse_pairs {
        Some(path) => Some(reuse::ReusedPairs::load(
            path,
            &aon_source,
            adam.best_rate,
            k,
            reach_limit,
        )?),
        None => None,
    };
    let mut reach_cache = ReachCache::default();
    let setup = PairSetup {
        aon: &aon,
        adam_rate: adam.best_rate,
        sgd_rate: sgd.best_rate,
        training,
        reach_limit,
        within_run_limit,
        oracle_settings: &oracle_settings,
        device: &device,
    };
    let mut results = Vec::with_capacity(pairs);
    let mut held_out_problems = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let problem = held_out.sample(&mut rng);
        let stored = match &reused {
            Some(reused) => reused.pair(i, &problem, &oracle_settings)?,
            None => None,
        };
        let result = match stored {
            Some(mut stored) => {
                record_known_reaches(&mut reach_cache, i, &stored);
                stored.choices.clear();
                stored.conditioned_long = None;
                eprintln!(
                    "pair {:>2}/{pairs}: measured earlier  — {}",
                    i + 1,
                    stored.problem
                );
                stored
            }
            None => measure_pair(
                &setup,
                &problem,
                (i, pairs),
                i < stability_pairs,
                &mut reach_cache,
            )?,
        };
        results.push(result);
        held_out_problems.push(problem);
    }
    // Choices that need every pair swept (or the table) first.
    let best_single = oracle::best_single_setting(&results);
    let mut choices: Vec<(String, Vec<metanas_aon::UpdateSettings>)> = Vec::new();
    let mut conditioned_picks: Option<Vec<metanas_aon::UpdateSettings>> = None;
    let mut chooser_record = None;
    if let Some((single, mean)) = best_single {
        eprintln!("best single setting over the pairs: {single} (mean loss {mean:.4})");
        choices.push((
            format!("best single setting on these pairs ({single}; optimistic)"),
            vec![single; results.len()],
        ));
    }
    if let Some(table) = &args.chooser_table {
        let fitted = chooser::fit(
            table,
            args.meta_model.as_deref(),
            &oracle_settings,
            k,
            &device,
        )?;
        let features = chooser::problem_features(fitted.aen.as_ref(), &held_out_problems)?;
        let n = features.len();
        let pick = |i: usize| fitted.chooser.choose(&features[i]);
        let conditioned = (0..n).map(pick).collect::<Result<Vec<_>, _>>()?;
        let shuffled = (0..n)
            .map(|i| pick((i + n / 2) % n))
            .collect::<Result<Vec<_>, _>>()?;
        let validation = &fitted.record.validation;
        eprintln!(
            "chooser fitted on {} pairs of {} ({} features; L2 {} by {}-fold cross-validation over the table's pairs, loss above each pair's best by L2: {}; one setting for all: {:.4}): {}",
            fitted.record.pairs,
            table.display(),
            fitted.chooser.feature_count(),
            validation.l2,
            validation.folds,
            validation
                .regrets
                .iter()
                .map(|(l2, r)| format!("{l2}: {r:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            validation.single_setting_regret,
            conditioned
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        let table_best = fitted.record.table_best;
        choices.push((
            format!("best single setting of the table ({table_best})"),
            vec![table_best; n],
        ));
        chooser_record = Some(fitted.record.clone());
        conditioned_picks = Some(conditioned.clone());
        choices.push((CONDITIONED_CHOICE.into(), conditioned));
        choices.push((
            "conditioned, features shuffled across pairs".into(),
            shuffled,
        ));
    }
    for (name, picks) in &choices {
        for (i, ((result, problem), settings)) in results
            .iter_mut()
            .zip(&held_out_problems)
            .zip(picks)
            .enumerate()
        {
            let loss = oracle::loss_of(result, settings);
            let adam_steps = reach_cache.get_or_measure(i, loss, || {
                shortest_reaching_run(
                    problem,
                    adam.best_rate,
                    loss,
                    result.adam.loss,
                    reach_limit,
                    training,
                    &device,
                )
            })?;
            result.choices.push(SettingsChoice {
                name: name.clone(),
                settings: *settings,
                loss,
                adam_steps,
            });
        }
    }
    // The conditioned choice must not diverge over a longer run than it was chosen for.
    if let Some(picks) = &conditioned_picks {
        let long = CandidateTraining {
            steps: 5 * k,
            ..training
        };
        for ((result, problem), settings) in results
            .iter_mut()
            .zip(&held_out_problems)
            .zip(picks)
            .take(stability_pairs)
        {
            let run = RunSummary::of(&train_with_settings(problem, settings, long, &device)?);
            eprintln!(
                "conditioned choice ({settings}) at {} steps: {:.4}{}  — {}",
                5 * k,
                run.loss,
                if run.diverged { " (diverged)" } else { "" },
                result.problem
            );
            result.conditioned_long = Some(run);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    print_table(
        &results,
        &adam,
        &sgd,
        k,
        (reach_limit, within_run_limit),
        &aon_source,
        seconds,
    );
    oracle::print_ceiling(&results, k, reach_limit);
    if let Some(record) = &chooser_record {
        let v = &record.validation;
        println!(
            "The chooser: fitted on {} MNIST pairs of {} ({} features{}); L2 {} chosen by {}-fold cross-validation over the table's pairs, where its loss above each pair's best is {} (by L2; the other feature set: {}), against {:.4} for the best single setting of the other folds.",
            record.pairs,
            record.table,
            record.features,
            if record.reads_aen {
                ", the AEN's embedding included"
            } else {
                ", plain features only"
            },
            v.l2,
            v.folds,
            v.regrets
                .iter()
                .map(|(l2, r)| format!("{l2}: {r:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            v.other_features_regret
                .map_or("none tried".to_string(), |r| format!("{r:.4}")),
            v.single_setting_regret
        );
        if v.prefers_single_setting {
            println!(
                "Cross-validation prefers the single setting: a meta-model fitted on this table trains every candidate with {} (the rows above score the fitted chooser all the same).",
                record.table_best
            );
        }
    }
    let out = Results {
        aon_source,
        blend,
        meta_training_seconds,
        adam,
        sgd,
        steps: k,
        reach_limit,
        best_single_setting: best_single.map(|(s, _)| s),
        chooser: chooser_record,
        pairs: results,
        seconds,
    };
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&out)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("results in {}", path.display());
    Ok(())
}

fn print_table(
    results: &[PairResult],
    adam: &LearningRateTuning,
    sgd: &LearningRateTuning,
    k: usize,
    (reach_limit, within_run_limit): (usize, usize),
    aon_source: &str,
    seconds: f64,
) {
    let n = results.len();
    println!(
        "## AON vs tuned baselines: {n} held-out (Fashion-MNIST task, unseen cell) pairs, K = {k} steps\n"
    );
    println!(
        "AON: {aon_source}. Adam lr {} and SGD-Nesterov lr {} chosen by grid on MNIST meta-training tasks; cosine schedule for all.\n",
        adam.best_rate, sgd.best_rate
    );
    println!(
        "| optimizer | validation loss @K (mean ± sd) | accuracy @K | pairs where the AON is better | divergences |"
    );
    println!("|---|---|---|---|---|");
    let row = |name: String, pick: &dyn Fn(&PairResult) -> RunSummary| {
        let losses: Vec<f64> = results
            .iter()
            .map(|r| pick(r).loss)
            .filter(|l| l.is_finite())
            .collect();
        let accs: Vec<f64> = results.iter().map(|r| pick(r).accuracy).collect();
        let (lm, ls) = mean_sd(&losses);
        let (am, _) = mean_sd(&accs);
        let better = results.iter().filter(|r| r.aon.loss < pick(r).loss).count();
        let better = if name == "AON" {
            "—".to_string()
        } else {
            format!("{better}/{n}")
        };
        let diverged = results.iter().filter(|r| pick(r).diverged).count();
        println!(
            "| {name} | {lm:.4} ± {ls:.4} | {:.1}% | {better} | {diverged} |",
            100.0 * am
        );
    };
    row("AON".into(), &|r| r.aon);
    row(format!("Adam (lr {})", adam.best_rate), &|r| r.adam);
    row(format!("SGD-Nesterov (lr {})", sgd.best_rate), &|r| r.sgd);
    let fmt = |s: usize, limit: usize| {
        if s == usize::MAX {
            format!(">{limit}")
        } else {
            s.to_string()
        }
    };
    let sorted = |pick: &dyn Fn(&PairResult) -> Option<usize>| {
        let mut reach: Vec<usize> = results
            .iter()
            .map(|r| pick(r).unwrap_or(usize::MAX))
            .collect();
        reach.sort_unstable();
        reach
    };
    let reach = sorted(&|r| r.adam_steps_to_aon);
    // A diverged AON has no loss to reach: it does not count towards the goal.
    let at_least_2k = results
        .iter()
        .filter(|r| r.aon.loss.is_finite() && r.adam_steps_to_aon.is_none_or(|s| s >= 2 * k))
        .count();
    println!(
        "\nShortest tuned-Adam run (cosine over its own length; lengths in steps of 10 up to {reach_limit}, bracketed from K and bisected) whose final validation loss reaches the AON's at K = {k}: median {}, ≥ 2K on {at_least_2k}/{n} pairs; all: [{}]",
        fmt(reach[n / 2], reach_limit),
        reach
            .iter()
            .map(|&s| fmt(s, reach_limit))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let within = sorted(&|r| r.adam_step_within_run);
    println!(
        "Within one run: the first step, every 10, at which one Adam run of {k} steps, or of {within_run_limit} if that one does not get there, reaches it: median {}; all: [{}] (points of one longer schedule, not runs of that length).",
        fmt(within[n / 2], within_run_limit),
        within
            .iter()
            .map(|&s| fmt(s, within_run_limit))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let long: Vec<(f64, RunSummary)> = results
        .iter()
        .filter_map(|r| r.aon_long.map(|l| (r.aon.loss, l)))
        .collect();
    if !long.is_empty() {
        let (diverged, long_m, short_m) = stability(&long);
        println!(
            "\nStability: AON trained {} steps (5× the meta-training horizon) on {} pairs: {diverged} divergences; mean validation loss {long_m:.4} (vs {short_m:.4} at {k} steps)",
            5 * k,
            long.len()
        );
    }
    println!("\nTotal time {:.0} s.", seconds);
}
