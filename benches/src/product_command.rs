//! Runs metanas's own command line (`cargo xtask search`, `meta-train`) as a
//! user would, for the harnesses that measure a whole command.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

/// Environment variable naming the metanas command-line program (the
/// `xtask` binary) when it is not found beside the running one.
pub const PROGRAM_VARIABLE: &str = "METANAS_XTASK";

/// The metanas command-line program.
#[derive(Debug, Clone)]
pub struct ProductCommand {
    program: PathBuf,
}

impl ProductCommand {
    /// The program: `$METANAS_XTASK` if set; the running program if it is
    /// `xtask` (as under `cargo xtask bench-…`); else the `xtask` binary
    /// beside it in the same target folder.
    ///
    /// # Errors
    /// When none of these exists, saying how to build it.
    pub fn locate() -> anyhow::Result<Self> {
        if let Some(program) = std::env::var_os(PROGRAM_VARIABLE) {
            return Ok(Self {
                program: PathBuf::from(program),
            });
        }
        let current = std::env::current_exe().context("locating the running program")?;
        let name = format!("xtask{}", std::env::consts::EXE_SUFFIX);
        if current.file_name().is_some_and(|n| n == name.as_str()) {
            return Ok(Self { program: current });
        }
        let beside = current.with_file_name(&name);
        if beside.is_file() {
            return Ok(Self { program: beside });
        }
        bail!(
            "this harness runs metanas's command line, which is not built: run it as `cargo xtask bench-…`, or build it with `cargo build --release -p xtask` (or set {PROGRAM_VARIABLE} to its path)"
        )
    }

    /// Runs the command with `args` (e.g. `["search", "--task", …]`), its
    /// output going to this process's, and fails unless it succeeds.
    ///
    /// # Errors
    /// When the program cannot start or exits unsuccessfully.
    pub fn run(&self, args: &[String]) -> anyhow::Result<()> {
        let status = Command::new(&self.program)
            .args(args)
            .status()
            .with_context(|| format!("starting {}", self.program.display()))?;
        if !status.success() {
            bail!("`{}` failed ({status})", args.join(" "));
        }
        Ok(())
    }
}
