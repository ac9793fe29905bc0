//! `cargo xtask bench-final-keep`: which validated epoch final training
//! should keep, measured paired. Each cell and seed is trained once by the
//! final stage's defaults (`cargo xtask search`'s: C=16 N=1, the SGD-Nesterov
//! recipe, a time budget); every validated checkpoint is kept aside, and each
//! [`CheckpointRule`]'s choice among them is scored on the test split after the
//! stage. The rules see the same run, so their test accuracies differ only by
//! the checkpoint each keeps.

use anyhow::{Context, bail};
use burn::module::Module;
use metanas_data::ImageDataset;
use metanas_device::BackendChoice;
use metanas_net::{CellNetwork, Evaluation, evaluate};
use metanas_search::{
    CheckpointRule, FinalData, FinalLength, FinalTrainingConfig, KeptCheckpoint, ReferenceCell,
    train_final_observed,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;

/// Arguments of `cargo xtask bench-final-keep`.
#[derive(Debug, clap::Args)]
pub struct BenchFinalKeepArgs {
    /// Cells to train: `resnet`, `largest` or NAS-Bench-201 cell strings, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "resnet,largest")]
    cells: Vec<String>,
    /// Seeds per cell (0, 1, …).
    #[arg(long, default_value_t = 2)]
    seeds: u64,
    /// Wall-clock budget of each final stage in seconds (the default of `cargo xtask search`).
    #[arg(long, default_value_t = 600.0)]
    final_time: f64,
}

/// Images per batch when scoring a checkpoint on the test split.
const TEST_BATCH: usize = 256;

/// The rules compared, in the table's column order.
const RULES: [CheckpointRule; 3] = [
    CheckpointRule::ValidationLoss,
    CheckpointRule::ValidationAccuracy,
    CheckpointRule::Last,
];

/// One stage: each rule's kept epoch and its test accuracy (%).
struct Row {
    cell: String,
    seed: u64,
    epochs: f64,
    kept: Vec<(f64, f64)>,
}

/// Runs the harness on shipped Fashion-MNIST (10,000 training, 10,000 test images).
///
/// # Errors
/// Bad cells or budget, the shipped data, a failed stage.
pub fn run(args: &BenchFinalKeepArgs) -> anyhow::Result<()> {
    if !(args.final_time.is_finite() && args.final_time > 0.0) {
        bail!(
            "--final-time must be a positive number of seconds, got {}",
            args.final_time
        );
    }
    let cells = args
        .cells
        .iter()
        .map(|c| cell_string(c))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let train = metanas_data::shipped::fashion_mnist_train10k()?;
    let test = metanas_data::shipped::fashion_mnist_test()?;
    let device = BackendChoice::default().autodiff_device();
    let mut rows = Vec::new();
    for (name, architecture) in &cells {
        let arch = Nb201Space.parse(architecture)?;
        for seed in 0..args.seeds {
            eprintln!("== {name}, seed {seed}: {}-s final stage", args.final_time);
            let config = FinalTrainingConfig::new()
                .with_length(FinalLength::Seconds(args.final_time))
                .with_seed(seed);
            let mut checkpoints: Vec<(usize, Evaluation, CellNetwork)> = Vec::new();
            let model = train_final_observed(
                &arch,
                Nb201Space.name(),
                architecture,
                FinalData {
                    train: &train,
                    test: &test,
                },
                &config,
                &device,
                &mut |_| {},
                &mut |c| checkpoints.push((c.step, c.validation, c.network.valid())),
            )
            .with_context(|| format!("final training of {name}, seed {seed}"))?;
            let result = &model.result;
            let normalisation = model.model.metadata.normalisation.as_ref();
            // Each checkpoint a rule keeps is scored once, however many rules keep it.
            let mut accuracies: Vec<Option<f64>> = vec![None; checkpoints.len()];
            let mut kept = Vec::new();
            for rule in RULES {
                let index = kept_index(rule, &checkpoints)
                    .context("the stage validated no checkpoint (no validation split)")?;
                let (step, _, network) = &checkpoints[index];
                let accuracy = match accuracies[index] {
                    Some(accuracy) => accuracy,
                    None => 100.0 * scored(network, &test, normalisation)?.accuracy,
                };
                accuracies[index] = Some(accuracy);
                kept.push((result.epochs_at(*step), accuracy));
            }
            let row = Row {
                cell: name.clone(),
                seed,
                epochs: result.epochs,
                kept,
            };
            eprintln!("   {}", cells_of(&row));
            rows.push(row);
        }
    }
    print_table(&rows);
    Ok(())
}

/// The test score of a kept checkpoint.
fn scored(
    network: &CellNetwork,
    test: &ImageDataset,
    normalisation: Option<&metanas_data::Normalisation>,
) -> anyhow::Result<Evaluation> {
    let device = BackendChoice::default().device();
    Ok(evaluate(network, test, normalisation, TEST_BATCH, &device)?)
}

/// The index of the checkpoint `rule` keeps among `checkpoints` (in step order).
fn kept_index<M>(rule: CheckpointRule, checkpoints: &[(usize, Evaluation, M)]) -> Option<usize> {
    let mut kept = KeptCheckpoint::new(rule);
    for (index, (step, validation, _)) in checkpoints.iter().enumerate() {
        kept.offer(*validation, *step, || index);
    }
    kept.into_inner().map(|(index, _, _)| index)
}

/// A cell argument as its name and NAS-Bench-201 string.
pub(crate) fn cell_string(cell: &str) -> anyhow::Result<(String, String)> {
    match cell.parse::<ReferenceCell>() {
        Ok(reference) => Ok((
            reference.name().to_string(),
            reference.architecture().to_string(),
        )),
        Err(_) => {
            Nb201Space.parse(cell).with_context(|| {
                format!("--cells: `{cell}` is neither resnet, largest nor a NAS-Bench-201 cell")
            })?;
            Ok((cell.to_string(), cell.to_string()))
        }
    }
}

/// A row's rule columns: kept epoch and test accuracy per rule.
fn cells_of(row: &Row) -> String {
    row.kept
        .iter()
        .zip(RULES)
        .map(|((epoch, accuracy), rule)| format!("{rule}: epoch {epoch:.1}, {accuracy:.2} %"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn print_table(rows: &[Row]) {
    println!();
    println!("## fashion-mnist — the kept epoch of final training, by rule (paired: one run each)");
    println!();
    let header: Vec<String> = RULES
        .iter()
        .map(|r| format!("{r}: kept epoch | {r}: test %"))
        .collect();
    println!("| cell | seed | epochs | {} |", header.join(" | "));
    println!("|---|---|---|{}", "---|---|".repeat(RULES.len()));
    for r in rows {
        let columns: Vec<String> = r
            .kept
            .iter()
            .map(|(epoch, accuracy)| format!("{epoch:.1} | {accuracy:.2}"))
            .collect();
        println!(
            "| {} | {} | {:.1} | {} |",
            r.cell,
            r.seed,
            r.epochs,
            columns.join(" | ")
        );
    }
    println!();
    println!("| rule | mean test % | runs where it is highest (ties count for each) |");
    println!("|---|---|---|");
    for (i, rule) in RULES.iter().enumerate() {
        let mean = rows.iter().map(|r| r.kept[i].1).sum::<f64>() / rows.len().max(1) as f64;
        let highest = rows
            .iter()
            .filter(|r| r.kept.iter().all(|(_, a)| r.kept[i].1 >= *a))
            .count();
        println!("| {rule} | {mean:.2} | {highest} of {} |", rows.len());
    }
}
