//! The benchmark harnesses from this crate alone:
//! `cargo run --release -p metanas-benches --bin metanas-bench -- <harness> [args]`
//! (the same as `cargo xtask bench-<harness> [args]`).

use clap::{Parser, Subcommand};
use metanas_benches::{aen, aon, image_search, latency, search, train_step, transfer};

/// metanas's benchmark harnesses; each prints its table.
#[derive(Debug, Parser)]
#[command(name = "metanas-bench", version)]
struct Cli {
    #[command(subcommand)]
    harness: Harness,
}

#[derive(Debug, Subcommand)]
enum Harness {
    /// The AEN predictor on NAS-Bench-201 (`cargo xtask bench-aen`).
    Aen(aen::BenchAenArgs),
    /// The AON against tuned Adam and SGD-Nesterov (`cargo xtask bench-aon`).
    Aon(aon::BenchAonArgs),
    /// Search strategies on a NAS-Bench-201 table task (`cargo xtask bench-search`).
    Search(search::BenchSearchArgs),
    /// Real-training searches on a shipped image dataset (`cargo xtask bench-image-search`).
    ImageSearch(image_search::BenchImageSearchArgs),
    /// A new device from 10 measured cells (`cargo xtask bench-latency`).
    Latency(latency::BenchLatencyArgs),
    /// Leave-one-family-out transfer (`cargo xtask bench-transfer`).
    Transfer(transfer::BenchTransferArgs),
    /// Training-step speed beside PyTorch (`cargo xtask bench-train-step`).
    TrainStep(train_step::BenchTrainStepArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().harness {
        Harness::Aen(args) => aen::run(&args),
        Harness::Aon(args) => aon::run(&args),
        Harness::Search(args) => search::run(&args),
        Harness::ImageSearch(args) => image_search::run(&args),
        Harness::Latency(args) => latency::run(&args),
        Harness::Transfer(args) => transfer::run(&args),
        Harness::TrainStep(args) => train_step::run(&args),
    }
}
