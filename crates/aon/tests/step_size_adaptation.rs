//! The AON's online step-size adaptation by hypergradients
//! (`AonConfig::hypergradient_rate`): off, it changes nothing; on, a tensor's
//! steps grow while its gradients keep their direction and shrink when they
//! turn, within the bound.

use burn::tensor::{Tensor, TensorData};
use metanas_aon::coordinate_features::{AonState, MAX_LOG_STEP_SCALE, prepare_step};
use metanas_aon::{AonConfig, FeedbackInputs};
use metanas_device::test_device;

fn vector(values: &[f32]) -> Tensor<1> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [values.len()]),
        &test_device(),
    )
}

/// The log step scale after feeding `gradients` one after the other.
fn log_scale_after(gradients: &[[f32; 3]], rate: f64) -> f32 {
    let param = vector(&[0.5, -0.2, 0.1]);
    let mut state: Option<AonState> = None;
    for g in gradients {
        let (_, next) = prepare_step(param.clone(), vector(g), state, FeedbackInputs::NONE, rate);
        state = Some(next);
    }
    state
        .expect("at least one step")
        .log_step_scale
        .into_scalar::<f32>()
}

#[test]
fn steps_grow_along_a_steady_gradient_and_shrink_when_it_turns() {
    let steady = [[1.0, -2.0, 0.5]; 6];
    let turning: Vec<[f32; 3]> = (0..6)
        .map(|i| {
            if i % 2 == 0 {
                [1.0, -2.0, 0.5]
            } else {
                [-1.0, 2.0, -0.5]
            }
        })
        .collect();
    let grow = log_scale_after(&steady, 0.1);
    let shrink = log_scale_after(&turning, 0.1);
    // Five aligned steps after the first (whose momentum is zero): 5 × 0.1.
    assert!(
        (grow - 0.5).abs() < 1e-4,
        "steady gradient: log scale {grow}"
    );
    assert!(shrink < -0.2, "turning gradient: log scale {shrink}");
    let bounded = log_scale_after(&[[1.0, -2.0, 0.5]; 60], 0.5);
    assert!(
        (bounded - MAX_LOG_STEP_SCALE).abs() < 1e-6,
        "bounded: {bounded}"
    );
}

#[test]
fn without_the_rate_the_scale_stays_zero_and_the_update_is_unscaled() {
    assert_eq!(log_scale_after(&[[1.0, -2.0, 0.5]; 4], 0.0), 0.0);
    let device = test_device();
    let aon = AonConfig::blend(1e-2, 0.1)
        .with_hidden(8)
        .init(&device)
        .expect("valid");
    let scaled = AonConfig::blend(1e-2, 0.1)
        .with_hidden(8)
        .with_hypergradient_rate(0.1)
        .init(&device)
        .expect("valid");
    let param = vector(&[0.5, -0.2, 0.1]);
    let step = |aon: &metanas_aon::Aon, rate: f64| {
        let mut state = None;
        let mut update = Vec::new();
        for _ in 0..3 {
            let (inputs, next) = prepare_step(
                param.clone(),
                vector(&[1.0, -2.0, 0.5]),
                state,
                FeedbackInputs::NONE,
                rate,
            );
            state = Some(next);
            update = aon
                .update(inputs, 1.0)
                .into_data()
                .try_to_vec::<f32>()
                .expect("f32");
        }
        update
    };
    let plain = step(&aon, 0.0);
    let adapted = step(&scaled, 0.1);
    // Both AONs start with zero output layers, so they differ only by the
    // scale: e^(0.1 · 2) after two aligned steps.
    for (p, a) in plain.iter().zip(&adapted) {
        assert!((a / p - 0.2f32.exp()).abs() < 1e-4, "{a} vs {p}");
    }
}

#[test]
fn a_rate_outside_zero_to_one_is_refused() {
    let device = test_device();
    for rate in [-0.1, 1.5, f64::NAN] {
        assert!(
            AonConfig::new()
                .with_hypergradient_rate(rate)
                .init(&device)
                .is_err(),
            "{rate}"
        );
    }
}
