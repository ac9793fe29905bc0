//! # metanas-benches
//!
//! The benchmark harnesses of metanas: each measures one claim of the project
//! on shipped data, seeded, and prints a table. Users run them as
//! `cargo xtask bench-…` (the command line calls this crate), or from this
//! crate alone as `cargo run --release -p metanas-benches --bin metanas-bench
//! -- bench-<harness> [args]`. Their latest figures, with dates and commits, are in
//! `docs/BENCHMARKS.md`.
//!
//! | harness | `cargo xtask …` | measures |
//! |---|---|---|
//! | [`aen`] | `bench-aen` | the AEN predictor on NAS-Bench-201: from scratch, transfer baselines, meta-init + few-shot adaptation, latency, scoring speed |
//! | [`aon`] | `bench-aon` | the AON against tuned Adam and SGD-Nesterov on held-out (task, cell) pairs |
//! | [`search`] | `bench-search` | search strategies side by side on a table task over many seeds |
//! | [`transfer`] | `bench-transfer` | leave one task family out, meta-train without it, search it with and without the meta-model |
//! | [`latency`] | `bench-latency` | a new device known by 10 measured cells: leave-one-family-out Spearman ρ (planned vs random cells), searches under its latency limit |
//! | [`image_search`] | `bench-image-search` | real-training searches on a shipped image dataset: held-out accuracy and wall time |
//! | [`final_keep`] | `bench-final-keep` | which validated epoch final training keeps: each rule's checkpoint of the same run, scored on the test split |
//! | [`proxy_ranking`] | `bench-proxy-ranking` | how the search's candidate training and short final-recipe runs rank cells, beside a longer run |
//! | [`train_step`] | `bench-train-step` | training-step speed of a NAS-Bench-201 network on each CPU backend beside PyTorch |
//!
//! The criterion benchmarks (`cargo bench -p metanas-benches`) time the
//! search space and data pipeline.

pub mod aen;
pub mod aon;
pub mod final_keep;
mod harness;
pub mod image_search;
pub mod latency;
mod layer_breakdown;
pub mod product_command;
pub mod proxy_ranking;
pub mod search;
pub mod statistics;
pub mod train_step;
pub mod transfer;

pub use harness::Harness;
