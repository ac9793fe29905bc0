//! `cargo xtask bench-latency`: a new device known by 10 measured cells, as
//! a user meets it. Each hardware family of the shipped latency table is
//! held out in turn (a family is the same hardware at every batch size, so
//! no sibling column can stand in for it): a latency meta-model is made
//! without it (`cargo xtask meta-train --sources latency --exclude FAMILY`),
//! adapted to 10 measured cells of each of its columns — the cells
//! `cargo xtask latency plan` lists, or drawn at random — and scored by the
//! Spearman ρ of its predictions over every cell. Then
//! `cargo xtask search --latency-measured` searches CIFAR-100 under each
//! family's device's limit (the 25th percentile of its own latencies): are
//! the winners truly within it, and how good are they against the true
//! constrained optimum?

use crate::product_command::ProductCommand;
use crate::statistics::mean_sd;
use anyhow::{Context, bail};
use metanas_aen::spearman_rho;
use metanas_data::{BenchmarkTable, MeasuredLatencies, TaskCatalog, shipped};
use metanas_device::BackendChoice;
use metanas_meta::MetaModel;
use metanas_search::{
    DeviceLatencyModel, distinct_cells, latency_source_values, plan_measurements, write_plan_csv,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `cargo xtask bench-latency`.
#[derive(Debug, clap::Args)]
pub struct BenchLatencyArgs {
    /// Cells measured on each held-out device.
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
    /// Random draws of measured cells, beside the plan's.
    #[arg(long, default_value_t = 5)]
    pub draws: u64,
    /// Seeds of the constrained search on each family's device (0: no search).
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Strategy of the constrained searches (`cargo xtask search --strategy`).
    #[arg(long, default_value = "bo")]
    pub strategy: String,
    /// Queries per constrained search.
    #[arg(long, default_value_t = 100)]
    pub budget: usize,
    /// Probability of being within the limit asked of each searched cell.
    #[arg(long, default_value_t = 0.9)]
    pub feasibility: f64,
    /// The limit of each device: this quantile of its own latencies over every cell.
    #[arg(long, default_value_t = 0.25)]
    pub limit_quantile: f64,
    /// Families to hold out, comma-separated (default: every family of the latency table).
    #[arg(long, value_delimiter = ',')]
    pub families: Vec<String>,
    /// AEN ensemble members of each latency meta-model.
    #[arg(long, default_value_t = 2)]
    pub ensemble: usize,
    /// Most AEN epochs of each latency meta-model.
    #[arg(long, default_value_t = 15)]
    pub aen_epochs: usize,
    /// Burn backend: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    pub device: BackendChoice,
    /// Output folder (the meta-models are kept in it and reused).
    #[arg(long, default_value = "runs/bench-latency")]
    pub out: PathBuf,
}

/// One held-out column's ranking quality.
struct ColumnRow {
    column: String,
    family: String,
    plan: f64,
    random: Vec<f64>,
}

/// One constrained search.
struct SearchRow {
    device: String,
    limit: f64,
    seed: u64,
    winner: String,
    true_latency: f64,
    predicted: (f64, f64),
    test: f64,
}

/// The value at quantile `q` of `values` (the lower of the two around it).
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).floor() as usize]
}

/// Writes the measured file of `cells` on `column` (their true latencies).
fn measured_file(
    path: &Path,
    table: &BenchmarkTable<Nb201Space>,
    column: &str,
    cells: &[Nb201Cell],
) -> anyhow::Result<MeasuredLatencies<Nb201Space>> {
    let space = Nb201Space;
    let mut text = format!("arch,{column}\n");
    for cell in cells {
        text.push_str(&format!(
            "{},{}\n",
            space.format(cell),
            table.value(cell, column)?
        ));
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(MeasuredLatencies::from_csv(&space, path)?)
}

/// Runs the benchmark and prints its tables (markdown) on stdout.
pub fn run(args: &BenchLatencyArgs) -> anyhow::Result<()> {
    if args.samples < metanas_data::MIN_MEASURED_CELLS || args.draws == 0 {
        bail!(
            "--samples must be at least {} and --draws at least 1",
            metanas_data::MIN_MEASURED_CELLS
        );
    }
    let started = Instant::now();
    let space = Nb201Space;
    let table = shipped::nb201_latency_table()?;
    let accuracy = shipped::nb201_table()?;
    let catalog = TaskCatalog::latency(table.column_names());
    let families = if args.families.is_empty() {
        catalog.families()
    } else {
        args.families.clone()
    };
    let command = ProductCommand::locate()?;
    let device = args.device.device();
    let measured_dir = args.out.join("measured");
    std::fs::create_dir_all(&measured_dir)
        .with_context(|| format!("creating {}", measured_dir.display()))?;
    let pool = distinct_cells(&space, table.archs());
    let mut columns: Vec<ColumnRow> = Vec::new();
    let mut searches: Vec<SearchRow> = Vec::new();
    let mut seconds: Vec<(String, f64, f64)> = Vec::new();
    for family in &families {
        let held_out: Vec<String> = catalog
            .leave_family_out(family)?
            .held_out
            .into_iter()
            .map(|t| t.name)
            .collect();
        let meta_dir = args.out.join(format!("latency-model-without-{family}"));
        let clock = Instant::now();
        command.run(
            &[
                "meta-train",
                "--sources",
                "latency",
                "--exclude",
                family,
                "--out",
                &meta_dir.display().to_string(),
                "--ensemble",
                &args.ensemble.to_string(),
                "--aen-epochs",
                &args.aen_epochs.to_string(),
                "--seed",
                "0",
                "--device",
                args.device.name(),
                "--quiet",
            ]
            .map(str::to_string),
        )?;
        let meta_seconds = clock.elapsed().as_secs_f64();
        let model = MetaModel::load(&meta_dir, &device)
            .with_context(|| format!("loading {}", meta_dir.display()))?;
        if let Some(seen) = model
            .aen
            .task_names()
            .iter()
            .find(|c| catalog.family_of_column(c) == Some(family.as_str()))
        {
            bail!("the meta-model without `{family}` was trained on `{seen}`");
        }
        let sources = latency_source_values(model.aen.task_names())?;
        let clock = Instant::now();
        let plan = plan_measurements(
            &space,
            &model.aen,
            sources.as_ref(),
            table.archs(),
            args.samples,
        )?;
        write_plan_csv(
            &measured_dir.join(format!("plan-without-{family}.csv")),
            &space,
            "latency",
            &plan,
        )?;
        let draws: Vec<Vec<Nb201Cell>> = (0..args.draws)
            .map(|d| {
                let mut cells = pool.clone();
                cells.shuffle(&mut StdRng::seed_from_u64(1_000 + d));
                cells.truncate(args.samples);
                cells
            })
            .collect();
        for column in &held_out {
            let truth = table.column(column)?;
            let rho = |label: &str, cells: &[Nb201Cell]| -> anyhow::Result<f64> {
                let measured = measured_file(
                    &measured_dir.join(format!("{column}-{label}.csv")),
                    &table,
                    column,
                    cells,
                )?;
                let adapted = DeviceLatencyModel::adapt(
                    &space,
                    model.aen.clone(),
                    sources.clone(),
                    &measured,
                )?;
                let means: Vec<f64> = adapted
                    .predict(&space, table.archs())?
                    .iter()
                    .map(|p| p.mean)
                    .collect();
                Ok(spearman_rho(&means, truth)?)
            };
            let plan_rho = rho("plan", &plan)?;
            let random = draws
                .iter()
                .enumerate()
                .map(|(d, cells)| rho(&format!("random{d}"), cells))
                .collect::<anyhow::Result<Vec<f64>>>()?;
            eprintln!(
                "{column} (family {family}): plan ρ {plan_rho:.3}, random ρ {:.3}",
                mean_sd(&random).0
            );
            columns.push(ColumnRow {
                column: column.clone(),
                family: family.clone(),
                plan: plan_rho,
                random,
            });
        }
        let predict_seconds = clock.elapsed().as_secs_f64();

        // The constrained search on the family's first device, measured at the plan's cells.
        let clock = Instant::now();
        if let Some(target) = held_out.first().filter(|_| args.seeds > 0) {
            let limit = quantile(table.column(target)?, args.limit_quantile);
            let measured = measured_dir.join(format!("{target}-plan.csv"));
            for seed in 0..args.seeds {
                let out = args
                    .out
                    .join("search")
                    .join(format!("{target}-{}-seed{seed}", args.strategy));
                // The harness's own folder: a new search each run.
                let _ = std::fs::remove_dir_all(&out);
                command.run(
                    &[
                        "search",
                        "--task",
                        "c100_valid",
                        "--latency-measured",
                        &measured.display().to_string(),
                        "--latency-meta-model",
                        &meta_dir.display().to_string(),
                        "--max-latency",
                        &format!("{target}={limit}"),
                        "--feasibility",
                        &args.feasibility.to_string(),
                        "--strategy",
                        &args.strategy,
                        "--budget",
                        &args.budget.to_string(),
                        "--seed",
                        &seed.to_string(),
                        "--device",
                        args.device.name(),
                        "--out",
                        &out.display().to_string(),
                        "--quiet",
                    ]
                    .map(str::to_string),
                )?;
                let path = out.join("results.json");
                let results: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                )?;
                let winner = results["best"]["architecture"]
                    .as_str()
                    .with_context(|| format!("{}: no winner", path.display()))?
                    .to_string();
                let cell = space.parse(&winner)?;
                let predicted = &results["winner_predicted_latency"];
                searches.push(SearchRow {
                    device: target.clone(),
                    limit,
                    seed,
                    true_latency: table.value(&cell, target)?,
                    predicted: (
                        predicted["mean"].as_f64().unwrap_or(f64::NAN),
                        predicted["std"].as_f64().unwrap_or(f64::NAN),
                    ),
                    test: accuracy.value(&cell, "c100_test")?,
                    winner,
                });
            }
        }
        seconds.push((
            family.clone(),
            meta_seconds,
            predict_seconds + clock.elapsed().as_secs_f64(),
        ));
    }

    println!(
        "\n## Leave one family out: Spearman ρ over all 15,625 cells, {} measured cells\n",
        args.samples
    );
    println!(
        "| held-out column | family | plan ρ | random ρ (mean ± sd of {}) | plan − random |",
        args.draws
    );
    println!("|---|---|---|---|---|");
    for row in &columns {
        let (m, sd) = mean_sd(&row.random);
        println!(
            "| {} | {} | {:.3} | {m:.3} ± {sd:.3} | {:+.3} |",
            row.column,
            row.family,
            row.plan,
            row.plan - m
        );
    }
    let plan_mean = mean_sd(&columns.iter().map(|r| r.plan).collect::<Vec<_>>()).0;
    let random_means: Vec<f64> = columns.iter().map(|r| mean_sd(&r.random).0).collect();
    let random_mean = mean_sd(&random_means).0;
    let better = columns
        .iter()
        .zip(&random_means)
        .filter(|(r, m)| r.plan >= **m)
        .count();
    println!(
        "| **mean of {} columns** | | **{plan_mean:.3}** | **{random_mean:.3}** | {:+.3} (plan ≥ random on {better}/{}) |",
        columns.len(),
        plan_mean - random_mean,
        columns.len()
    );

    if !searches.is_empty() {
        println!(
            "\n## Constrained search: c100_valid, {} `{}` queries, limit = the device's {:.0}th percentile, feasibility {}, measured at the plan's {} cells\n",
            args.budget,
            args.strategy,
            100.0 * args.limit_quantile,
            args.feasibility,
            args.samples
        );
        println!(
            "| device | limit | winners truly within | winners' c100_test | constrained optimum c100_test (best by c100_valid) | winner true / predicted latency |"
        );
        println!("|---|---|---|---|---|---|");
        let mut devices: Vec<&str> = searches.iter().map(|s| s.device.as_str()).collect();
        devices.dedup();
        let (mut within_all, mut total) = (0, 0);
        let mut gaps = Vec::new();
        for device in devices {
            let rows: Vec<&SearchRow> = searches.iter().filter(|s| s.device == device).collect();
            let limit = rows[0].limit;
            let latencies = table.column(device)?;
            let feasible: Vec<usize> = (0..table.rows())
                .filter(|&i| latencies[i] <= limit)
                .collect();
            let test = accuracy.column("c100_test")?;
            let valid = accuracy.column("c100_valid")?;
            let rows_of = |i: usize| -> anyhow::Result<usize> {
                let cell = &table.archs()[i];
                accuracy
                    .row_of(cell)
                    .with_context(|| format!("{} not in the accuracy table", space.format(cell)))
            };
            let mut best_test = f64::NEG_INFINITY;
            let mut best_valid = (f64::NEG_INFINITY, 0.0);
            for &i in &feasible {
                let r = rows_of(i)?;
                best_test = best_test.max(test[r]);
                if valid[r] > best_valid.0 {
                    best_valid = (valid[r], test[r]);
                }
            }
            let within = rows.iter().filter(|s| s.true_latency <= limit).count();
            within_all += within;
            total += rows.len();
            let tests: Vec<f64> = rows.iter().map(|s| s.test).collect();
            gaps.push(best_test - mean_sd(&tests).0);
            println!(
                "| {device} | {limit:.3} | {within}/{} | {} | {best_test:.2} ({:.2}) | {} |",
                rows.len(),
                tests
                    .iter()
                    .map(|t| format!("{t:.2}"))
                    .collect::<Vec<_>>()
                    .join(" / "),
                best_valid.1,
                rows.iter()
                    .map(|s| format!(
                        "{:.2} / {:.2}±{:.2}",
                        s.true_latency, s.predicted.0, s.predicted.1
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        println!(
            "\nwinners truly within their limit: {within_all}/{total} ({:.0}%, asked {:.0}%); mean gap to the constrained optimum's c100_test: {:.2} points",
            100.0 * within_all as f64 / total.max(1) as f64,
            100.0 * args.feasibility,
            mean_sd(&gaps).0
        );
        for s in &searches {
            eprintln!("search {} seed {}: {}", s.device, s.seed, s.winner);
        }
    }
    println!("\n| family | meta-train s | plan, predictions and searches s |\n|---|---|---|");
    for (family, meta, rest) in &seconds {
        println!("| {family} | {meta:.0} | {rest:.0} |");
    }
    println!(
        "\nmeta-models: ensemble {}, ≤ {} epochs; {} random draws; total {:.0} s",
        args.ensemble,
        args.aen_epochs,
        args.draws,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
