//! `cargo xtask study`: the state of a study shared by several workers.

use metanas_study::{PostgresStudy, StudyAddress, StudyStatus};

/// Arguments of `cargo xtask study`.
#[derive(Debug, clap::Args)]
pub struct StudyArgs {
    /// The database: `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`.
    #[arg(long)]
    storage: String,
    /// The study's name.
    #[arg(long)]
    study: String,
}

/// Prints trials by state, the best so far, the workers by heartbeat, the
/// failures and where the final stage's results are.
pub fn run(args: &StudyArgs) -> anyhow::Result<()> {
    let address = StudyAddress::parse(&args.storage)?;
    let mut study = PostgresStudy::open_existing(&address, &args.study)?;
    print!("{}", StudyStatus::read(&mut study)?.report());
    Ok(())
}
