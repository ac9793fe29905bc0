//! Meta-training lowers the meta-loss on a toy setting, by either estimator.
//! (A checkpointed trainer resuming is `meta_training_resume.rs`.)

mod common;

use common::toy_config;
use metanas_aon::{AonMetaTrainer, InnerProblem, MetaGradientMethod};
use metanas_device::test_device;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn lowers_the_meta_loss(method: MetaGradientMethod, steps: usize, meta_learning_rate: f64) {
    let mnist = metanas_data::shipped::mnist10k().expect("shipped MNIST");
    let mut trainer = AonMetaTrainer::new(
        toy_config(method).with_meta_learning_rate(meta_learning_rate),
        mnist,
        &test_device(),
    )
    .expect("valid config");
    let mut rng = StdRng::seed_from_u64(4);
    let fixed: Vec<InnerProblem> = (0..4).map(|_| trainer.sampler().sample(&mut rng)).collect();
    let before = trainer.meta_loss_on(&fixed).expect("evaluates");
    let step_before = trainer.aon().base_step();
    let reports = trainer.run(steps, &mut rng, |_| {}).expect("meta-trains");
    assert!(
        reports
            .iter()
            .all(|r| !r.skipped && r.gradient_norm.is_finite()),
        "{reports:?}"
    );
    let after = trainer.meta_loss_on(&fixed).expect("evaluates");
    let step_after = trainer.aon().base_step();
    eprintln!(
        "{method:?}: meta-loss {before:.4} → {after:.4}, base step {step_before:.2e} → {step_after:.2e}"
    );
    assert!(
        after < before - 0.02,
        "{method:?}: meta-loss {before:.4} → {after:.4}"
    );
}

#[test]
fn first_order_meta_training_lowers_the_meta_loss() {
    lowers_the_meta_loss(MetaGradientMethod::FirstOrder, 30, 0.03);
}

#[test]
fn evolution_strategies_lower_the_meta_loss() {
    lowers_the_meta_loss(MetaGradientMethod::Evolution, 15, 0.1);
}
