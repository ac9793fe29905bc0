//! The harnesses as one set of subcommands: the `cargo xtask bench-…`
//! commands and the `metanas-bench` binary both take them from here.

use crate::{
    aen, aon, final_keep, image_search, latency, proxy_ranking, search, train_step, transfer,
};

/// A benchmark harness and its arguments; each prints its table.
#[derive(Debug, clap::Subcommand)]
pub enum Harness {
    /// Measure the AEN predictor on NAS-Bench-201 (from scratch, transfer baselines, meta-init + few-shot adaptation, latency, scoring speed) and print the table.
    BenchAen(aen::BenchAenArgs),
    /// Meta-train the AON (or load one) and compare it with tuned Adam and SGD on 20 held-out (Fashion-MNIST task, unseen cell) pairs; prints the table.
    BenchAon(aon::BenchAonArgs),
    /// Search strategies side by side on a NAS-Bench-201 table task over many seeds: queries to the optimum, regret, a PNG.
    BenchSearch(search::BenchSearchArgs),
    /// Real-training searches on a shipped image dataset, several strategies and seeds: held-out accuracy and wall time.
    BenchImageSearch(image_search::BenchImageSearchArgs),
    /// Final training's kept epoch by each rule (least validation loss, highest validation accuracy, last), paired on one run per cell and seed: test accuracy of each rule's checkpoint.
    BenchFinalKeep(final_keep::BenchFinalKeepArgs),
    /// Cells ranked by cheap proxies (the search's candidate training, the final recipe for a few epochs or seconds) beside a costly target: validation and test accuracy per cell, Spearman ρ against the target.
    BenchProxyRanking(proxy_ranking::BenchProxyRankingArgs),
    /// A new device known by 10 measured cells: leave each latency family out, rank every cell's latency (planned vs random cells), search under its limit.
    BenchLatency(latency::BenchLatencyArgs),
    /// Leave one NAS-Bench-201 family out, meta-train without it, and compare searches on it with and without the meta-model.
    BenchTransfer(transfer::BenchTransferArgs),
    /// Training-step throughput of a NAS-Bench-201 network on each Burn CPU backend, beside PyTorch.
    BenchTrainStep(train_step::BenchTrainStepArgs),
}

impl Harness {
    /// Runs the harness.
    ///
    /// # Errors
    /// The harness's own: bad arguments, missing data, a failed run.
    pub fn run(&self) -> anyhow::Result<()> {
        match self {
            Self::BenchAen(args) => aen::run(args),
            Self::BenchAon(args) => aon::run(args),
            Self::BenchSearch(args) => search::run(args),
            Self::BenchImageSearch(args) => image_search::run(args),
            Self::BenchFinalKeep(args) => final_keep::run(args),
            Self::BenchProxyRanking(args) => proxy_ranking::run(args),
            Self::BenchLatency(args) => latency::run(args),
            Self::BenchTransfer(args) => transfer::run(args),
            Self::BenchTrainStep(args) => train_step::run(args),
        }
    }
}
