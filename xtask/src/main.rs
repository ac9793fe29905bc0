//! The metanas command line: `cargo xtask <command>`.
//!
//! Every subcommand's doc comment is its help text (`cargo xtask help`).

mod bench_aen;
mod bench_aon;
mod bench_image_search;
mod bench_search;
mod bench_train_step;
mod bench_transfer;
mod layer_breakdown;
mod meta_train_command;
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
    /// Meta-train the AEN (on benchmark columns) and the AON (on MNIST image tasks) into a meta-model folder; resumable.
    MetaTrain(meta_train_command::MetaTrainArgs),
    /// Run the whole test suite (release build, as CI does). Extra arguments go to `cargo test`.
    Test(test_command::TestArgs),
    /// Measure the AEN predictor on NAS-Bench-201 (from scratch, transfer baselines, meta-init + few-shot adaptation, latency, scoring speed) and print the table.
    BenchAen(bench_aen::BenchAenArgs),
    /// Meta-train the AON (or load one) and compare it with tuned Adam and SGD on 20 held-out (Fashion-MNIST task, unseen cell) pairs; prints the table.
    BenchAon(bench_aon::BenchAonArgs),
    /// Search strategies side by side on a NAS-Bench-201 table task over many seeds: queries to the optimum, regret, a PNG.
    BenchSearch(bench_search::BenchSearchArgs),
    /// Real-training searches on a shipped image dataset, several strategies and seeds: held-out accuracy and wall time.
    BenchImageSearch(bench_image_search::BenchImageSearchArgs),
    /// Leave one NAS-Bench-201 family out, meta-train without it, and compare searches on it with and without the meta-model.
    BenchTransfer(bench_transfer::BenchTransferArgs),
    /// Training-step throughput of a NAS-Bench-201 network on each Burn CPU backend, beside PyTorch.
    BenchTrainStep(bench_train_step::BenchTrainStepArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Search(args) => search_command::run(&args),
        Command::MetaTrain(args) => meta_train_command::run(&args),
        Command::Test(args) => test_command::run(&args),
        Command::BenchAen(args) => bench_aen::run(&args),
        Command::BenchAon(args) => bench_aon::run(&args),
        Command::BenchSearch(args) => bench_search::run(&args),
        Command::BenchImageSearch(args) => bench_image_search::run(&args),
        Command::BenchTransfer(args) => bench_transfer::run(&args),
        Command::BenchTrainStep(args) => bench_train_step::run(&args),
    }
}
