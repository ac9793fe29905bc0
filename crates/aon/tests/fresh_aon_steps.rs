//! A fresh AON (output layer at zero) steps exactly as the hand-written
//! optimizers it starts from: Adam, plus SGD-Nesterov when it has that
//! direction. Checked coordinate by coordinate against the textbook formulas.

use burn::optim::Optimizer;
use burn::tensor::{Tensor, TensorData};
use metanas_aon::{AonConfig, AonUpdateRule, FeedbackHandle};
use metanas_device::test_device;

const GRADIENTS: [[f64; 4]; 5] = [
    [0.5, -1.0, 2.0, 0.01],
    [0.4, -0.8, -1.0, 0.02],
    [-0.3, -1.2, 0.5, 0.0],
    [0.1, 0.9, 0.3, -0.05],
    [0.2, -0.1, 1.5, 0.03],
];
const START: [f64; 4] = [0.3, -0.2, 1.0, 0.05];

/// Parameters after each step of Adam (β = 0.9, 0.999, ε = 1e-8) with rate
/// `adam` plus SGD-Nesterov (μ = 0.9, no dampening) with rate `nesterov`,
/// both fed the same gradients.
fn textbook(adam: f64, nesterov: f64) -> Vec<[f64; 4]> {
    let (b1, b2, mu) = (0.9f64, 0.999f64, 0.9f64);
    let (mut m, mut v, mut velocity, mut p) = ([0.0; 4], [0.0; 4], [0.0; 4], START);
    let mut out = Vec::new();
    for (t, g) in GRADIENTS.iter().enumerate() {
        let t = t as i32 + 1;
        for i in 0..4 {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            velocity[i] = if t == 1 {
                g[i]
            } else {
                mu * velocity[i] + g[i]
            };
            let adam_step =
                (m[i] / (1.0 - b1.powi(t))) / ((v[i] / (1.0 - b2.powi(t))).sqrt() + 1e-8);
            p[i] -= adam * adam_step + nesterov * (g[i] + mu * velocity[i]);
        }
        out.push(p);
    }
    out
}

fn aon_steps(config: AonConfig) -> Vec<[f64; 4]> {
    let device = test_device();
    let aon =
        metanas_seeding::seeded_module(&device, 5, || config.init(&device)).expect("valid config");
    let rule = AonUpdateRule::new(&aon, FeedbackHandle::new());
    let to_tensor = |values: [f64; 4]| {
        Tensor::<1>::from_data(
            TensorData::new(values.iter().map(|&x| x as f32).collect::<Vec<_>>(), [4]),
            &device,
        )
    };
    let (mut param, mut state) = (to_tensor(START), None);
    let mut out = Vec::new();
    for g in GRADIENTS {
        (param, state) = rule.step(1.0, param, to_tensor(g), state);
        let values: Vec<f32> = param.clone().into_data().try_to_vec::<f32>().expect("f32");
        out.push([0, 1, 2, 3].map(|i| f64::from(values[i])));
    }
    out
}

fn assert_close(got: &[[f64; 4]], expected: &[[f64; 4]]) {
    for (step, (g, e)) in got.iter().zip(expected).enumerate() {
        for i in 0..4 {
            assert!(
                (g[i] - e[i]).abs() < 2e-5,
                "step {step}, coordinate {i}: AON {} vs textbook {}",
                g[i],
                e[i]
            );
        }
    }
}

#[test]
fn a_fresh_aon_is_adam() {
    assert_close(
        &aon_steps(AonConfig::new().with_hidden(8).with_initial_step(0.01)),
        &textbook(0.01, 0.0),
    );
}

#[test]
fn a_fresh_aon_with_a_momentum_direction_is_adam_plus_sgd_nesterov() {
    let config = AonConfig::new()
        .with_hidden(8)
        .with_initial_step(0.005)
        .with_initial_momentum_step(Some(0.05));
    assert_close(&aon_steps(config), &textbook(0.005, 0.05));
}

#[test]
fn the_momentum_step_must_be_positive() {
    let device = test_device();
    for bad in [0.0, -0.1, f64::NAN] {
        assert!(
            AonConfig::new()
                .with_initial_momentum_step(Some(bad))
                .init(&device)
                .is_err(),
            "{bad} accepted"
        );
    }
}
