//! `cargo xtask bench-search`: strategies side by side on a NAS-Bench-201
//! table task, many seeds, one harness.

use crate::statistics::{mean_sd, median, median_reach};
use anyhow::{Context, bail};
use metanas_data::{BenchmarkTable, Objective, TaskCatalog, shipped};
use metanas_device::BackendChoice;
use metanas_plot::{Series, line_chart};
use metanas_search::{
    Constraints, FixedOrder, SearchConfig, Searcher, Strategy, TableEvaluator, strategy_by_name,
    trajectory,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `cargo xtask bench-search`.
#[derive(Debug, clap::Args)]
pub struct BenchSearchArgs {
    /// Target: a validation column of the NAS-Bench-201 table (its test column is the report).
    #[arg(long, default_value = "c100_valid")]
    target: String,
    /// Strategies, comma-separated: random, evolution, local, bo, bo-ucb, bo-ts, transfer (cells in the order of --transfer-source).
    #[arg(long, value_delimiter = ',', default_value = "random,evolution,bo")]
    strategies: Vec<String>,
    /// Seeds per strategy (0, 1, …).
    #[arg(long, default_value_t = 25)]
    seeds: u64,
    /// Queries per search.
    #[arg(long, default_value_t = 100)]
    budget: usize,
    /// Source column whose ranking the `transfer` strategy follows (default: c10v_valid for a c100
    /// target, c100_valid for the others).
    #[arg(long)]
    transfer_source: Option<String>,
    /// Device of the surrogate's fits: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    device: BackendChoice,
    /// Output folder for the JSON and the PNG.
    #[arg(long, default_value = "runs/bench-search")]
    out: PathBuf,
}

/// One table task's benchmark settings.
pub struct TableBench {
    /// The table.
    pub table: Arc<BenchmarkTable<Nb201Space>>,
    /// The column the strategies see.
    pub target: String,
    /// The column reported.
    pub report: String,
    /// Direction of both.
    pub objective: Objective,
    /// Best value of the report column.
    pub optimum: f64,
    /// Queries per run.
    pub budget: usize,
    /// Seeds 0..seeds.
    pub seeds: u64,
}

impl TableBench {
    /// Runs the strategy `name` (built per seed by `make`) for every seed.
    pub fn run(
        &self,
        name: &str,
        make: &mut dyn FnMut(u64) -> anyhow::Result<Box<dyn Strategy<Nb201Space>>>,
    ) -> anyhow::Result<StrategyRuns> {
        let mut runs = StrategyRuns {
            name: name.to_string(),
            curves: Vec::new(),
            seen_curves: Vec::new(),
            best_cell_found: Vec::new(),
            seconds: Vec::new(),
        };
        // The space's best cell by the column the strategies see (its
        // isomorphism class: the searcher never queries a twin twice).
        let best_cell = ranking_by(&self.table, &self.target, self.objective)?[0];
        let best_cell_hash = Nb201Space.canonical_hash(&best_cell).to_string();
        let mut first_two: Vec<Vec<String>> = Vec::new();
        for seed in 0..self.seeds {
            // A strategy whose first two seeds queried exactly the same cells
            // ignores the seed (e.g. a fixed order, or meta-BO with EI): its
            // other seeds would repeat them, so seed 0's run stands for them.
            if seed >= 2 && first_two.len() == 2 && first_two[0] == first_two[1] {
                eprintln!(
                    "{name:>10} seed {seed:>2}: the same run as seeds 0 and 1 (the strategy ignores the seed)"
                );
                runs.curves.push(runs.curves[0].clone());
                runs.seen_curves.push(runs.seen_curves[0].clone());
                runs.best_cell_found.push(runs.best_cell_found[0]);
                runs.seconds.push(runs.seconds[0]);
                continue;
            }
            let mut strategy = make(seed)?;
            let mut evaluator = TableEvaluator::new(
                self.table.clone(),
                &self.target,
                Some(&self.report),
                self.objective,
            )?;
            let searcher = Searcher::new(
                Nb201Space,
                Constraints::default(),
                SearchConfig::new()
                    .with_max_queries(self.budget)
                    .with_seed(seed),
            );
            let started = Instant::now();
            let outcome = searcher
                .run(strategy.as_mut(), &mut evaluator, None, &mut |_| {})
                .with_context(|| format!("{name}, seed {seed}"))?;
            let seconds = started.elapsed().as_secs_f64();
            if seed < 2 {
                first_two.push(
                    outcome
                        .trials
                        .iter()
                        .map(|t| t.architecture.clone())
                        .collect(),
                );
            }
            let curve = trajectory::best_report_curve(&outcome.trials, self.objective);
            let seen = trajectory::best_report_seen_curve(&outcome.trials, self.objective);
            let reach = trajectory::queries_to_reach(&seen, self.optimum, self.objective, 1e-6);
            eprintln!(
                "{name:>10} seed {seed:>2}: final {} {:.2}, optimum seen at {} ({seconds:.1} s)",
                self.report,
                curve.last().copied().flatten().unwrap_or(f64::NAN),
                reach.map_or("-".to_string(), |q| q.to_string())
            );
            runs.curves.push(curve);
            runs.seen_curves.push(seen);
            runs.best_cell_found.push(trajectory::queries_to_evaluate(
                &outcome.trials,
                &best_cell_hash,
            ));
            runs.seconds.push(seconds);
        }
        Ok(runs)
    }
}

/// One strategy's runs.
pub struct StrategyRuns {
    name: String,
    /// Per seed: report of the best-by-objective cell after each query.
    curves: Vec<Vec<Option<f64>>>,
    /// Per seed: best report among the queried cells after each query.
    seen_curves: Vec<Vec<Option<f64>>>,
    /// Per seed: the query that evaluated the space's best cell by the
    /// objective (`None`: never).
    best_cell_found: Vec<Option<usize>>,
    seconds: Vec<f64>,
}

/// The source column the transfer baseline follows for `target`.
pub fn default_transfer_source(target: &str) -> &'static str {
    if target.starts_with("c100") {
        "c10v_valid"
    } else {
        "c100_valid"
    }
}

/// Cells of `table` sorted by `column`, best first (ties: table order).
pub fn ranking_by(
    table: &BenchmarkTable<Nb201Space>,
    column: &str,
    objective: Objective,
) -> anyhow::Result<Vec<metanas_space::nb201::Nb201Cell>> {
    let values = table.column(column)?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (values[a], values[b]);
        let c = x.total_cmp(&y);
        (if objective == Objective::Maximize {
            c.reverse()
        } else {
            c
        })
        .then(a.cmp(&b))
    });
    Ok(order.into_iter().map(|i| table.archs()[i]).collect())
}

/// Runs the command.
pub fn run(args: &BenchSearchArgs) -> anyhow::Result<()> {
    if args.seeds == 0 || args.budget == 0 {
        bail!("--seeds and --budget must be at least 1");
    }
    let space = Nb201Space;
    let table = Arc::new(shipped::nb201_table()?);
    let catalog = TaskCatalog::nb201_accuracy(table.column_names());
    let Some(task) = catalog.task(&args.target) else {
        bail!(
            "`{}` is not a searchable column of the NAS-Bench-201 table",
            args.target
        );
    };
    let report = task.report_column.clone();
    let objective = task.objective;
    let optimum = table.max(&report)?.1;
    let best_by_objective = ranking_by(&table, &args.target, objective)?[0];
    let optimum_of_best = table.value(&best_by_objective, &report)?;
    let source = args
        .transfer_source
        .clone()
        .unwrap_or_else(|| default_transfer_source(&args.target).to_string());
    let device = args.device.device();
    eprintln!(
        "target {} (report {report}); optimum {report} {optimum:.2}; the best {} cell has {report} {optimum_of_best:.2}",
        args.target, args.target
    );
    let bench = TableBench {
        table: table.clone(),
        target: args.target.clone(),
        report: report.clone(),
        objective,
        optimum,
        budget: args.budget,
        seeds: args.seeds,
    };
    let mut all = Vec::new();
    for name in &args.strategies {
        all.push(bench.run(name, &mut |_| {
            Ok(if name == "transfer" {
                Box::new(FixedOrder::new(ranking_by(&table, &source, objective)?))
            } else {
                strategy_by_name(name, &space, &device, args.budget)?
            })
        })?);
    }
    bench.print_table(&source, &all);
    bench.write_outputs(&args.out, &all)
}

fn reach_of(curves: &[Vec<Option<f64>>], optimum: f64, objective: Objective) -> Vec<Option<usize>> {
    curves
        .iter()
        .map(|c| trajectory::queries_to_reach(c, optimum, objective, 1e-6))
        .collect()
}

impl TableBench {
    /// Prints the comparison of `all` (runs of this benchmark) in Markdown;
    /// `source` is the column the transfer baseline follows.
    pub fn print_table(&self, source: &str, all: &[StrategyRuns]) {
        let (target, budget, seeds) = (&self.target, self.budget, self.seeds);
        let (report, optimum, objective) = (&self.report, self.optimum, self.objective);
        println!();
        println!(
            "## {} → {report}, optimum {optimum:.2}, budget {}, {} seeds (transfer follows `{source}`)",
            target, budget, seeds
        );
        println!();
        println!(
            "Queries to the optimum: *best-by-validation* is NAS-Bench-201's protocol (the report of the cell with the best"
        );
        println!(
            "validation score so far); *best seen* is the look-up protocol (the best report among the queried cells)."
        );
        println!();
        println!(
            "| strategy | median queries to optimum (best-by-validation) | reached | median queries (best seen) | reached | median regret @10 | @20 | @50 | @{} | s/run |",
            budget
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        let fmt = |m: Option<f64>| m.map_or(format!("> {budget}"), |m| format!("{m}"));
        for runs in all {
            let reach = reach_of(&runs.curves, optimum, objective);
            let reach_seen = reach_of(&runs.seen_curves, optimum, objective);
            let regret = |q: usize| {
                median(
                    &runs
                        .curves
                        .iter()
                        .filter_map(|c| trajectory::regret_at(c, q, optimum))
                        .collect::<Vec<_>>(),
                )
            };
            println!(
                "| {} | {} | {}/{} | {} | {}/{} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
                runs.name,
                fmt(median_reach(&reach)),
                reach.iter().flatten().count(),
                reach.len(),
                fmt(median_reach(&reach_seen)),
                reach_seen.iter().flatten().count(),
                reach_seen.len(),
                regret(10),
                regret(20),
                regret(50),
                regret(budget),
                median(&runs.seconds)
            );
        }
        // NAS-Bench-201's protocol: whether the search evaluates the space's best
        // cell by validation (which can differ from the best by test), and the
        // test regret of the cell it would choose by validation.
        let checkpoints: Vec<usize> =
            [10, 30, 100]
                .into_iter()
                .map(|q| q.min(budget))
                .fold(Vec::new(), |mut v, q| {
                    if !v.contains(&q) {
                        v.push(q);
                    }
                    v
                });
        println!();
        println!(
            "| strategy | median queries to evaluate the best-by-validation cell | evaluated | {} |",
            checkpoints
                .iter()
                .enumerate()
                .map(|(i, q)| if i == 0 {
                    format!("mean test regret of the cell chosen by validation @{q}")
                } else {
                    format!("@{q}")
                })
                .collect::<Vec<_>>()
                .join(" | ")
        );
        println!("|---|---|---|{}", "---|".repeat(checkpoints.len()));
        for runs in all {
            let mean_regret = |q: usize| {
                let regrets: Vec<f64> = runs
                    .curves
                    .iter()
                    .filter_map(|c| trajectory::regret_at(c, q, optimum))
                    .collect();
                mean_sd(&regrets).0
            };
            println!(
                "| {} | {} | {}/{} | {} |",
                runs.name,
                fmt(median_reach(&runs.best_cell_found)),
                runs.best_cell_found.iter().flatten().count(),
                runs.best_cell_found.len(),
                checkpoints
                    .iter()
                    .map(|&q| format!("{:.2}", mean_regret(q)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
    }

    /// Writes the runs `all` as JSON and the median regret curves as a PNG
    /// into `out`.
    pub fn write_outputs(&self, out: &std::path::Path, all: &[StrategyRuns]) -> anyhow::Result<()> {
        let (target, budget, seeds) = (&self.target, self.budget, self.seeds);
        let (report, optimum, objective) = (&self.report, self.optimum, self.objective);
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let stem = format!("{target}-budget{budget}-seeds{seeds}");
        let json_path = out.join(format!("{stem}.json"));
        let results = json!({
            "target": target,
            "report": report,
            "optimum": optimum,
            "budget": budget,
            "seeds": seeds,
            "strategies": all.iter().map(|r| json!({
                "name": r.name,
                "queries_to_optimum": reach_of(&r.curves, optimum, objective),
                "queries_to_optimum_best_seen": reach_of(&r.seen_curves, optimum, objective),
                "queries_to_best_by_objective_cell": r.best_cell_found,
                "best_report_curves": r.curves,
                "seconds": r.seconds,
            })).collect::<Vec<_>>(),
        });
        std::fs::write(&json_path, serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("writing {}", json_path.display()))?;
        let series: Vec<Series> = all
            .iter()
            .map(|r| Series {
                name: r.name.clone(),
                points: (1..=budget)
                    .map(|q| {
                        let regrets: Vec<f64> = r
                            .curves
                            .iter()
                            .filter_map(|c| trajectory::regret_at(c, q, optimum))
                            .collect();
                        (q as f64, median(&regrets))
                    })
                    .collect(),
            })
            .collect();
        let png = out.join(format!("{stem}.png"));
        line_chart(
            &png,
            &format!("median regret of {report}"),
            "queries",
            "regret (accuracy points)",
            &series,
        )?;
        println!();
        println!("results: {}  plot: {}", json_path.display(), png.display());
        Ok(())
    }
}
