//! Starting cells: known cells queried first, then the strategy's own
//! proposals, on the shipped NAS-Bench-201 table.

use metanas_data::{Objective, shipped};
use metanas_search::{
    AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, Constraint, Constraints,
    ProposalContext, RandomSearch, ReferenceCell, SearchConfig, SearchError, Searcher,
    StartingCells, Strategy, TableEvaluator, TrialStore,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::Arc;

const TASK: &str = "c100_valid";

fn cell(text: &str) -> Nb201Cell {
    Nb201Space.parse(text).expect("a NAS-Bench-201 cell")
}

fn evaluator() -> TableEvaluator<Nb201Space> {
    let table = Arc::new(shipped::nb201_table().expect("shipped table"));
    TableEvaluator::new(table, TASK, None, Objective::Maximize).expect("column")
}

fn searcher(queries: usize, constraints: Constraints<Nb201Space>) -> Searcher<Nb201Space> {
    Searcher::new(
        Nb201Space,
        constraints,
        SearchConfig::new().with_max_queries(queries).with_seed(3),
    )
}

fn architectures(
    searcher: &Searcher<Nb201Space>,
    strategy: &mut dyn Strategy<Nb201Space>,
) -> Vec<String> {
    searcher
        .run(strategy, &mut evaluator(), None, &mut |_| {})
        .expect("runs")
        .trials
        .iter()
        .map(|t| t.architecture.clone())
        .collect()
}

#[test]
fn the_starting_cells_come_first_in_order_and_count_in_the_budget() {
    let resnet = ReferenceCell::Resnet.architecture();
    let largest = ReferenceCell::Largest.architecture();
    let searcher = searcher(6, Constraints::default());
    let mut started = StartingCells::new(
        &Nb201Space,
        vec![cell(resnet), cell(largest)],
        Box::new(RandomSearch::<Nb201Space>::default()),
    );
    let trials = architectures(&searcher, &mut started);
    assert_eq!(trials.len(), 6, "the starting cells count in the budget");
    assert_eq!(trials[0], resnet);
    assert_eq!(trials[1], largest);
    // After them the inner strategy proposes, from the same random stream
    // as it would alone: its first four proposals (none of them is a
    // starting cell with this seed).
    let alone = architectures(&searcher, &mut RandomSearch::<Nb201Space>::default());
    assert_eq!(trials[2..], alone[..4]);
}

#[test]
fn an_infeasible_or_repeated_starting_cell_costs_no_query() {
    let largest = ReferenceCell::Largest.architecture();
    let resnet = ReferenceCell::Resnet.architecture();
    // At most four 3×3 convolutions: the largest cell (six) is infeasible.
    let conv_edges =
        |a: &Nb201Cell| Some(Nb201Space.format(a).matches("nor_conv_3x3").count() as f64);
    let constraints = Constraints::default().with(Constraint::new("3×3 edges", 4.0, conv_edges));
    let searcher = searcher(4, constraints);
    // The ResNet cell listed twice.
    let mut started = StartingCells::new(
        &Nb201Space,
        vec![cell(largest), cell(resnet), cell(resnet)],
        Box::new(RandomSearch::<Nb201Space>::default()),
    );
    let trials = architectures(&searcher, &mut started);
    assert_eq!(trials.len(), 4);
    assert_eq!(trials[0], resnet, "the infeasible largest cell was skipped");
    assert!(!trials[1..].contains(&resnet.to_string()));
    assert!(!trials.contains(&largest.to_string()));
}

#[test]
fn the_inner_strategy_observes_the_starting_cells() {
    // The best cell of the table's column, started from: Bayesian
    // optimization's best afterwards is that cell, so it observed it.
    let table = shipped::nb201_table().expect("shipped table");
    let best = table
        .archs()
        .iter()
        .max_by(|a, b| {
            let value = |c: &Nb201Cell| table.value(c, TASK).expect("value");
            value(a).total_cmp(&value(b))
        })
        .copied()
        .expect("a cell");
    let device = metanas_device::test_device();
    let surrogate = AenSurrogate::new(
        AenSurrogate::default_config(Nb201Space.vocabulary_size()),
        &device,
    );
    let config = BayesianOptimizationConfig {
        initial_samples: 2,
        ..Default::default()
    };
    let bo = BayesianOptimization::new(Nb201Space, config, Box::new(surrogate)).expect("valid");
    let mut started = StartingCells::new(&Nb201Space, vec![best], Box::new(bo));
    let trials = architectures(&searcher(4, Constraints::default()), &mut started);
    assert_eq!(trials[0], Nb201Space.format(&best));
    let (chosen, _) = started.best().expect("a best");
    assert_eq!(
        Nb201Space.canonical_hash(chosen),
        Nb201Space.canonical_hash(&best)
    );
}

#[test]
fn the_store_key_names_the_starting_cells() {
    let searcher = searcher(2, Constraints::default());
    let plain = RandomSearch::<Nb201Space>::default();
    let resnet = ReferenceCell::Resnet.architecture();
    let started = StartingCells::new(
        &Nb201Space,
        vec![cell(resnet)],
        Box::new(RandomSearch::<Nb201Space>::default()),
    );
    let none = StartingCells::new(
        &Nb201Space,
        Vec::new(),
        Box::new(RandomSearch::<Nb201Space>::default()),
    );
    let evaluator = evaluator();
    let plain_key = searcher.search_key(&plain, &evaluator);
    let started_key = searcher.search_key(&started, &evaluator);
    assert_eq!(searcher.search_key(&none, &evaluator), plain_key);
    assert!(started_key.contains(resnet), "{started_key}");
    assert_eq!(started.name(), plain.name());
    // Leaving the starting cells out gives the plain search's key, which is
    // how a store written before them is recognised.
    assert_eq!(
        StartingCells::<Nb201Space>::key_without_starting_cells(&started_key).as_deref(),
        Some(plain_key.as_str())
    );
    assert_eq!(
        StartingCells::<Nb201Space>::key_without_starting_cells(&plain_key),
        None
    );
    // A store of the plain search is refused for the started one: its
    // trials would not replay.
    let dir = tempfile::tempdir().expect("scratch folder");
    let path = dir.path().join("trials.sqlite");
    drop(TrialStore::open(&path, &plain_key).expect("a new store"));
    assert!(matches!(
        TrialStore::open(&path, &started_key),
        Err(SearchError::StoreMismatch { .. })
    ));
}

#[test]
fn a_starting_cell_whose_proposal_was_dropped_is_proposed_again() {
    // A distributed worker may drop a proposal (a lost connection, a taken
    // trial number): until the cell is seen, it stays the next proposal.
    let resnet = cell(ReferenceCell::Resnet.architecture());
    let mut started = StartingCells::new(
        &Nb201Space,
        vec![resnet],
        Box::new(RandomSearch::<Nb201Space>::default()),
    );
    let feasible = |_: &Nb201Cell| true;
    let unseen = |_: &Nb201Cell| false;
    let context = ProposalContext {
        space: &Nb201Space,
        is_feasible: &feasible,
        is_seen: &unseen,
    };
    let mut rng = StdRng::seed_from_u64(0);
    for _ in 0..2 {
        assert_eq!(started.propose(&context, &mut rng).expect("a cell"), resnet);
        assert_eq!(
            started
                .propose_with_pending(&context, &[], &mut rng)
                .expect("a cell"),
            resnet
        );
    }
    let seen = |c: &Nb201Cell| *c == resnet;
    let context = ProposalContext {
        space: &Nb201Space,
        is_feasible: &feasible,
        is_seen: &seen,
    };
    assert_ne!(started.propose(&context, &mut rng).expect("a cell"), resnet);
}
