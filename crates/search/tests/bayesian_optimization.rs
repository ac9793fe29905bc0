//! Bayesian optimization: mechanics with an oracle surrogate, the real AEN
//! surrogate on the NAS-Bench-201 table, and hardware-aware search.

use metanas_aen::Prediction;
use metanas_data::{Objective, shipped};
use metanas_search::{
    Acquisition, AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, CandidatePool,
    Constraint, Constraints, RandomSearch, SearchConfig, SearchError, Searcher, Strategy,
    Surrogate, TableEvaluator, trajectory,
};
use metanas_space::nb101::{self, Nb101Space};
use metanas_space::nb201::{self, Nb201Space};
use metanas_space::{GraphEncoding, SearchSpace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashSet;
use std::sync::Arc;

/// Knows the synthetic score exactly: how many nodes of operation `op` a cell has.
struct Oracle {
    op: usize,
    fits: usize,
}

/// How many nodes of vocabulary index `op` the cell has.
fn op_count(e: &GraphEncoding, op: usize) -> f64 {
    e.count_nodes(op) as f64
}

impl Surrogate for Oracle {
    fn describe(&self) -> String {
        "oracle".into()
    }
    fn min_observations(&self) -> usize {
        1
    }
    fn fit(&mut self, observations: &[(GraphEncoding, f64)], _: u64) -> metanas_search::Result<()> {
        assert!(!observations.is_empty());
        // Observations are de-duplicated by isomorphism class.
        let distinct: HashSet<String> =
            observations.iter().map(|(e, _)| format!("{e:?}")).collect();
        assert_eq!(
            distinct.len(),
            observations.len(),
            "an isomorphism class was fitted twice"
        );
        self.fits += 1;
        Ok(())
    }
    fn predict(&mut self, pool: &CandidatePool) -> metanas_search::Result<Vec<Prediction>> {
        Ok(pool
            .encodings()
            .iter()
            .map(|e| Prediction {
                mean: op_count(e, self.op),
                std: 0.1,
            })
            .collect())
    }
}

/// Evaluates the synthetic score, so the oracle is right.
struct Synthetic<S: SearchSpace> {
    space: S,
    op: usize,
}

impl<S: SearchSpace> metanas_search::Evaluator<S> for Synthetic<S> {
    fn describe(&self) -> String {
        "synthetic".into()
    }
    fn objective(&self) -> Objective {
        Objective::Maximize
    }
    fn evaluate(
        &mut self,
        arch: &S::Arch,
        _: u64,
    ) -> metanas_search::Result<metanas_search::Measurement> {
        Ok(metanas_search::Measurement::of(op_count(
            &self.space.encode(arch),
            self.op,
        )))
    }
}

fn run<S: SearchSpace + Clone>(
    space: S,
    op: usize,
    config: BayesianOptimizationConfig,
    queries: usize,
    seed: u64,
) -> Vec<String> {
    let mut bo = BayesianOptimization::new(space.clone(), config, Box::new(Oracle { op, fits: 0 }))
        .expect("valid");
    let searcher = Searcher::new(
        space.clone(),
        Constraints::default(),
        SearchConfig::new()
            .with_max_queries(queries)
            .with_seed(seed),
    );
    let outcome = searcher
        .run(&mut bo, &mut Synthetic { space, op }, None, &mut |_| {})
        .expect("runs");
    assert!(bo.fits() > 0);
    outcome
        .trials
        .iter()
        .map(|t| t.architecture.clone())
        .collect()
}

#[test]
fn with_an_exact_surrogate_the_first_proposal_after_the_random_ones_is_optimal() {
    let config = BayesianOptimizationConfig {
        initial_samples: 3,
        proposals_per_fit: 2,
        ..Default::default()
    };
    let conv = nb201::vocabulary::NOR_CONV_3X3;
    let trials = run(Nb201Space, conv, config.clone(), 8, 7);
    assert_eq!(trials.len(), 8);
    let unique: HashSet<&String> = trials.iter().collect();
    assert_eq!(unique.len(), 8, "a cell was queried twice");
    // Query 4 is the best by acquisition over the whole space: six 3×3 convolutions.
    assert_eq!(
        trials[3],
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    );
    // Same seed, same trials; another seed, other random starts.
    assert_eq!(trials, run(Nb201Space, conv, config.clone(), 8, 7));
    assert_ne!(trials[..3], run(Nb201Space, conv, config, 8, 8)[..3]);
}

#[test]
fn a_space_too_large_to_score_uses_a_pool_of_mutations_and_samples() {
    let config = BayesianOptimizationConfig {
        initial_samples: 5,
        whole_space_limit: 1_000,
        mutation_candidates: 50,
        random_candidates: 50,
        ..Default::default()
    };
    let space = Nb101Space;
    let conv = nb101::vocabulary::CONV3X3_BN_RELU;
    let trials = run(space, conv, config, 20, 1);
    let scores: Vec<f64> = trials
        .iter()
        .map(|t| {
            op_count(
                &space.encode(&space.parse(t).expect("stored cells parse")),
                conv,
            )
        })
        .collect();
    let first = scores[..5].iter().copied().fold(f64::MIN, f64::max);
    let later = scores[5..].iter().copied().fold(f64::MIN, f64::max);
    assert!(
        later > first,
        "the guided queries found no better cell ({first} → {later})"
    );
}

#[test]
fn settings_and_surrogate_errors_are_reported() {
    let bad = BayesianOptimizationConfig {
        proposals_per_fit: 0,
        ..Default::default()
    };
    assert!(matches!(
        BayesianOptimization::new(Nb201Space, bad, Box::new(Oracle { op: 2, fits: 0 })),
        Err(SearchError::InvalidConfig(_))
    ));
    let device = metanas_device::test_device();
    let mut unfitted = AenSurrogate::new(
        AenSurrogate::default_config(Nb201Space.vocabulary_size()),
        &device,
    );
    let pool = CandidatePool::new(vec![
        Nb201Space.encode(&Nb201Space.sample(&mut StdRng::seed_from_u64(0))),
    ]);
    assert!(matches!(
        unfitted.predict(&pool),
        Err(SearchError::Surrogate(_))
    ));
    assert!(matches!(
        unfitted.fit(&[], 0),
        Err(SearchError::Surrogate(_))
    ));
}

/// The real AEN surrogate on the shipped NAS-Bench-201 table, against random
/// search with the same seed and budget (`cargo xtask bench-search` runs 25 seeds).
#[test]
fn aen_bayesian_optimization_beats_random_search_on_cifar100() {
    let table = Arc::new(shipped::nb201_table().expect("shipped table"));
    let device = metanas_device::test_device();
    let space = Nb201Space;
    let best_after = |strategy: &mut dyn Strategy<Nb201Space>| {
        let mut evaluator = TableEvaluator::new(
            table.clone(),
            "c100_valid",
            Some("c100_test"),
            Objective::Maximize,
        )
        .expect("columns");
        let searcher = Searcher::new(
            space,
            Constraints::default(),
            SearchConfig::new().with_max_queries(50).with_seed(0),
        );
        let outcome = searcher
            .run(strategy, &mut evaluator, None, &mut |_| {})
            .expect("runs");
        let curve = trajectory::best_report_curve(&outcome.trials, Objective::Maximize);
        curve.last().copied().flatten().expect("a report")
    };
    let surrogate = AenSurrogate::new(
        AenSurrogate::default_config(space.vocabulary_size()),
        &device,
    );
    let config = BayesianOptimizationConfig {
        acquisition: Acquisition::ExpectedImprovement,
        ..Default::default()
    };
    let mut bo = BayesianOptimization::new(space, config, Box::new(surrogate)).expect("valid");
    let bo_best = best_after(&mut bo);
    let random_best = best_after(&mut RandomSearch::default());
    assert!(
        bo_best > random_best + 0.5,
        "BO {bo_best} vs random {random_best}"
    );
    assert!(bo_best > 73.0, "BO reached only {bo_best} after 50 queries");
}

/// Hardware-aware: a latency cap on one device; every query respects it and
/// the reported best is the best feasible cell the search measured.
#[test]
fn a_latency_cap_is_respected_by_every_query() {
    let table = Arc::new(shipped::nb201_table().expect("shipped table"));
    let latency = Arc::new(shipped::nb201_latency_table().expect("shipped latency table"));
    let mut values = latency.column("pixel3").expect("pixel3 column").to_vec();
    values.sort_by(f64::total_cmp);
    let cap = values[values.len() / 4]; // the fastest quarter
    let space = Nb201Space;
    let constraints =
        Constraints::default().with(Constraint::from_table(latency.clone(), "pixel3", cap));
    let mut bo = BayesianOptimization::new(
        space,
        BayesianOptimizationConfig {
            initial_samples: 5,
            ..Default::default()
        },
        Box::new(Oracle {
            op: nb201::vocabulary::NOR_CONV_3X3,
            fits: 0,
        }),
    )
    .expect("valid");
    let mut evaluator =
        TableEvaluator::new(table, "c100_valid", Some("c100_test"), Objective::Maximize)
            .expect("columns");
    let searcher = Searcher::new(
        space,
        constraints,
        SearchConfig::new().with_max_queries(30).with_seed(3),
    );
    let outcome = searcher
        .run(&mut bo, &mut evaluator, None, &mut |_| {})
        .expect("runs");
    assert_eq!(outcome.trials.len(), 30);
    for t in &outcome.trials {
        let arch = space.parse(&t.architecture).expect("parses");
        let ms = latency.value(&arch, "pixel3").expect("in the table");
        assert!(ms <= cap, "{} takes {ms} ms > {cap}", t.architecture);
    }
    let best = outcome
        .best_trial()
        .and_then(|t| t.objective())
        .expect("a best trial");
    let max = outcome
        .trials
        .iter()
        .filter_map(|t| t.objective())
        .fold(f64::MIN, f64::max);
    assert_eq!(best, max);
}
