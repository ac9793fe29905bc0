//! The sequential searcher on a PostgreSQL study (METANAS_TEST_POSTGRES): the
//! same trials as on the SQLite store, and the same exact resume.

use super::common::{fresh_database, server};
use metanas_data::{Objective, shipped};
use metanas_search::{
    Constraints, RegularizedEvolution, SearchConfig, Searcher, TableEvaluator, Trial, TrialOutcome,
    TrialStorage, TrialStore,
};
use metanas_space::nb201::Nb201Space;
use metanas_study::{PostgresStudy, Reconnect, StudyAddress, StudySettings};
use std::sync::Arc;
use std::time::Duration;

/// The trials without their wall-clock seconds (which differ from run to run).
fn results(trials: &[Trial]) -> Vec<(usize, &str, &TrialOutcome)> {
    trials
        .iter()
        .map(|t| (t.index, t.architecture.as_str(), &t.outcome))
        .collect()
}

#[test]
fn a_sequential_search_on_postgres_equals_one_on_sqlite_and_resumes_exactly() {
    let Some(url) = server() else { return };
    let url = fresh_database(&url, "sequential");
    let table = Arc::new(shipped::nb201_table().expect("table"));
    let searcher = |budget: usize| {
        Searcher::new(
            Nb201Space,
            Constraints::default(),
            SearchConfig::new().with_max_queries(budget).with_seed(3),
        )
    };
    let evaluator = || {
        TableEvaluator::new(
            table.clone(),
            "c100_valid",
            Some("c100_test"),
            Objective::Maximize,
        )
        .expect("columns")
    };
    let run = |budget: usize, store: &mut dyn TrialStorage| {
        searcher(budget)
            .run(
                &mut RegularizedEvolution::default(),
                &mut evaluator(),
                Some(store),
                &mut |_| {},
            )
            .expect("searches")
    };
    let mut sqlite = TrialStore::in_memory("k").expect("opens");
    let reference = run(30, &mut sqlite);

    let settings = StudySettings {
        name: "sequential".into(),
        settings_key: "k".into(),
        budget: 30,
        seed: 3,
        maximize: true,
        max_attempts: 1,
        lease: Duration::from_secs(60),
    };
    let address = StudyAddress::parse(&url).expect("parses");
    let mut study = PostgresStudy::join(&address, &settings, "one", "/tmp", Reconnect::default())
        .expect("joins");
    // Interrupted after 12 queries, then resumed to 30.
    let first = run(12, &mut study);
    assert_eq!(results(&first.trials), results(&reference.trials[..12]));
    let resumed = run(30, &mut study);
    assert_eq!(resumed.replayed, 12, "the first 12 come from the study");
    assert_eq!(results(&resumed.trials), results(&reference.trials));
    assert_eq!(resumed.best, reference.best);
    assert_eq!(study.finished_trials().expect("reads"), resumed.trials);
}
