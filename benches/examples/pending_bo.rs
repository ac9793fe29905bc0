//! Bayesian optimisation with trials pending: several workers of one study,
//! simulated in one process on a NAS-Bench-201 table task.
//!
//! Each of `--workers` workers evaluates one trial at a time; trials finish in
//! the order they were proposed (table lookups all take the same time), and
//! each finished trial frees its worker, whose next trial is proposed at once
//! while the others are still pending — the proposal loop of a PostgreSQL
//! study (`metanas_study::StudyWorker`), with each proposal's random draw
//! seeded by (search seed, trial number). One worker is the sequential
//! search. Prints, per setting, the median number of finished trials until the
//! best-by-validation cell has the optimum's report value (as `bench-search`),
//! over the seeds, and the seconds per run.
//!
//! ```sh
//! cargo run --release -p metanas-benches --example pending_bo -- --seeds 25
//! ```

use anyhow::{Context, bail};
use clap::Parser;
use metanas_benches::statistics::{median, median_reach};
use metanas_data::{BenchmarkTable, Objective, TaskCatalog, shipped};
use metanas_device::BackendChoice;
use metanas_search::{
    AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, PendingBelief, ProposalContext,
    SearchError, Strategy,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

#[derive(Debug, Parser)]
struct Args {
    /// Validation column searched (its report column is reported).
    #[arg(long, default_value = "c100_valid")]
    target: String,
    /// Seeds per setting (0, 1, …).
    #[arg(long, default_value_t = 25)]
    seeds: u64,
    /// Finished trials at most per run (a run stops once it reaches the optimum).
    #[arg(long, default_value_t = 100)]
    budget: usize,
    /// Settings, comma-separated: `sequential`, or `WORKERS:BELIEF` with
    /// BELIEF one of ignored, kriging-believer, constant-liar.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sequential,4:ignored,4:kriging-believer,4:constant-liar"
    )]
    settings: Vec<String>,
    /// Device of the surrogate's fits.
    #[arg(long, default_value = "flex")]
    device: BackendChoice,
}

/// One setting: workers and what the surrogate assumes of pending trials.
#[derive(Debug, Clone)]
struct Setting {
    name: String,
    workers: usize,
    belief: PendingBelief,
}

fn parse_setting(text: &str) -> anyhow::Result<Setting> {
    if text == "sequential" {
        return Ok(Setting {
            name: text.into(),
            workers: 1,
            belief: PendingBelief::Ignored,
        });
    }
    let Some((workers, belief)) = text.split_once(':') else {
        bail!("a setting is `sequential` or WORKERS:BELIEF, got `{text}`");
    };
    let belief = [
        PendingBelief::Ignored,
        PendingBelief::KrigingBeliever,
        PendingBelief::ConstantLiar,
    ]
    .into_iter()
    .find(|b| b.name() == belief)
    .with_context(|| format!("unknown belief `{belief}`"))?;
    let workers: usize = workers.parse().context("workers")?;
    if workers == 0 {
        bail!("workers must be at least 1");
    }
    Ok(Setting {
        name: format!("{workers} workers, pending {}", belief.name()),
        workers,
        belief,
    })
}

/// The table task.
struct Task {
    table: BenchmarkTable<Nb201Space>,
    target: String,
    report: String,
    optimum: f64,
}

/// The seed of trial `number`'s proposal (a study seeds each proposal by
/// search seed and trial number, whichever worker makes it).
fn proposal_seed(seed: u64, number: usize) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (number as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

/// Finished trials until the best-by-validation cell has the optimum's report
/// value (`None`: not within the budget).
fn run_once(
    task: &Task,
    setting: &Setting,
    seed: u64,
    budget: usize,
    device: &burn::tensor::Device,
) -> anyhow::Result<Option<usize>> {
    let space = Nb201Space;
    let config = BayesianOptimizationConfig {
        initial_samples: (budget / 3).clamp(4, 10),
        proposals_per_fit: if budget <= 20 { 1 } else { 5 },
        pending_belief: setting.belief,
        ..BayesianOptimizationConfig::default()
    };
    let surrogate = AenSurrogate::new(
        AenSurrogate::default_config(space.vocabulary_size()),
        device,
    );
    let mut strategy = BayesianOptimization::new(space, config, Box::new(surrogate))?;
    // Canonical hash → score (None while pending).
    let mut scores: HashMap<String, Option<f64>> = HashMap::new();
    let mut pending: VecDeque<Nb201Cell> = VecDeque::new();
    let mut proposed = 0usize;
    let mut finished = 0usize;
    let mut best: Option<(f64, f64)> = None;
    while finished < budget {
        while pending.len() < setting.workers && proposed < budget {
            let mut rng = StdRng::seed_from_u64(proposal_seed(seed, proposed));
            let arch = loop {
                let waiting: Vec<Nb201Cell> = pending.iter().copied().collect();
                let is_feasible = |_: &Nb201Cell| true;
                let is_seen =
                    |a: &Nb201Cell| scores.contains_key(&space.canonical_hash(a).to_string());
                let context = ProposalContext {
                    space: &space,
                    is_feasible: &is_feasible,
                    is_seen: &is_seen,
                };
                let arch = match strategy.propose_with_pending(&context, &waiting, &mut rng) {
                    Ok(arch) => arch,
                    Err(SearchError::SpaceExhausted { .. }) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                match scores.get(&space.canonical_hash(&arch).to_string()) {
                    None => break arch,
                    Some(known) => strategy.observe(&arch, *known),
                }
            };
            scores.insert(space.canonical_hash(&arch).to_string(), None);
            pending.push_back(arch);
            proposed += 1;
        }
        let Some(arch) = pending.pop_front() else {
            break;
        };
        let value = task.table.value(&arch, &task.target)?;
        let report = task.table.value(&arch, &task.report)?;
        scores.insert(space.canonical_hash(&arch).to_string(), Some(value));
        strategy.observe(&arch, Some(value));
        finished += 1;
        if best.is_none_or(|(v, _)| value > v) {
            best = Some((value, report));
        }
        if best.is_some_and(|(_, r)| r >= task.optimum - 1e-6) {
            return Ok(Some(finished));
        }
    }
    Ok(None)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings: Vec<Setting> = args
        .settings
        .iter()
        .map(|s| parse_setting(s))
        .collect::<anyhow::Result<_>>()?;
    let table = shipped::nb201_table()?;
    let catalog = TaskCatalog::nb201_accuracy(table.column_names());
    let Some(entry) = catalog.task(&args.target) else {
        bail!("`{}` is not a searchable column", args.target);
    };
    if entry.objective != Objective::Maximize {
        bail!("this harness maximises its target");
    }
    let report = entry.report_column.clone();
    let optimum = table.max(&report)?.1;
    let task = Task {
        table,
        target: args.target.clone(),
        report,
        optimum,
    };
    let device = args.device.device();
    eprintln!(
        "{} → {}, optimum {:.2}, budget {}, settings: {}",
        task.target,
        task.report,
        task.optimum,
        args.budget,
        settings
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    let mut reach: Vec<Vec<Option<usize>>> = vec![Vec::new(); settings.len()];
    let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); settings.len()];
    // Seed by seed, every setting: a run cut short still compares like with like.
    for seed in 0..args.seeds {
        for (i, setting) in settings.iter().enumerate() {
            let started = Instant::now();
            let reached = run_once(&task, setting, seed, args.budget, &device)?;
            let s = started.elapsed().as_secs_f64();
            eprintln!(
                "seed {seed:>2} {:<40} optimum at {} ({s:.1} s)",
                setting.name,
                reached.map_or("-".into(), |q| q.to_string())
            );
            reach[i].push(reached);
            seconds[i].push(s);
        }
        print_table(&settings, &reach, &seconds, args.budget, seed + 1);
    }
    Ok(())
}

fn print_table(
    settings: &[Setting],
    reach: &[Vec<Option<usize>>],
    seconds: &[Vec<f64>],
    budget: usize,
    seeds: u64,
) {
    println!();
    println!("after {seeds} seeds (budget {budget}):");
    println!();
    println!("| setting | median trials to optimum | reached | median s/run |");
    println!("|---|---:|---:|---:|");
    for (i, setting) in settings.iter().enumerate() {
        let reached = reach[i].iter().flatten().count();
        println!(
            "| {} | {} | {reached}/{} | {:.1} |",
            setting.name,
            median_reach(&reach[i]).map_or(format!("> {budget}"), |m| format!("{m:.1}")),
            reach[i].len(),
            median(&seconds[i])
        );
    }
}
