//! Strategies by name: the one table that the command line, the benchmark
//! harnesses and a project importing the crate share, with the settings each
//! name stands for.

use crate::{
    Acquisition, AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, LocalSearch,
    MetaAenSurrogate, RandomSearch, RegularizedEvolution, Result, SearchError, SourceValues,
    Strategy,
};
use burn::tensor::Device;
use metanas_aen::MetaAen;
use metanas_data::shipped;
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};

/// The strategy names [`strategy_by_name`] accepts.
pub const STRATEGY_NAMES: &str = "random, evolution, local, bo (= bo-ei), bo-ucb, bo-ts";

/// Exploration weight of the `bo-ucb` / `meta-bo-ucb` acquisition.
pub const UCB_BETA: f64 = 2.0;

/// The strategy called `name` over `space` for a search of `budget` queries.
///
/// `random`, `evolution` (`re`) and `local` (`ls`) take their defaults;
/// `bo` (`bo-ei`), `bo-ucb` and `bo-ts` are Bayesian optimization with an AEN
/// surrogate fitted on `device`, starting with `budget / 3` random cells
/// (4 to 10) and refitting after every query on small budgets (≤ 20), after
/// every 5 on larger ones.
///
/// # Errors
/// [`SearchError::UnknownStrategy`] for any other name.
pub fn strategy_by_name<S: SearchSpace + Clone + 'static>(
    name: &str,
    space: &S,
    device: &Device,
    budget: usize,
) -> Result<Box<dyn Strategy<S>>> {
    let acquisition = match name {
        "random" => return Ok(Box::new(RandomSearch::<S>::default())),
        "evolution" | "re" => return Ok(Box::new(RegularizedEvolution::<S>::default())),
        "local" | "ls" => return Ok(Box::new(LocalSearch::<S>::default())),
        "bo" | "bo-ei" => Acquisition::ExpectedImprovement,
        "bo-ucb" => Acquisition::UpperConfidenceBound { beta: UCB_BETA },
        "bo-ts" => Acquisition::ThompsonSampling,
        other => {
            return Err(SearchError::UnknownStrategy {
                name: other.to_string(),
                expected: STRATEGY_NAMES,
            });
        }
    };
    let surrogate = AenSurrogate::new(
        AenSurrogate::default_config(space.vocabulary_size()),
        device,
    );
    let config = BayesianOptimizationConfig {
        acquisition,
        initial_samples: (budget / 3).clamp(4, 10),
        proposals_per_fit: if budget <= 20 { 1 } else { 5 },
        ..BayesianOptimizationConfig::default()
    };
    Ok(Box::new(BayesianOptimization::new(
        space.clone(),
        config,
        Box::new(surrogate),
    )?))
}

/// The acquisition of a Bayesian-optimization name (`bo`, `bo-ucb`, `bo-ts`,
/// with or without a `meta-` prefix).
///
/// # Errors
/// [`SearchError::NotMetaCapable`] for a strategy that is not Bayesian
/// optimization.
pub fn acquisition_by_name(name: &str) -> Result<Acquisition> {
    Ok(match name {
        "bo" | "bo-ei" | "meta-bo" | "meta-bo-ei" => Acquisition::ExpectedImprovement,
        "bo-ucb" | "meta-bo-ucb" => Acquisition::UpperConfidenceBound { beta: UCB_BETA },
        "bo-ts" | "meta-bo-ts" => Acquisition::ThompsonSampling,
        other => return Err(SearchError::NotMetaCapable(other.to_string())),
    })
}

/// Bayesian optimization starting from a meta-learned AEN: no random start,
/// a closed-form refit after every query, and, when `sources` is given (see
/// [`shipped_source_values`]), the source tasks' known values as side
/// features. With `related` measurements (cells of a related task, e.g. MNIST
/// for an image search) the prior is their posterior.
///
/// # Errors
/// When the surrogate cannot be built from `aen` and `sources`, or
/// conditioned on `related`.
pub fn meta_strategy(
    space: &Nb201Space,
    aen: MetaAen,
    sources: Option<SourceValues>,
    related: &[(Nb201Cell, f64)],
    acquisition: Acquisition,
) -> Result<Box<dyn Strategy<Nb201Space>>> {
    let related: Vec<_> = related
        .iter()
        .map(|(cell, value)| (space.encode(cell), *value))
        .collect();
    let surrogate = MetaAenSurrogate::new(aen, sources)?.conditioned_on(&related, 2.0)?;
    let config = BayesianOptimizationConfig {
        initial_samples: 0,
        proposals_per_fit: 1,
        acquisition,
        ..Default::default()
    };
    Ok(Box::new(BayesianOptimization::new(
        *space,
        config,
        Box::new(surrogate),
    )?))
}

/// The values of the source columns `columns` from the shipped tables
/// (NAS-Bench-201's accuracies and its latencies, each column from the table
/// that has it); `None` when a column is in neither, and a meta-model's heads
/// then read the GCN features only.
///
/// # Errors
/// When a shipped table cannot be read.
pub fn shipped_source_values(columns: &[String]) -> Result<Option<SourceValues>> {
    let accuracy = shipped::nb201_table()?;
    let latency = shipped::nb201_latency_table()?;
    if !columns
        .iter()
        .all(|c| accuracy.has_column(c) || latency.has_column(c))
    {
        return Ok(None);
    }
    Ok(Some(SourceValues::from_tables(
        &[&accuracy, &latency],
        columns,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_unknown_names_are_refused() {
        let device = metanas_device::test_device();
        for name in ["random", "evolution", "re", "local", "ls"] {
            let strategy = strategy_by_name(name, &Nb201Space, &device, 10);
            assert!(strategy.is_ok(), "{name}");
        }
        let err = strategy_by_name("simulated-annealing", &Nb201Space, &device, 10)
            .err()
            .expect("unknown name refused");
        assert!(err.to_string().contains(STRATEGY_NAMES), "{err}");
        assert!(matches!(
            acquisition_by_name("meta-bo-ucb"),
            Ok(Acquisition::UpperConfidenceBound { beta }) if beta == UCB_BETA
        ));
        assert!(matches!(
            acquisition_by_name("evolution"),
            Err(SearchError::NotMetaCapable(_))
        ));
    }
}
