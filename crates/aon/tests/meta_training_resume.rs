//! A checkpointed AON meta-trainer resumes where it stopped: weights,
//! meta-optimizer state and history, so its next step is bit for bit the one
//! the saved trainer takes.
//!
//! Its own test binary (the equality below is exact): with every draw seeded
//! through `metanas_seeding`, runs repeat bit for bit when this is the only
//! test in the process, but beside another test's thread the last bits of
//! a step can still change (seen with the meta-training tests, even with one
//! rayon thread): shared state inside Burn that we have not pinned down.

mod common;

use common::toy_config;
use metanas_aon::aon_parameters::flatten_parameters;
use metanas_aon::{AonMetaTrainer, MetaGradientMethod};
use metanas_device::test_device;
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn a_saved_trainer_resumes_with_its_weights_optimizer_and_history() {
    let device = test_device();
    let mnist = metanas_data::shipped::mnist10k().expect("shipped MNIST");
    let mut trainer = AonMetaTrainer::new(
        toy_config(MetaGradientMethod::FirstOrder),
        mnist.clone(),
        &device,
    )
    .expect("valid config");
    let mut rng = StdRng::seed_from_u64(9);
    trainer.run(2, &mut rng, |_| {}).expect("meta-trains");
    let dir = tempfile::tempdir().expect("temp dir");
    trainer.save(dir.path()).expect("saves");
    let mut resumed = AonMetaTrainer::load(dir.path(), mnist, &device).expect("loads");
    assert_eq!(resumed.meta_steps(), 2);
    // The history survives (seconds go through JSON text, so compare the losses).
    let losses = |t: &AonMetaTrainer| {
        t.history()
            .iter()
            .map(|r| (r.step, r.meta_loss, r.gradient_norm))
            .collect::<Vec<_>>()
    };
    // JSON keeps f64 to within an ulp or so, not bit for bit.
    for (a, b) in losses(&resumed).iter().zip(losses(&trainer).iter()) {
        assert_eq!(a.0, b.0);
        assert!(
            (a.1 - b.1).abs() <= 1e-12 * b.1.abs().max(1.0)
                && (a.2 - b.2).abs() <= 1e-12 * b.2.abs().max(1.0),
            "{a:?} vs {b:?}"
        );
    }
    assert_eq!(losses(&resumed).len(), losses(&trainer).len());
    assert_eq!(
        flatten_parameters(&resumed.aon()),
        flatten_parameters(&trainer.aon())
    );
    // Both continue with the same gradient on the same problem: the restored
    // Adam moments make the next updates identical.
    let mut rng_a = StdRng::seed_from_u64(77);
    let mut rng_b = StdRng::seed_from_u64(77);
    let mut fresh = AonMetaTrainer::load(
        dir.path(),
        metanas_data::shipped::mnist10k().expect("MNIST"),
        &device,
    )
    .expect("loads");
    let a = fresh.meta_step(&mut rng_a).expect("steps");
    let b = resumed.meta_step(&mut rng_b).expect("steps");
    assert_eq!(a.meta_loss, b.meta_loss);
    assert_eq!(
        flatten_parameters(&fresh.aon()),
        flatten_parameters(&resumed.aon())
    );
    assert_eq!(resumed.meta_steps(), 3);
}
