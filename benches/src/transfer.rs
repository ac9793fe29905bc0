//! `cargo xtask bench-transfer`: leave one task family out, meta-train
//! without it, and compare searches on it with and without the meta-model.

use crate::product_command::ProductCommand;
use crate::search::{TableBench, default_transfer_source, ranking_by};
use anyhow::{Context, bail};
use metanas_data::{TaskCatalog, shipped};
use metanas_device::BackendChoice;
use metanas_meta::MetaModel;
use metanas_search::{
    FixedOrder, Strategy, acquisition_by_name, meta_strategy, shipped_source_values,
    strategy_by_name,
};
use metanas_space::nb201::Nb201Space;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `cargo xtask bench-transfer`.
#[derive(Debug, clap::Args)]
pub struct BenchTransferArgs {
    /// Target validation columns; each is searched with a meta-model trained without its family.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "c10v_valid,c100_valid,in16_valid"
    )]
    targets: Vec<String>,
    /// Strategies: random, evolution, local, bo, bo-ucb, bo-ts (from scratch), transfer
    /// (the best single source column's order), meta-bo, meta-bo-ucb, meta-bo-ts (with the meta-model).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "random,evolution,transfer,bo,meta-bo"
    )]
    strategies: Vec<String>,
    /// Seeds per strategy.
    #[arg(long, default_value_t = 25)]
    seeds: u64,
    /// Queries per search.
    #[arg(long, default_value_t = 100)]
    budget: usize,
    /// AEN ensemble members of each meta-model.
    #[arg(long, default_value_t = 5)]
    ensemble: usize,
    /// Most AEN epochs of each meta-model.
    #[arg(long, default_value_t = 30)]
    aen_epochs: usize,
    /// Device: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    device: BackendChoice,
    /// Output folder (meta-models are kept in it and reused).
    #[arg(long, default_value = "runs/bench-transfer")]
    out: PathBuf,
    /// Meta-models also learn from the report-only columns of the families
    /// kept (`meta-train --report-columns-as-sources`); their folders and the
    /// results go to `<out>/…-report-columns` and `<out>/report-columns-as-sources`.
    #[arg(long)]
    report_columns_as_sources: bool,
}

/// Runs the command.
pub fn run(args: &BenchTransferArgs) -> anyhow::Result<()> {
    if args.seeds == 0 || args.budget == 0 {
        bail!("--seeds and --budget must be at least 1");
    }
    let space = Nb201Space;
    // A run whose meta-models read other sources writes its results apart,
    // so it never overwrites the default run's.
    let results_dir = if args.report_columns_as_sources {
        args.out.join("report-columns-as-sources")
    } else {
        args.out.clone()
    };
    let table = Arc::new(shipped::nb201_table()?);
    let catalog = TaskCatalog::nb201_accuracy(table.column_names());
    let device = args.device.device();
    let needs_meta = args.strategies.iter().any(|s| s.starts_with("meta-"));
    let command = if needs_meta {
        Some(ProductCommand::locate()?)
    } else {
        None
    };
    let mut summaries = Vec::new();
    for target in &args.targets {
        let Some(task) = catalog.task(target) else {
            bail!("`{target}` is not a searchable column of the NAS-Bench-201 table");
        };
        let family = task.family.clone();
        let meta_dir = args.out.join(format!(
            "meta-without-{family}{}",
            if args.report_columns_as_sources {
                "-report-columns"
            } else {
                ""
            }
        ));
        let meta = if let Some(command) = &command {
            // `cargo xtask meta-train` as a user runs it: the AEN only (no AON,
            // no image cells), resumed from the folder when it is complete.
            let mut line: Vec<String> = [
                "meta-train",
                "--out",
                &meta_dir.display().to_string(),
                "--exclude",
                &family,
                "--sources",
                "accuracy",
                "--ensemble",
                &args.ensemble.to_string(),
                "--aen-epochs",
                &args.aen_epochs.to_string(),
                "--aon-steps",
                "0",
                "--aon-validation-problems",
                "0",
                "--image-cells",
                "0",
                "--seed",
                "0",
                "--device",
                args.device.name(),
            ]
            .map(str::to_string)
            .to_vec();
            if args.report_columns_as_sources {
                line.push("--report-columns-as-sources".into());
            }
            command.run(&line)?;
            let model = MetaModel::load(&meta_dir, &device)
                .with_context(|| format!("loading the meta-model {}", meta_dir.display()))?;
            if let Some(reason) = model.saw(target) {
                bail!("the meta-model for {target} saw it: {reason}");
            }
            Some(model)
        } else {
            None
        };
        let report = task.report_column.clone();
        let objective = task.objective;
        let optimum = table.max(&report)?.1;
        let source = default_transfer_source(target);
        let bench = TableBench {
            table: table.clone(),
            target: target.clone(),
            report: report.clone(),
            objective,
            optimum,
            budget: args.budget,
            seeds: args.seeds,
        };
        let mut all = Vec::new();
        for name in &args.strategies {
            all.push(bench.run(name, &mut |_| -> anyhow::Result<
                Box<dyn Strategy<Nb201Space>>,
            > {
                if name == "transfer" {
                    return Ok(Box::new(FixedOrder::new(ranking_by(
                        &table, source, objective,
                    )?)));
                }
                match (&meta, name.starts_with("meta-")) {
                    (Some(m), true) => Ok(meta_strategy(
                        &space,
                        m.aen.clone(),
                        shipped_source_values(m.aen.task_names())?,
                        &[],
                        acquisition_by_name(name)?,
                    )?),
                    _ => Ok(strategy_by_name(name, &space, &device, args.budget)?),
                }
            })?);
        }
        bench.print_table(source, &all);
        bench.write_outputs(&results_dir, &all)?;
        summaries.push(target.clone());
    }
    println!();
    println!(
        "done: {} (tables above; JSON and PNG in {})",
        summaries.join(", "),
        results_dir.display()
    );
    Ok(())
}
