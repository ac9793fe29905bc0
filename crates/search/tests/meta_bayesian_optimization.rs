//! Bayesian optimization from a meta-learned AEN: starts from the prior (no
//! random start), reads the source tasks' known values, and can be
//! conditioned on a related task.

use metanas_aen::{AenConfig, MetaAen, MetaAenConfig, PriorKind, TaskValues, TrainingConfig};
use metanas_data::{BenchmarkTable, Objective};
use metanas_search::{
    BayesianOptimization, BayesianOptimizationConfig, Constraints, MetaAenSurrogate, SearchConfig,
    Searcher, SourceValues, Strategy, TableEvaluator,
};
use metanas_space::nb201::vocabulary::{AVG_POOL_3X3, NOR_CONV_1X1, NOR_CONV_3X3, SKIP_CONNECT};
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use metanas_space::{GraphEncoding, SearchSpace};
use std::sync::Arc;

/// How many nodes of vocabulary index `op` the cell has.
fn count(e: &GraphEncoding, op: usize) -> f64 {
    e.count_nodes(op) as f64
}

/// Every NB201 cell with three related synthetic "accuracies" and a target.
fn table(dir: &std::path::Path) -> (Vec<Nb201Cell>, BenchmarkTable<Nb201Space>) {
    let space = Nb201Space;
    let cells: Vec<Nb201Cell> = space.enumerate().expect("finite").collect();
    let mut csv = String::from("index,arch,aa_valid,bb_valid,cc_valid,target_valid\n");
    for (i, cell) in cells.iter().enumerate() {
        let e = space.encode(cell);
        let (skip, c1, c3, pool) = (
            count(&e, SKIP_CONNECT),
            count(&e, NOR_CONV_1X1),
            count(&e, NOR_CONV_3X3),
            count(&e, AVG_POOL_3X3),
        );
        let jitter = ((i * 7919) % 101) as f64 / 1000.0;
        csv.push_str(&format!(
            "{i},{},{},{},{},{}\n",
            space.format(cell),
            3.0 * c3 + c1 + 0.5 * skip - pool + jitter,
            2.5 * c3 + 1.5 * c1 + 0.2 * skip - pool,
            3.0 * c3 + 0.5 * c1 + skip - 0.5 * pool,
            2.8 * c3 + 1.2 * c1 + 0.6 * skip - 0.8 * pool + jitter
        ));
    }
    let path = dir.join("synthetic.csv");
    std::fs::write(&path, csv).expect("writes");
    (
        cells,
        BenchmarkTable::from_csv(space, &path).expect("reads"),
    )
}

#[test]
fn meta_bayesian_optimization_starts_from_the_prior_and_finds_the_top_fast() {
    let device = metanas_device::test_device();
    let dir = tempfile::tempdir().expect("temp dir");
    let (cells, table) = table(dir.path());
    let space = Nb201Space;
    let encodings: Vec<GraphEncoding> = cells.iter().map(|c| space.encode(c)).collect();
    let sources = ["aa_valid", "bb_valid", "cc_valid"];
    let tasks: Vec<TaskValues> = sources
        .iter()
        .map(|c| TaskValues {
            name: c.to_string(),
            values: table.column(c).expect("column").to_vec(),
        })
        .collect();
    let config = MetaAenConfig::new(
        AenConfig::new(space.vocabulary_size())
            .with_hidden(8)
            .with_features(8),
    )
    .with_ensemble(2)
    .with_prior(PriorKind::SourceMean)
    .with_training(
        TrainingConfig::new()
            .with_batch_size(512)
            .with_max_epochs(3),
    );
    let meta = MetaAen::meta_train(&encodings, &tasks, &config, &device).expect("meta-trains");
    let names: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
    let side = SourceValues::from_table(&table, &names).expect("source values");
    let target = table.column("target_valid").expect("column").to_vec();
    let mut sorted = target.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let top_ten = sorted[9];

    let table = Arc::new(table);
    let run = |strategy: &mut dyn Strategy<Nb201Space>| {
        let mut evaluator =
            TableEvaluator::new(table.clone(), "target_valid", None, Objective::Maximize)
                .expect("column");
        let searcher = Searcher::new(
            space,
            Constraints::default(),
            SearchConfig::new().with_max_queries(10).with_seed(0),
        );
        searcher
            .run(strategy, &mut evaluator, None, &mut |_| {})
            .expect("runs")
    };
    let bo_config = BayesianOptimizationConfig {
        initial_samples: 0,
        proposals_per_fit: 1,
        ..Default::default()
    };
    let surrogate = MetaAenSurrogate::new(meta.clone(), Some(side.clone())).expect("same columns");
    let mut bo =
        BayesianOptimization::new(space, bo_config.clone(), Box::new(surrogate)).expect("valid");
    assert_eq!(bo.name(), "meta-bo-ei");
    let outcome = run(&mut bo);
    let best = outcome
        .best_trial()
        .and_then(|t| t.objective())
        .expect("a best trial");
    assert!(
        best >= top_ten,
        "best {best} after 10 queries, 10th best cell is {top_ten}"
    );
    // The first query already comes from the prior, and is in the top 1%.
    let first = outcome.trials[0].objective().expect("measured");
    assert!(first >= sorted[sorted.len() / 100], "first query {first}");

    // Mismatched source columns are refused.
    let wrong = SourceValues::from_table(&table, &names[..2]).expect("values");
    assert!(MetaAenSurrogate::new(meta.clone(), Some(wrong)).is_err());

    // Conditioning on a related task's observations moves the prior towards it:
    // unconditioned, the first proposal favours 3×3 convolutions (as every
    // source does); told that 1×1 convolutions are good and 3×3 bad, it does not.
    let first_cell = space
        .parse(&outcome.trials[0].architecture)
        .expect("parses");
    let e = space.encode(&first_cell);
    assert!(count(&e, NOR_CONV_3X3) > count(&e, NOR_CONV_1X1));
    let related: Vec<(GraphEncoding, f64)> = encodings
        .iter()
        .step_by(300)
        .map(|e| (e.clone(), count(e, NOR_CONV_1X1) - count(e, NOR_CONV_3X3)))
        .collect();
    let conditioned = MetaAenSurrogate::new(meta, Some(side))
        .expect("same")
        .conditioned_on(&related, 2.0)
        .expect("conditions");
    let mut pooled =
        BayesianOptimization::new(space, bo_config, Box::new(conditioned)).expect("valid");
    let outcome = run(&mut pooled);
    let first_cell = space
        .parse(&outcome.trials[0].architecture)
        .expect("parses");
    let e = space.encode(&first_cell);
    assert!(
        count(&e, NOR_CONV_1X1) > count(&e, NOR_CONV_3X3),
        "{}",
        outcome.trials[0].architecture
    );
}
