//! Saving and loading an AON (and a meta-trainer) is exact.

use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Distribution, Tensor};
use metanas_aon::aon_parameters::{flatten_parameters, perturbed};
use metanas_aon::coordinate_features::prepare_step;
use metanas_aon::{Aon, AonConfig, FeedbackInputs};
use metanas_device::test_device;
use metanas_net::TrainingFeedback;

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
    let aon =
        metanas_seeding::seeded_module(&device, 21, || config.init(&device)).expect("valid config");
    // Make every weight non-trivial (the output layer starts at zero).
    let direction: Vec<f32> = (0..flatten_parameters(&aon).len())
        .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
        .collect();
    let aon = perturbed(&aon, &direction, 0.3);
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

#[test]
fn a_loaded_aon_trains_a_network_as_the_saved_one_did() {
    let device = test_device();
    // Every setting that changes an update: both directions, feedback, online step sizes.
    let config = AonConfig::blend(2e-2, 0.1)
        .with_hidden(8)
        .with_use_feedback(true)
        .with_hypergradient_rate(0.05);
    let fresh =
        metanas_seeding::seeded_module(&device, 23, || config.init(&device)).expect("valid");
    let direction: Vec<f32> = (0..flatten_parameters(&fresh).len())
        .map(|i| ((i * 29 % 13) as f32 - 6.0) / 9.0)
        .collect();
    let aon = perturbed(&fresh, &direction, 0.3);
    let dir = tempfile::tempdir().expect("temp dir");
    aon.save(dir.path()).expect("saves");
    let loaded = Aon::load(dir.path(), &device).expect("loads");
    let settings = |a: &Aon| serde_json::to_string(a.config()).expect("serialises");
    assert_eq!(settings(&loaded), settings(&aon));

    let expected = trained_weights(&aon);
    let difference = largest_difference(&trained_weights(&loaded), &expected);
    assert!(
        difference <= 1e-6,
        "the loaded AON trains otherwise: {difference}"
    );
    // The comparison can fail: an AON with other weights trains otherwise.
    assert!(largest_difference(&trained_weights(&fresh), &expected) > 1e-4);
}

/// Trains a small least-squares `Linear` for 12 steps with `aon` as Burn's
/// optimizer, the run's feedback set before every step as a training loop
/// does; returns the trained weights (`[6, 2]`, flattened) and bias.
fn trained_weights(aon: &Aon) -> Vec<f32> {
    let device = test_device().autodiff();
    let mut model = metanas_seeding::seeded_module(&device, 31, || {
        Ok::<_, std::convert::Infallible>(LinearConfig::new(6, 2).init(&device))
    })
    .expect("infallible");
    let (x, y) = metanas_seeding::seeded(&device, 32, || {
        let x = Tensor::<2>::random([32, 6], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<2>::random([6, 2], Distribution::Normal(0.0, 1.0), &device);
        (x.clone(), x.matmul(w))
    });
    let mse = |m: &Linear| (m.forward(x.clone()) - y.clone()).square().mean();
    let (mut optimizer, feedback) = aon.module_optimizer();
    let first = f64::from(mse(&model).into_scalar::<f32>());
    let mut smoothed = first;
    for step in 0..12 {
        let loss = mse(&model);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        smoothed = 0.9 * smoothed + 0.1 * value;
        feedback.set(TrainingFeedback {
            step,
            total_steps: 12,
            loss: value,
            initial_loss: first,
            smoothed_loss: smoothed,
        });
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1.0, model, grads);
    }
    let values = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().expect("f32");
    let mut weights = values(model.weight.val().reshape([12]));
    weights.extend(model.bias.map(|b| values(b.val())).unwrap_or_default());
    weights
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
