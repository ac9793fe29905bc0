//! Several worker processes on one study, against a real PostgreSQL server
//! (METANAS_TEST_POSTGRES; see `.ci/test-postgres.sh`).

use super::common::{Worker, accepted, fresh_database, server, stored_trials};
use metanas_data::shipped;
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

fn worker_args<'a>(url: &'a str, budget: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--storage", url, "--study", "s", "--budget", budget];
    args.extend_from_slice(extra);
    args
}

/// Every stored trial is complete, numbered 0..budget, of distinct
/// architectures (canonical hashes), with the table's value as objective.
fn assert_study_complete(url: &str, budget: usize) -> Vec<super::common::Row> {
    let rows = stored_trials(url);
    assert_eq!(rows.len(), budget, "exactly the budget is proposed");
    let table = shipped::nb201_table().expect("table");
    let space = Nb201Space;
    let mut hashes = HashSet::new();
    for (i, (number, architecture, state, _, _, objective)) in rows.iter().enumerate() {
        assert_eq!(*number as usize, i, "no trial is lost");
        assert_eq!(state, "complete", "trial {number}");
        let cell = space.parse(architecture).expect("parses");
        assert!(
            hashes.insert(space.canonical_hash(&cell)),
            "trial {number} repeats an architecture"
        );
        let expected = table.value(&cell, "c100_valid").expect("in the table");
        assert_eq!(*objective, Some(expected), "trial {number}'s stored result");
    }
    rows
}

/// Each stored result is the one its worker computed and reported as accepted.
fn assert_results_match_workers(rows: &[super::common::Row], workers: &[Worker]) {
    let mut computed: HashMap<usize, (u32, f64)> = HashMap::new();
    for w in workers {
        for (number, attempt, objective) in accepted(&w.lines()) {
            assert!(
                computed.insert(number, (attempt, objective)).is_none(),
                "trial {number} was accepted twice"
            );
        }
    }
    for (number, _, _, attempts, _, objective) in rows {
        let (attempt, value) = computed[&(*number as usize)];
        assert_eq!(
            attempt as i32, *attempts,
            "trial {number}: the last claim's result"
        );
        assert_eq!(Some(value), *objective, "trial {number}");
    }
}

#[test]
fn eight_workers_spend_the_budget_exactly_without_duplicates_or_losses() {
    let Some(url) = server() else { return };
    let url = fresh_database(&url, "eight_workers");
    let budget = 24;
    let budget_text = budget.to_string();
    let mut workers: Vec<Worker> = (0..8)
        .map(|_| Worker::start(&worker_args(&url, &budget_text, &["--delay-ms", "500"])))
        .collect();
    for w in &mut workers {
        w.finish(Duration::from_secs(60));
    }
    let rows = assert_study_complete(&url, budget);
    assert_results_match_workers(&rows, &workers);
    let finalizers = workers
        .iter()
        .filter(|w| w.lines().iter().any(|l| l.starts_with("finalize ")))
        .count();
    assert_eq!(finalizers, 1, "the final stage runs once");
    let busy = workers
        .iter()
        .filter(|w| !accepted(&w.lines()).is_empty())
        .count();
    // How many of the 8 took part depends on how fast the processes start on a
    // loaded machine: at least two did, and every one of them ended cleanly.
    assert!(
        busy >= 2,
        "the trials are shared out: {busy} of 8 workers evaluated"
    );
}

#[test]
fn random_proposals_do_not_depend_on_the_number_of_workers() {
    let Some(server_url) = server() else { return };
    let mut architectures = Vec::new();
    for workers in [1, 4] {
        let url = fresh_database(&server_url, &format!("same_stream_{workers}"));
        let mut running: Vec<Worker> = (0..workers)
            .map(|_| {
                Worker::start(&worker_args(
                    &url,
                    "12",
                    &["--delay-ms", "50", "--seed", "7"],
                ))
            })
            .collect();
        for w in &mut running {
            w.finish(Duration::from_secs(60));
        }
        architectures.push(
            assert_study_complete(&url, 12)
                .into_iter()
                .map(|r| r.1)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        architectures[0], architectures[1],
        "trial n's draw comes from (seed, n): the same trials with 1 or 4 workers"
    );
}

#[test]
fn a_killed_worker_and_a_killed_proposer_lose_nothing() {
    let Some(url) = server() else { return };
    let url = fresh_database(&url, "kills");
    let budget = 16;
    let args = worker_args(&url, "16", &["--delay-ms", "400", "--lease-s", "1"]);
    let mut workers: Vec<Worker> = (0..4).map(|_| Worker::start(&args)).collect();
    let claimed_number = |line: String| -> usize {
        line.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("a trial number")
    };
    // The proposer: a worker that proposed, killed while it evaluates.
    let proposer = loop {
        if let Some(i) = workers
            .iter()
            .position(|w| w.lines().iter().any(|l| l.starts_with("proposed ")))
        {
            break i;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let line = workers[proposer]
        .wait_for(Duration::from_secs(10), |l| l.starts_with("claimed "))
        .expect("the proposer claims a trial");
    workers[proposer].child.kill().expect("SIGKILL");
    let lost = vec![claimed_number(line)];
    // Another worker, killed mid-trial.
    let other = (proposer + 1) % workers.len();
    let before = workers[other].lines().len();
    let line = loop {
        let lines = workers[other].lines();
        if let Some(l) = lines[before..].iter().find(|l| l.starts_with("claimed ")) {
            break l.clone();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    workers[other].child.kill().expect("SIGKILL");
    let lost = [lost, vec![claimed_number(line)]].concat();
    let (killed, survivors): (Vec<_>, Vec<_>) = workers
        .into_iter()
        .enumerate()
        .partition(|(i, _)| *i == proposer || *i == other);
    let mut survivors: Vec<Worker> = survivors.into_iter().map(|(_, w)| w).collect();
    for w in &mut survivors {
        w.finish(Duration::from_secs(60));
    }
    let rows = assert_study_complete(&url, budget);
    for number in lost {
        let (_, _, _, attempts, worker, _) = &rows[number];
        assert!(
            *attempts >= 2,
            "trial {number} was run again after its lease"
        );
        let killed_ids: Vec<String> = killed
            .iter()
            .map(|(_, w)| w.child.id().to_string())
            .collect();
        assert!(
            !killed_ids
                .iter()
                .any(|id| worker.as_deref().is_some_and(|w| w.ends_with(id))),
            "trial {number} was finished by a live worker"
        );
    }
    let mut everyone = survivors;
    everyone.extend(killed.into_iter().map(|(_, w)| w));
    assert_results_match_workers(&rows, &everyone);
}

#[test]
fn a_stopped_worker_s_late_result_is_refused() {
    let Some(url) = server() else { return };
    let url = fresh_database(&url, "zombie");
    let args = worker_args(&url, "4", &["--delay-ms", "1500", "--lease-s", "2"]);
    let mut zombie = Worker::start(&args);
    let line = zombie
        .wait_for(Duration::from_secs(20), |l| l.starts_with("claimed "))
        .expect("claims");
    zombie.signal("STOP");
    let number: i32 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number");
    let mut rescuer = Worker::start(&args);
    rescuer
        .wait_for(Duration::from_secs(20), |l| {
            l == format!("claimed {number} 2")
        })
        .expect("the trial is claimed again after the lease");
    zombie.signal("CONT");
    rescuer.finish(Duration::from_secs(60));
    zombie.finish(Duration::from_secs(60));
    assert!(
        zombie
            .lines()
            .iter()
            .any(|l| l.starts_with(&format!("evaluated {number} 1 ")) && l.ends_with("refused")),
        "the late result is refused: {:?}",
        zombie.lines()
    );
    let rows = assert_study_complete(&url, 4);
    let stored = &rows[number as usize];
    assert!(
        stored.3 >= 2,
        "the stored result is a later attempt's: {stored:?}"
    );
    let zombie_name = format!("worker:{}", zombie.child.id());
    assert_ne!(
        stored.4.as_deref(),
        Some(zombie_name.as_str()),
        "not stored by the late worker"
    );
    assert_results_match_workers(&rows, &[zombie, rescuer]);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let refused: i32 = client
        .query_one(
            "SELECT refused FROM metanas_workers WHERE worker = $1",
            &[&zombie_name],
        )
        .expect("reads")
        .get(0);
    assert!(refused >= 1, "the late result is counted as refused");
}

#[test]
fn a_trial_whose_workers_are_lost_too_often_fails_with_the_reason_and_counts() {
    let Some(url) = server() else { return };
    let url = fresh_database(&url, "attempts");
    let args = worker_args(
        &url,
        "6",
        &["--delay-ms", "300", "--lease-s", "1", "--attempts", "1"],
    );
    let mut lost = Worker::start(&args);
    let line = lost
        .wait_for(Duration::from_secs(20), |l| l.starts_with("claimed "))
        .expect("claims");
    lost.child.kill().expect("SIGKILL");
    lost.child.wait().expect("reaped");
    let number: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number");
    let mut survivor = Worker::start(&args);
    survivor.finish(Duration::from_secs(60));
    let rows = stored_trials(&url);
    assert_eq!(rows.len(), 6, "the failed trial counts in the budget");
    let failed: Vec<_> = rows.iter().filter(|r| r.2 == "failed").collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0].0 as usize, number);
    assert!(rows.iter().filter(|r| r.2 == "complete").count() == 5);

    let address = metanas_study::StudyAddress::parse(&url).expect("parses");
    let mut study = metanas_study::PostgresStudy::open_existing(&address, "s").expect("opens");
    let status = metanas_study::StudyStatus::read(&mut study).expect("reads");
    assert_eq!(status.counts.finished(), 6);
    assert_eq!(status.failures.len(), 1);
    assert!(
        status.failures[0].1.contains("lost its worker 1 times"),
        "{:?}",
        status.failures
    );
    let report = status.report();
    assert!(
        report.contains("6 of 6 finished (5 complete, 1 failed)"),
        "{report}"
    );
    assert!(
        report.contains(&format!("trial {number}: lost its worker")),
        "{report}"
    );
    let best = status.best.expect("a best trial");
    let largest = rows.iter().filter_map(|r| r.5).fold(f64::MIN, f64::max);
    assert_eq!(
        rows[best.number].5,
        Some(largest),
        "the best is the largest objective"
    );
}
