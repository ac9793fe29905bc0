//! Strategies by name, shared by `search` and the benchmarks.

use anyhow::bail;
use burn::tensor::Device;
use metanas_aen::MetaAen;
use metanas_data::shipped;
use metanas_search::{
    Acquisition, AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, LocalSearch,
    MetaAenSurrogate, RandomSearch, RegularizedEvolution, SourceValues, Strategy,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};

/// The strategy names the command line accepts.
pub const STRATEGY_NAMES: &str = "random, evolution, local, bo (= bo-ei), bo-ucb, bo-ts";

/// The strategy called `name` over `space` for a search of `budget`
/// queries; Bayesian optimization fits its AEN surrogate on `device`, starts
/// with `budget / 3` random cells (4 to 10) and refits after every query on
/// small budgets (≤ 20), after every 5 on larger ones.
pub fn make_strategy<S: SearchSpace + Clone>(
    name: &str,
    space: &S,
    device: &Device,
    budget: usize,
) -> anyhow::Result<Box<dyn Strategy<S>>> {
    let acquisition = match name {
        "random" => return Ok(Box::new(RandomSearch::<S>::default())),
        "evolution" | "re" => return Ok(Box::new(RegularizedEvolution::<S>::default())),
        "local" | "ls" => return Ok(Box::new(LocalSearch::<S>::default())),
        "bo" | "bo-ei" => Acquisition::ExpectedImprovement,
        "bo-ucb" => Acquisition::UpperConfidenceBound { beta: 2.0 },
        "bo-ts" => Acquisition::ThompsonSampling,
        other => bail!("unknown strategy `{other}`; expected one of: {STRATEGY_NAMES}"),
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

/// The acquisition of a `bo*` strategy name.
pub fn acquisition_of(name: &str) -> anyhow::Result<Acquisition> {
    Ok(match name {
        "bo" | "bo-ei" | "meta-bo" | "meta-bo-ei" => Acquisition::ExpectedImprovement,
        "bo-ucb" | "meta-bo-ucb" => Acquisition::UpperConfidenceBound { beta: 2.0 },
        "bo-ts" | "meta-bo-ts" => Acquisition::ThompsonSampling,
        other => bail!(
            "a meta-model is used by Bayesian optimization: use --strategy bo, bo-ucb or bo-ts, not `{other}`"
        ),
    })
}

/// Bayesian optimization starting from a meta-learned AEN: no random
/// start, a closed-form refit after every query, and the source tasks'
/// known values as side features when the shipped tables have them. With
/// `related` measurements (cells of a related task, e.g. MNIST for an image
/// search) the prior is their posterior.
pub fn make_meta_strategy(
    space: &Nb201Space,
    aen: MetaAen,
    related: &[(Nb201Cell, f64)],
    acquisition: Acquisition,
) -> anyhow::Result<Box<dyn Strategy<Nb201Space>>> {
    let sources = source_values_for(aen.task_names())?;
    if sources.is_none() {
        eprintln!(
            "note: the meta-model's source columns are not all in one shipped table; its heads read the GCN features only"
        );
    }
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

/// The source columns' values from the shipped table that has all of them.
pub fn source_values_for(columns: &[String]) -> anyhow::Result<Option<SourceValues>> {
    for table in [shipped::nb201_table()?, shipped::nb201_latency_table()?] {
        if columns.iter().all(|c| table.has_column(c)) {
            return Ok(Some(SourceValues::from_table(&table, columns)?));
        }
    }
    Ok(None)
}
