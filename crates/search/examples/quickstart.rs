//! A first search through the library: Bayesian optimisation with the AEN as
//! surrogate on the shipped NAS-Bench-201 table, 30 queries of CIFAR-100
//! validation accuracy, the test accuracy of the best cell reported beside it.
//!
//! ```sh
//! cargo run --release -p metanas-search --example quickstart
//! ```
//!
//! The shipped table is found from the working directory or `METANAS_DATASETS`.

use metanas_data::{Objective, shipped};
use metanas_device::BackendChoice;
use metanas_search::{
    AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, Constraints, SearchConfig,
    Searcher, TableEvaluator,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let space = Nb201Space;
    let table = Arc::new(shipped::nb201_table()?);

    // An evaluation looks the cell up: the strategy sees `c100_valid` only,
    // `c100_test` is stored beside it for the report.
    let mut evaluator =
        TableEvaluator::new(table, "c100_valid", Some("c100_test"), Objective::Maximize)?;

    // The AEN ensemble, fitted from scratch on the CPU (Burn's flex backend),
    // ranks the whole space by expected improvement after 10 random cells.
    let device = BackendChoice::Flex.device();
    let surrogate = AenSurrogate::new(
        AenSurrogate::default_config(space.vocabulary_size()),
        &device,
    );
    let mut strategy = BayesianOptimization::new(
        space,
        BayesianOptimizationConfig::default(),
        Box::new(surrogate),
    )?;

    let searcher = Searcher::new(
        space,
        Constraints::default(),
        SearchConfig::new().with_max_queries(30).with_seed(0),
    );
    // No trial store here (`None`); `cargo xtask search` passes a `TrialStore`
    // so that a killed search resumes where it stopped.
    let outcome = searcher.run(&mut strategy, &mut evaluator, None, &mut |p| {
        eprintln!(
            "query {}/{}: best c100_valid so far {:.2}",
            p.queries.0,
            p.queries.1,
            p.best_objective.unwrap_or(f64::NAN)
        );
    })?;

    if let Some(best) = outcome.best_trial() {
        let measurement = best.measurement();
        println!(
            "best after {} queries: {}\n  c100_valid {:.2}, c100_test {:.2}",
            outcome.trials.len(),
            best.architecture,
            measurement.map_or(f64::NAN, |m| m.objective),
            measurement.and_then(|m| m.report).unwrap_or(f64::NAN),
        );
    }
    Ok(())
}
