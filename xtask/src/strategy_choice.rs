//! Strategies by name, shared by `search` and the benchmarks.

use anyhow::bail;
use burn::tensor::Device;
use metanas_search::{
    Acquisition, AenSurrogate, BayesianOptimization, BayesianOptimizationConfig, LocalSearch, RandomSearch,
    RegularizedEvolution, Strategy,
};
use metanas_space::SearchSpace;

/// The strategy names the command line accepts.
pub const STRATEGY_NAMES: &str = "random, evolution, local, bo (= bo-ei), bo-ucb, bo-ts";

/// The strategy called `name` over `space`; Bayesian optimization fits its
/// AEN surrogate on `device`.
pub fn make_strategy<S: SearchSpace + Clone>(name: &str, space: &S, device: &Device) -> anyhow::Result<Box<dyn Strategy<S>>> {
    let acquisition = match name {
        "random" => return Ok(Box::new(RandomSearch::<S>::default())),
        "evolution" | "re" => return Ok(Box::new(RegularizedEvolution::<S>::default())),
        "local" | "ls" => return Ok(Box::new(LocalSearch::<S>::default())),
        "bo" | "bo-ei" => Acquisition::ExpectedImprovement,
        "bo-ucb" => Acquisition::UpperConfidenceBound { beta: 2.0 },
        "bo-ts" => Acquisition::ThompsonSampling,
        other => bail!("unknown strategy `{other}`; expected one of: {STRATEGY_NAMES}"),
    };
    let surrogate = AenSurrogate::new(AenSurrogate::default_config(space.vocabulary_size()), device);
    let config = BayesianOptimizationConfig { acquisition, ..BayesianOptimizationConfig::default() };
    Ok(Box::new(BayesianOptimization::new(space.clone(), config, Box::new(surrogate))?))
}
