//! Saving and loading an AON (and a meta-trainer) is exact.

use burn::tensor::{Distribution, Tensor};
use metanas_aon::aon_parameters::flatten_parameters;
use metanas_aon::coordinate_features::prepare_step;
use metanas_aon::{Aon, AonConfig, FeedbackInputs};
use metanas_device::test_device;

#[test]
fn save_then_load_gives_the_same_weights_settings_and_updates() {
    round_trip(
        AonConfig::new()
            .with_hidden(8)
            .with_initial_step(2e-3)
            .with_use_feedback(false),
    );
}

#[test]
fn an_aon_with_a_momentum_direction_round_trips_too() {
    let loaded = round_trip(AonConfig::blend(1e-2, 0.1).with_hidden(8));
    assert!(
        loaded.momentum_step().is_some(),
        "the SGD-Nesterov step was lost"
    );
}

#[test]
fn an_adam_only_aon_loads_without_a_momentum_direction() {
    let device = test_device();
    let dir = tempfile::tempdir().expect("temp dir");
    AonConfig::new()
        .with_hidden(8)
        .init(&device)
        .expect("valid")
        .save(dir.path())
        .expect("saves");
    let loaded = Aon::load(dir.path(), &device).expect("loads");
    assert_eq!(loaded.momentum_step(), None);
}

/// Saves and loads an AON built from `config` (weights made non-trivial) and
/// checks weights, settings and updates; returns the loaded AON.
fn round_trip(config: AonConfig) -> Aon {
    let device = test_device();
    let aon = metanas_seeding::seeded(&device, 21, || config.init(&device)).expect("valid config");
    // Make every weight non-trivial (the output layer starts at zero).
    let direction: Vec<f32> = (0..flatten_parameters(&aon).len())
        .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
        .collect();
    let aon = metanas_aon::aon_parameters::perturbed(&aon, &direction, 0.3);
    let dir = tempfile::tempdir().expect("temp dir");
    aon.save(dir.path()).expect("saves");
    let loaded = Aon::load(dir.path(), &device).expect("loads");

    assert_eq!(
        flatten_parameters(&aon),
        flatten_parameters(&loaded),
        "weights differ after the round trip"
    );
    assert_eq!(loaded.config().hidden, config.hidden);
    assert_eq!(loaded.uses_feedback(), config.use_feedback);
    assert_eq!(loaded.base_step(), aon.base_step());
    assert_eq!(loaded.momentum_step(), aon.momentum_step());

    let (param, grad) = metanas_seeding::seeded(&device, 22, || {
        let draw = || Tensor::<1>::random([50], Distribution::Normal(0.0, 1.0), &device);
        (draw(), draw())
    });
    let update = |a: &Aon| {
        let (inputs, _) =
            prepare_step(param.clone(), grad.clone(), None, FeedbackInputs::NONE, 0.0);
        a.update(inputs, 0.7)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32")
    };
    assert_eq!(
        update(&aon),
        update(&loaded),
        "updates differ after the round trip"
    );
    loaded
}
