//! The metanas command line: `cargo xtask <command>`.
//!
//! Every subcommand's doc comment is its help text (`cargo xtask help`). The
//! `bench-…` subcommands run the harnesses of `metanas-benches`.

mod latency_command;
mod meta_train_command;
mod search_command;
mod test_command;

use clap::{Parser, Subcommand};
use metanas_benches::{aen, aon, image_search, latency, search, train_step, transfer};

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
    /// A new device's latencies: `plan` lists cells to measure on it, `predict` gives every cell's latency from those measured.
    Latency(latency_command::LatencyArgs),
    /// Run the whole test suite (release build, as CI does). Extra arguments go to `cargo test`.
    Test(test_command::TestArgs),
    /// Measure the AEN predictor on NAS-Bench-201 (from scratch, transfer baselines, meta-init + few-shot adaptation, latency, scoring speed) and print the table.
    BenchAen(aen::BenchAenArgs),
    /// Meta-train the AON (or load one) and compare it with tuned Adam and SGD on 20 held-out (Fashion-MNIST task, unseen cell) pairs; prints the table.
    BenchAon(aon::BenchAonArgs),
    /// Search strategies side by side on a NAS-Bench-201 table task over many seeds: queries to the optimum, regret, a PNG.
    BenchSearch(search::BenchSearchArgs),
    /// Real-training searches on a shipped image dataset, several strategies and seeds: held-out accuracy and wall time.
    BenchImageSearch(image_search::BenchImageSearchArgs),
    /// A new device known by 10 measured cells: leave each latency family out, rank every cell's latency (planned vs random cells), search under its limit.
    BenchLatency(latency::BenchLatencyArgs),
    /// Leave one NAS-Bench-201 family out, meta-train without it, and compare searches on it with and without the meta-model.
    BenchTransfer(transfer::BenchTransferArgs),
    /// Training-step throughput of a NAS-Bench-201 network on each Burn CPU backend, beside PyTorch.
    BenchTrainStep(train_step::BenchTrainStepArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Search(args) => search_command::run(&args),
        Command::MetaTrain(args) => meta_train_command::run(&args),
        Command::Latency(args) => latency_command::run(&args),
        Command::Test(args) => test_command::run(&args),
        Command::BenchAen(args) => aen::run(&args),
        Command::BenchAon(args) => aon::run(&args),
        Command::BenchSearch(args) => search::run(&args),
        Command::BenchImageSearch(args) => image_search::run(&args),
        Command::BenchLatency(args) => latency::run(&args),
        Command::BenchTransfer(args) => transfer::run(&args),
        Command::BenchTrainStep(args) => train_step::run(&args),
    }
}
