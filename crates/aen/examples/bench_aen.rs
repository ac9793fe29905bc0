//! The same benchmark as `cargo xtask bench-aen`, runnable from this crate alone:
//! `cargo run --release -p metanas-aen --example bench_aen -- [--quick] [--seeds N]`.

#[path = "../../../xtask/src/bench_aen.rs"]
mod bench_aen;

use clap::Parser;

/// The AEN benchmark table on NAS-Bench-201.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: bench_aen::BenchAenArgs,
}

fn main() -> anyhow::Result<()> {
    bench_aen::run(&Cli::parse().args)
}
