//! Meta-training under a seed gives the same AON every time, by either
//! estimator. Its own test binary: the other tests' threads would otherwise
//! draw from the same device's generator in between.
//!
//! (The first-order estimator summed its per-parameter terms in the order of
//! a `HashMap` keyed by Burn's parameter ids, which are random per module:
//! two runs differed in the last bits and then diverged.)

mod common;

use common::toy_config;
use metanas_aon::aon_parameters::flatten_parameters;
use metanas_aon::{AonMetaTrainer, MetaGradientMethod};
use metanas_device::test_device;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn meta_train(method: MetaGradientMethod) -> (Vec<f64>, Vec<f32>) {
    let mnist = metanas_data::shipped::mnist10k().expect("shipped MNIST");
    let mut trainer =
        AonMetaTrainer::new(toy_config(method), mnist, &test_device()).expect("valid config");
    let reports = trainer
        .run(4, &mut StdRng::seed_from_u64(11), |_| {})
        .expect("meta-trains");
    (
        reports.iter().map(|r| r.meta_loss).collect(),
        flatten_parameters(&trainer.aon()),
    )
}

#[test]
fn meta_training_is_reproducible_under_a_seed() {
    for method in [
        MetaGradientMethod::FirstOrder,
        MetaGradientMethod::Evolution,
    ] {
        let (losses_a, weights_a) = meta_train(method);
        let (losses_b, weights_b) = meta_train(method);
        assert_eq!(losses_a, losses_b, "{method:?}");
        assert_eq!(weights_a, weights_b, "{method:?}");
    }
}
