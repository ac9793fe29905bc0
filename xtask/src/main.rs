//! The metanas command line: `cargo xtask <command>`.
//!
//! Every subcommand's doc comment is its help text (`cargo xtask help`). The
//! `bench-…` subcommands run the harnesses of `metanas-benches`.

mod aon_table_command;
mod distributed_search;
mod final_stage;
mod final_stage_args;
mod latency_command;
mod meta_train_command;
mod predict_command;
mod search_command;
mod study_command;
mod test_command;

use clap::{Parser, Subcommand};
use metanas_benches::Harness;

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
    Search(Box<search_command::SearchArgs>),
    /// The state of a study that several workers search (`search --storage postgres://… --study NAME`).
    Study(study_command::StudyArgs),
    /// Meta-train the AEN (on benchmark columns) and the AON (on MNIST image tasks) into a meta-model folder; resumable.
    MetaTrain(meta_train_command::MetaTrainArgs),
    /// Measure the table an architecture-conditioned AON learns from: MNIST candidates, each trained with every setting of a grid (resumable CSV).
    AonTable(aon_table_command::AonTableArgs),
    /// A new device's latencies: `plan` lists cells to measure on it, `predict` gives every cell's latency from those measured.
    Latency(latency_command::LatencyArgs),
    /// Classify images (a folder, an IDX or a CSV file) with a model saved by `search`; writes a CSV of predictions.
    Predict(predict_command::PredictArgs),
    /// Run the whole test suite (release build, as CI does). Extra arguments go to `cargo test`.
    Test(test_command::TestArgs),
    /// The benchmark harnesses (`bench-…`) of metanas-benches.
    #[command(flatten)]
    Bench(Harness),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Search(args) => search_command::run(&args),
        Command::Study(args) => study_command::run(&args),
        Command::MetaTrain(args) => meta_train_command::run(&args),
        Command::AonTable(args) => aon_table_command::run(&args),
        Command::Latency(args) => latency_command::run(&args),
        Command::Predict(args) => predict_command::run(&args),
        Command::Test(args) => test_command::run(&args),
        Command::Bench(harness) => harness.run(),
    }
}
