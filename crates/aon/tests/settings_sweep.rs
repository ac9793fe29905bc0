//! `sweep_settings` trains one candidate with every setting of a grid: each
//! run is the update rule its settings name, reproducibly.

mod common;

use metanas_aon::{
    AonConfig, CandidateTraining, SettingsGrid, UpdateSettings, best_outcome, sweep_settings,
    train_with_aon,
};
use metanas_device::test_device;
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn a_sweep_runs_every_setting_as_the_aon_it_names_and_finds_the_best() {
    let device = test_device();
    let (problems, sampler) = common::toy_sampler();
    let problem = sampler.sample(&mut StdRng::seed_from_u64(5));
    let training = CandidateTraining {
        steps: 40,
        batch_size: problems.batch_size,
        eval_every: 0,
    };
    let grid = SettingsGrid {
        adam_steps: vec![1e-5, 1e-2],
        sgd_nesterov_steps: vec![None, Some(0.1)],
        warmup_steps: vec![0, 5],
    };
    let settings = grid.settings().expect("valid grid");
    let outcomes = sweep_settings(&problem, &settings, training, &device).expect("trains");
    assert_eq!(outcomes.len(), 8, "one run per setting");
    for (outcome, asked) in outcomes.iter().zip(&settings) {
        assert_eq!(&outcome.settings, asked, "in the grid's order");
        assert!(
            outcome.loss.is_finite() && !outcome.diverged,
            "{asked}: {outcome:?}"
        );
    }
    let best = best_outcome(&outcomes).expect("a finite run");
    let tiny = outcomes[0].loss; // Adam 1e-5 alone barely moves the weights in 40 steps.
    assert!(
        best.loss < tiny,
        "the best setting ({}, {:.4}) must beat steps of 1e-5 ({tiny:.4})",
        best.settings,
        best.loss
    );

    // A setting without warm-up trains exactly as the AON of its config does.
    let adam_only = UpdateSettings {
        adam_step: 1e-2,
        sgd_nesterov_step: None,
        warmup_steps: 0,
    };
    let position = settings
        .iter()
        .position(|s| *s == adam_only)
        .expect("on the grid");
    let aon = metanas_seeding::seeded_module(&device, 1, || {
        AonConfig::new().with_initial_step(1e-2).init(&device)
    })
    .expect("valid config");
    let direct = train_with_aon(&problem, &aon, training, &device)
        .expect("trains")
        .final_loss();
    assert!(
        (direct - outcomes[position].loss).abs() < 1e-6,
        "the sweep measured {:.6}, the same AON by hand {direct:.6}",
        outcomes[position].loss
    );

    // Warm-up changes the run (the same setting without it differs).
    let warm = outcomes
        .iter()
        .find(|o| {
            o.settings
                == UpdateSettings {
                    warmup_steps: 5,
                    ..adam_only
                }
        })
        .expect("on the grid");
    assert!(
        (warm.loss - outcomes[position].loss).abs() > 1e-7,
        "warm-up must change the run"
    );

    // Reproducible: the same sweep again gives the same losses.
    let again = sweep_settings(&problem, &settings[..2], training, &device).expect("trains");
    for (a, b) in again.iter().zip(&outcomes) {
        assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "{}", a.settings);
    }
}
