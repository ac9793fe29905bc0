//! `cargo xtask test`: the suite CI runs.

use anyhow::{Context, bail};
use std::process::Command;

/// Arguments of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Extra arguments passed to `cargo test` (after `--workspace --release`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub cargo_args: Vec<String>,
}

/// Runs `cargo test --workspace --release` with the same profile as the
/// command line, so the heavy Burn build is shared.
pub fn run(args: &TestArgs) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace", "--release"])
        .args(&args.cargo_args)
        .status()
        .context("could not start `cargo test`")?;
    if !status.success() {
        bail!("tests failed ({status})");
    }
    Ok(())
}
