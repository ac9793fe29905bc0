//! `cargo xtask search --storage postgres://… --study NAME`: one search, many
//! workers. Every worker runs the same command; the study in PostgreSQL says
//! which trial each one evaluates, and the first worker to find the budget
//! spent runs the final stage.

use anyhow::{Context, bail};
use metanas_search::{Evaluator, SearchOutcome, Searcher, Strategy, TrialOutcome};
use metanas_space::SearchSpace;
use metanas_study::{
    PostgresStudy, Reconnect, StudyAddress, StudyError, StudySettings, StudyWorker, WorkerEnd,
    WorkerEvent, host_name,
};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// The options of a search shared by several workers.
#[derive(Debug, Clone, clap::Args)]
pub struct DistributedArgs {
    /// A study shared by several workers, in a PostgreSQL database:
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`. Every worker of one
    /// search, on any machine, runs the same command. Without it the search
    /// is recorded in its SQLite --store.
    #[arg(long, requires = "study")]
    pub storage: Option<String>,
    /// The study's name in --storage (created by its first worker).
    #[arg(long, requires = "storage")]
    pub study: Option<String>,
    /// Worker processes to start on this machine (several need --storage postgres://…).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Seconds a claimed trial stays its worker's without a heartbeat (the
    /// study's first worker sets it; make it longer than a network outage you
    /// want to ride out).
    #[arg(long, default_value_t = 60.0)]
    pub lease_seconds: f64,
    /// Tries of a trial whose worker is lost, before it is recorded as failed.
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
}

/// The study this process runs the final stage of, held (with its final
/// lock) until the results are written.
static FINALIZING: Mutex<Option<PostgresStudy>> = Mutex::new(None);

/// With `--workers N` (N > 1), starts N worker processes of this same command
/// and waits for them: returns `true` when it did (the caller has nothing left to do).
///
/// # Errors
/// Several workers without `--storage postgres://…`; a worker that fails.
pub fn spawn_workers(args: &DistributedArgs) -> anyhow::Result<bool> {
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    if args.workers == 1 {
        return Ok(false);
    }
    if args.storage.is_none() {
        bail!(
            "--workers {} needs --storage postgres://USER@HOST:PORT/DB --study NAME: the SQLite store serves one process (its resume replays one strategy's stream), so several workers share a study in PostgreSQL",
            args.workers
        );
    }
    let program = std::env::current_exe().context("finding this program")?;
    let mut command_args: Vec<std::ffi::OsString> = Vec::new();
    let mut given = std::env::args_os().skip(1);
    while let Some(arg) = given.next() {
        if arg == "--workers" {
            given.next();
        } else if !arg.to_string_lossy().starts_with("--workers=") {
            command_args.push(arg);
        }
    }
    // The workers' progress bars would overwrite one another.
    if !command_args.iter().any(|a| a == "--quiet") {
        command_args.push("--quiet".into());
    }
    let mut children = Vec::new();
    for i in 0..args.workers {
        let child = Command::new(&program)
            .args(&command_args)
            .spawn()
            .with_context(|| format!("starting worker {i}"))?;
        children.push(child);
    }
    eprintln!(
        "{} workers started on {} (pids {})",
        args.workers,
        host_name(),
        children
            .iter()
            .map(|c| c.id().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut failed = Vec::new();
    for (i, mut child) in children.into_iter().enumerate() {
        let status = child
            .wait()
            .with_context(|| format!("waiting for worker {i}"))?;
        if !status.success() {
            failed.push(format!("worker {i} ({status})"));
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} workers failed: {}",
            failed.len(),
            args.workers,
            failed.join(", ")
        );
    }
    Ok(true)
}

/// Runs this process as a worker of the study. Returns the study's trials when
/// this worker runs the final stage, `None` when another one does (it says where).
///
/// # Errors
/// Bad or unreachable storage, a refused login, a study of other settings
/// (nothing is written then), database errors that outlast reconnection.
pub fn run_study<S: SearchSpace>(
    args: &DistributedArgs,
    time_limit: Option<f64>,
    searcher: &Searcher<S>,
    strategy: &mut dyn Strategy<S>,
    evaluator: &mut dyn Evaluator<S>,
    out: &Path,
) -> anyhow::Result<Option<SearchOutcome>> {
    let (Some(storage), Some(name)) = (&args.storage, &args.study) else {
        bail!("--storage and --study go together");
    };
    if time_limit.is_some() {
        bail!("--time-limit is not supported with --storage: a study ends at its --budget");
    }
    if !(args.lease_seconds.is_finite() && args.lease_seconds > 0.0) {
        bail!(
            "--lease-seconds must be a positive number, got {}",
            args.lease_seconds
        );
    }
    let address = StudyAddress::parse(storage)?;
    let config = searcher.config();
    let settings = StudySettings {
        name: name.clone(),
        settings_key: searcher.search_key(strategy, evaluator),
        budget: config.max_queries,
        seed: config.seed,
        maximize: matches!(evaluator.objective(), metanas_data::Objective::Maximize),
        max_attempts: args.max_attempts,
        lease: Duration::from_secs_f64(args.lease_seconds),
    };
    let worker = format!(
        "{}:{}:{:04x}",
        host_name(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() & 0xffff)
    );
    let out_dir = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let out_text = out_dir.display().to_string();
    let mut study = PostgresStudy::join(
        &address,
        &settings,
        &worker,
        &out_text,
        Reconnect::default(),
    )
    .map_err(|error| {
        let stored = match &error {
            StudyError::SettingsMismatch { stored, .. } => Some(stored.clone()),
            _ => None,
        };
        crate::search_command::with_starting_cells_hint::<S>(
            error,
            stored.as_deref(),
            &settings.settings_key,
            "join it with --start-cells none",
        )
    })
    .with_context(|| format!("joining study `{name}`"))?;
    eprintln!(
        "worker {worker} of study `{name}` in {address}: {} with {}",
        evaluator.describe(),
        strategy.describe()
    );
    let end = StudyWorker::new(&mut study, searcher.space(), searcher.constraints()).run(
        strategy,
        evaluator,
        &out_text,
        &mut |event| match event {
            WorkerEvent::Evaluated {
                claim,
                outcome,
                accepted,
            } => {
                let result = match outcome {
                    TrialOutcome::Finished(m) => format!("objective {:.4}", m.objective),
                    TrialOutcome::Failed { error } => format!("failed: {error}"),
                };
                eprintln!(
                    "trial {} (attempt {}): {} {result}{}",
                    claim.number,
                    claim.attempt,
                    claim.architecture,
                    if accepted {
                        ""
                    } else {
                        " — refused: its lease ran out and another worker took the trial"
                    }
                );
            }
            WorkerEvent::Expired(lease) => eprintln!(
                "trial {}: worker {} lost its lease; {}",
                lease.number,
                lease.worker,
                if lease.failed {
                    "no attempt left, recorded as failed"
                } else {
                    "back to waiting"
                }
            ),
            WorkerEvent::Claimed(_) | WorkerEvent::Proposed { .. } => {}
        },
    )?;
    match end {
        WorkerEnd::Finalize(outcome) => {
            eprintln!(
                "budget spent ({} trials); this worker runs the final stage into {}",
                outcome.trials.len(),
                out_dir.display()
            );
            *FINALIZING
                .lock()
                .map_err(|_| anyhow::anyhow!("final-stage lock poisoned"))? = Some(study);
            Ok(Some(outcome))
        }
        WorkerEnd::FinalElsewhere {
            worker,
            out_dir,
            done,
        } => {
            println!(
                "study `{name}`: the budget is spent; worker {worker} {} the final stage: results in {out_dir}/results.json (see `cargo xtask study --storage … --study {name}`)",
                if done { "ran" } else { "runs" }
            );
            Ok(None)
        }
    }
}

/// Marks the study's final stage done, when this process ran it.
///
/// # Errors
/// Database errors.
pub fn final_stage_done() -> anyhow::Result<()> {
    let study = FINALIZING
        .lock()
        .map_err(|_| anyhow::anyhow!("final-stage lock poisoned"))?
        .take();
    if let Some(mut study) = study {
        study.final_done()?;
        study.leave()?;
    }
    Ok(())
}
