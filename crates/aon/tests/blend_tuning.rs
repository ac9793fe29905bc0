//! `tune_blend` chooses the AON's start by grid, like the baselines' rates.

mod common;

use metanas_aon::{AonError, CandidateTraining, mean_final_loss_with_aon, tune_blend};
use metanas_device::test_device;
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn the_blend_grid_keeps_its_best_point_and_measures_it_reproducibly() {
    let device = test_device();
    let (problems, sampler) = common::toy_sampler();
    let mut rng = StdRng::seed_from_u64(3);
    let tune: Vec<_> = (0..2).map(|_| sampler.sample(&mut rng)).collect();
    // Long enough for batch norm's running statistics, which the final validation uses, to settle.
    let training = CandidateTraining {
        steps: 40,
        batch_size: problems.batch_size,
        eval_every: 0,
    };

    let tuned = tune_blend(0.01, 0.1, &[0.01, 1.0], &tune, training, &device).expect("tunes");
    assert_eq!(
        tuned.mean_losses.len(),
        4,
        "every pair of fractions is scored"
    );
    let best = tuned
        .mean_losses
        .iter()
        .map(|p| p.2)
        .fold(f64::INFINITY, f64::min);
    let chosen = tuned
        .mean_losses
        .iter()
        .find(|(a, s, _)| *a == tuned.adam_step && *s == tuned.sgd_nesterov_step)
        .expect("the chosen point is on the grid");
    assert_eq!(
        chosen.2, best,
        "the lowest mean loss is chosen: {:?}",
        tuned.mean_losses
    );
    let (_, _, tiny) = tuned.mean_losses[0];
    assert!(
        best < tiny,
        "steps of 1e-4 + 1e-3 barely train in 40 steps ({tiny:.4}); the best point must beat them ({best:.4})"
    );

    // The returned start is the point that was measured.
    let config = tuned.config();
    assert_eq!(
        (config.initial_step, config.initial_momentum_step),
        (tuned.adam_step, Some(tuned.sgd_nesterov_step))
    );
    let aon =
        metanas_seeding::seeded_module(&device, 9, || config.init(&device)).expect("valid config");
    let again = mean_final_loss_with_aon(&aon, &tune, training, &device).expect("scores");
    assert!(
        (again - best).abs() < 1e-6,
        "a fresh AON of the chosen start scores {again:.6}, the grid measured {best:.6}"
    );

    for bad in [&[][..], &[0.5, -1.0][..], &[f64::NAN][..]] {
        assert!(
            matches!(
                tune_blend(0.01, 0.1, bad, &tune, training, &device),
                Err(AonError::InvalidConfig(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        tune_blend(0.0, 0.1, &[0.5], &tune, training, &device),
        Err(AonError::InvalidConfig(_))
    ));
    assert!(matches!(
        tune_blend(0.01, 0.1, &[0.5], &[], training, &device),
        Err(AonError::InvalidConfig(_))
    ));
}
