//! The metanas command line: `cargo xtask <command>`.
//!
//! Every subcommand's doc comment is its help text (`cargo xtask help`).

mod bench_aen;
mod bench_search;
mod bench_train_step;
mod plot;
mod search_command;
mod strategy_choice;
mod test_command;

use clap::{Parser, Subcommand};

/// metanas: neural architecture search that learns from earlier searches.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Search for the best architecture for a task and train it (defaults: a real search on shipped Fashion-MNIST).
    Search(search_command::SearchArgs),
    /// Run the whole test suite (release build, as CI does). Extra arguments go to `cargo test`.
    Test(test_command::TestArgs),
    /// Measure the AEN predictor on NAS-Bench-201 (from scratch, transfer baselines, meta-init + few-shot adaptation, latency, scoring speed) and print the table.
    BenchAen(bench_aen::BenchAenArgs),
    /// Search strategies side by side on a NAS-Bench-201 table task over many seeds: queries to the optimum, regret, a PNG.
    BenchSearch(bench_search::BenchSearchArgs),
    /// Training-step throughput of a NAS-Bench-201 network on each Burn CPU backend, beside PyTorch.
    BenchTrainStep(bench_train_step::BenchTrainStepArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Search(args) => search_command::run(&args),
        Command::Test(args) => test_command::run(&args),
        Command::BenchAen(args) => bench_aen::run(&args),
        Command::BenchSearch(args) => bench_search::run(&args),
        Command::BenchTrainStep(args) => bench_train_step::run(&args),
    }
}
