//! The benchmark harnesses from this crate alone:
//! `cargo run --release -p metanas-benches --bin metanas-bench -- bench-<harness> [args]`
//! (the same as `cargo xtask bench-<harness> [args]`).

use clap::Parser;
use metanas_benches::Harness;

/// metanas's benchmark harnesses; each prints its table.
#[derive(Debug, Parser)]
#[command(name = "metanas-bench", version)]
struct Cli {
    #[command(subcommand)]
    harness: Harness,
}

fn main() -> anyhow::Result<()> {
    Cli::parse().harness.run()
}
