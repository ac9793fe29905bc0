//! The metanas command line: `cargo xtask <command>`.
//!
//! Every subcommand's doc comment is its help text (`cargo xtask help`).

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
    /// Run the whole test suite (release build, as CI does). Extra arguments go to `cargo test`.
    Test(test_command::TestArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Test(args) => test_command::run(&args),
    }
}
