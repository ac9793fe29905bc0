//! A study worker for the integration tests: NAS-Bench-201 lookups on the
//! shipped table, each made to take `--delay-ms`, so that workers overlap as
//! they do when candidates are trained. It prints one line per event on
//! stdout (`claimed N A`, `evaluated N A OBJECTIVE accepted|refused`, then
//! `finalize` or `final-elsewhere WORKER DIR`), for the tests to compare with
//! the database.

use metanas_data::{Objective, shipped};
use metanas_search::{
    Constraints, Evaluator, Measurement, RandomSearch, RegularizedEvolution, SearchConfig,
    Searcher, Strategy, TableEvaluator, TrialOutcome,
};
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use metanas_study::{
    PostgresStudy, Reconnect, StudyAddress, StudySettings, StudyWorker, WorkerEnd, WorkerEvent,
};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// A table lookup that takes `delay`.
struct SlowLookup {
    table: TableEvaluator<Nb201Space>,
    delay: Duration,
}

impl Evaluator<Nb201Space> for SlowLookup {
    fn describe(&self) -> String {
        self.table.describe()
    }

    fn objective(&self) -> Objective {
        self.table.objective()
    }

    fn evaluate(&mut self, arch: &Nb201Cell, seed: u64) -> metanas_search::Result<Measurement> {
        std::thread::sleep(self.delay);
        self.table.evaluate(arch, seed)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut options: HashMap<String, String> = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let name = flag.trim_start_matches("--").to_string();
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        options.insert(name, value);
    }
    let get = |name: &str, default: &str| -> String {
        options
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let storage = options.get("storage").ok_or("--storage is required")?;
    let budget: usize = get("budget", "16").parse()?;
    let seed: u64 = get("seed", "0").parse()?;
    let column = get("column", "c100_valid");
    let space = Nb201Space;
    let table = Arc::new(shipped::nb201_table()?);
    let mut evaluator = SlowLookup {
        table: TableEvaluator::new(table, &column, None, Objective::Maximize)?,
        delay: Duration::from_millis(get("delay-ms", "200").parse()?),
    };
    let mut strategy: Box<dyn Strategy<Nb201Space>> = match get("strategy", "random").as_str() {
        "random" => Box::new(RandomSearch::default()),
        "evolution" => Box::new(RegularizedEvolution::default()),
        other => return Err(format!("unknown strategy {other}").into()),
    };
    let searcher = Searcher::new(
        space,
        Constraints::default(),
        SearchConfig::new().with_seed(seed).with_max_queries(budget),
    );
    let settings = StudySettings {
        name: get("study", "test"),
        settings_key: searcher.search_key(strategy.as_ref(), &evaluator),
        budget,
        seed,
        maximize: true,
        max_attempts: get("attempts", "3").parse()?,
        lease: Duration::from_secs_f64(get("lease-s", "2").parse()?),
    };
    let address = StudyAddress::parse(storage)?;
    let worker = format!("{}:{}", get("name", "worker"), std::process::id());
    let out = get("out", "");
    let mut study = PostgresStudy::join(&address, &settings, &worker, &out, Reconnect::default())?;
    println!("joined {worker}");
    let constraints = Constraints::default();
    let end = StudyWorker::new(&mut study, &space, &constraints).run(
        strategy.as_mut(),
        &mut evaluator,
        &out,
        &mut |event| match event {
            WorkerEvent::Claimed(claim) => println!("claimed {} {}", claim.number, claim.attempt),
            WorkerEvent::Evaluated {
                claim,
                outcome,
                accepted,
            } => {
                let objective = match outcome {
                    TrialOutcome::Finished(m) => m.objective,
                    TrialOutcome::Failed { .. } => f64::NAN,
                };
                println!(
                    "evaluated {} {} {objective:?} {}",
                    claim.number,
                    claim.attempt,
                    if accepted { "accepted" } else { "refused" }
                );
            }
            WorkerEvent::Proposed {
                number,
                architecture,
            } => println!("proposed {number} {architecture}"),
            WorkerEvent::Expired(lease) => println!(
                "expired {} {} {}",
                lease.number,
                lease.worker,
                if lease.failed { "failed" } else { "waiting" }
            ),
        },
    )?;
    match end {
        WorkerEnd::Finalize(outcome) => {
            println!("finalize {}", outcome.trials.len());
            study.final_done()?;
        }
        WorkerEnd::FinalElsewhere {
            worker, out_dir, ..
        } => {
            println!("final-elsewhere {worker} {out_dir}");
        }
    }
    println!("reconnects {}", study.reconnects());
    Ok(())
}
