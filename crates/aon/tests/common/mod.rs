//! Settings shared by the meta-training tests.

use metanas_aon::{
    AonConfig, AonMetaTrainerConfig, CellPool, InnerProblemConfig, InnerProblemSampler,
    MetaGradientMethod,
};

/// Tiny problems: 2-way MNIST tasks, C = 2, windows of 8 steps that are whole
/// runs, scored with the validation batch's statistics (8 steps are too few for
/// batch norm's running statistics to settle).
pub fn toy_config(method: MetaGradientMethod) -> AonMetaTrainerConfig {
    let problems = InnerProblemConfig::new()
        .with_min_channels(2)
        .with_max_channels(2)
        .with_ways(2)
        .with_shots(32)
        .with_validation_shots(16)
        .with_batch_size(8)
        .with_horizon(8);
    // A far too small initial step: the meta-gradient must find a better one.
    AonMetaTrainerConfig::new(
        AonConfig::new().with_hidden(8).with_initial_step(2e-4),
        problems,
    )
    .with_unroll(8)
    .with_method(method)
    .with_meta_learning_rate(0.1)
    .with_score_with_running_statistics(false)
    .with_validation_examples(32)
    .with_es_pairs(2)
    .with_es_sigma(0.05)
}

/// The toy problems of [`toy_config`] on shipped MNIST, from the meta-training
/// cells, with the problem settings they were drawn with.
#[allow(dead_code)] // Not every test binary uses it.
pub fn toy_sampler() -> (InnerProblemConfig, InnerProblemSampler) {
    let problems = toy_config(MetaGradientMethod::Evolution).problems;
    let sampler = InnerProblemSampler::new(
        problems.clone(),
        metanas_data::shipped::mnist10k().expect("MNIST"),
        CellPool::MetaTraining,
    )
    .expect("valid sampler");
    (problems, sampler)
}
