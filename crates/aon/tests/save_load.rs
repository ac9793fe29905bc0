//! Saving and loading an AON (and a meta-trainer) is exact.

use metanas_aon::aon_parameters::flatten_parameters;
use metanas_aon::coordinate_features::prepare_step;
use metanas_aon::{Aon, AonConfig, FeedbackInputs};
use metanas_device::test_device;
use burn::tensor::{Distribution, Tensor};

#[test]
fn save_then_load_gives_the_same_weights_settings_and_updates() {
    let device = test_device();
    device.seed(21);
    let config = AonConfig::new().with_hidden(8).with_initial_step(2e-3).with_use_feedback(false);
    let aon = config.init(&device).expect("valid config");
    // Make every weight non-trivial (the output layer starts at zero).
    let direction: Vec<f32> = (0..flatten_parameters(&aon).len()).map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0).collect();
    let aon = metanas_aon::aon_parameters::perturbed(&aon, &direction, 0.3);
    let dir = tempfile::tempdir().expect("temp dir");
    aon.save(dir.path()).expect("saves");
    let loaded = Aon::load(dir.path(), &device).expect("loads");

    assert_eq!(flatten_parameters(&aon), flatten_parameters(&loaded), "weights differ after the round trip");
    assert_eq!(loaded.config().hidden, 8);
    assert!(!loaded.uses_feedback());
    assert_eq!(loaded.base_step(), aon.base_step());

    let param = Tensor::<1>::random([50], Distribution::Normal(0.0, 1.0), &device);
    let grad = Tensor::<1>::random([50], Distribution::Normal(0.0, 1.0), &device);
    let update = |a: &Aon| {
        let (inputs, _) = prepare_step(param.clone(), grad.clone(), None, FeedbackInputs::NONE);
        a.update(inputs, 0.7).into_data().try_to_vec::<f32>().expect("f32")
    };
    assert_eq!(update(&aon), update(&loaded), "updates differ after the round trip");
}
