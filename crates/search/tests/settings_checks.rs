//! Settings and data that cannot give a search are refused before the first
//! query, with a message naming what to fix.

use metanas_data::{BenchmarkTable, FixedTask, ImageDataset, Objective};
use metanas_net::{OptimizerConfig, TrainingConfig, TrainingLength};
use metanas_search::{
    Constraints, NetworkSize, RandomSearch, SearchConfig, SearchError, Searcher, TableEvaluator,
    TrainingEvaluator,
};
use metanas_space::nb201::Nb201Space;
use std::sync::Arc;

#[test]
fn a_zero_budget_or_a_non_positive_time_limit_is_refused() {
    let zero = SearchConfig::new().with_max_queries(0).check();
    match zero {
        Err(SearchError::InvalidConfig(message)) => {
            assert!(message.contains("--budget"), "{message}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    for seconds in [0.0, -1.0, f64::NAN] {
        assert!(matches!(
            SearchConfig::new().with_max_seconds(Some(seconds)).check(),
            Err(SearchError::InvalidConfig(_))
        ));
    }
    SearchConfig::new()
        .with_max_queries(1)
        .with_max_seconds(Some(0.5))
        .check()
        .expect("valid");
}

#[test]
fn the_searcher_checks_its_settings_before_evaluating() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("table.csv");
    std::fs::write(
        &path,
        "arch,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n",
    )
    .expect("write");
    let table = Arc::new(BenchmarkTable::from_csv(Nb201Space, &path).expect("loads"));
    let mut evaluator =
        TableEvaluator::new(table, "acc", None, Objective::Maximize).expect("column");
    let searcher = Searcher::new(
        Nb201Space,
        Constraints::default(),
        SearchConfig::new().with_max_queries(0),
    );
    let outcome = searcher.run(
        &mut RandomSearch::default(),
        &mut evaluator,
        None,
        &mut |_| panic!("no query may run"),
    );
    assert!(matches!(outcome, Err(SearchError::InvalidConfig(_))));
}

fn evaluator(shape: [usize; 3], classes: usize) -> TrainingEvaluator<Nb201Space> {
    let images = 20;
    let size: usize = shape.iter().product();
    let pixels = (0..images * size).map(|i| (i % 7) as f32 / 7.0).collect();
    let labels = (0..images).map(|i| i % classes).collect();
    let dataset = ImageDataset::new(pixels, labels, shape, classes).expect("dataset");
    let task = FixedTask::new(&dataset, 0.2, 1).expect("split").into_task();
    let training = TrainingConfig::new(OptimizerConfig::adam(1e-3), TrainingLength::Steps(1));
    TrainingEvaluator::new(
        task,
        NetworkSize {
            channels: 2,
            cells_per_stage: 1,
        },
        training,
        metanas_device::test_device().autodiff(),
    )
}

#[test]
fn training_evaluator_checks_the_data_against_the_skeleton() {
    // Any height and width is taken, not only multiples of 4.
    evaluator([1, 1, 40], 2).check().expect("a 1×40 signal");
    evaluator([1, 30, 30], 3).check().expect("a 30×30 image");
    match evaluator([1, 1, 40], 1).check() {
        Err(SearchError::Net(e)) => assert!(e.to_string().contains("2 classes"), "{e}"),
        other => panic!("expected a network settings error, got {other:?}"),
    }
}
