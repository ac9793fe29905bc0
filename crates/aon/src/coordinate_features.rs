//! What the AON sees of one parameter tensor: per-coordinate features from the
//! gradient and its running moments, tensor-level features, and the run's
//! feedback; and the running state that carries the moments between steps.

use crate::run_feedback::FeedbackInputs;
use burn::optim::{RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor, TensorData};

/// Decays of the three momenta the AON reads (fast, Adam's, slow).
pub const MOMENTUM_DECAYS: [f32; 3] = [0.5, 0.9, 0.99];
/// Decay of the second-moment estimate (Adam's β₂).
pub const SECOND_MOMENT_DECAY: f32 = 0.999;
/// Added to `√v̂` before dividing, as Adam does.
pub const EPSILON: f32 = 1e-8;
/// Every per-coordinate feature is clamped to `±FEATURE_CLAMP`.
pub const FEATURE_CLAMP: f32 = 10.0;
/// Bound of a tensor's online log step-size scale (hypergradient adaptation):
/// its steps can grow or shrink at most `e^2 ≈ 7.4` times.
pub const MAX_LOG_STEP_SCALE: f32 = 2.0;

/// Per-coordinate inputs: `g/√v̂`, the three bias-corrected momenta over `√v̂`,
/// and the parameter over its tensor's RMS.
pub const COORDINATE_FEATURES: usize = 5;
/// Tensor- and run-level inputs: log RMS of the parameter tensor, log of its
/// size, then [`crate::FeedbackInputs`] (3 values).
pub const CONTEXT_FEATURES: usize = 5;

/// The running state of one parameter tensor (flattened): three momenta, the
/// second moment, and the bias-correction terms `1 − βᵗ` of the four decays,
/// kept as a tensor so no step reads anything back from the device.
#[derive(Clone, Debug)]
pub struct AonState {
    /// Momenta at [`MOMENTUM_DECAYS`], each `[n]`.
    pub momenta: [Tensor<1>; 3],
    /// Second-moment estimate `[n]`.
    pub second_moment: Tensor<1>,
    /// `1 − βᵗ` for the three momenta and the second moment: `[4]`.
    pub corrections: Tensor<1>,
    /// The tensor's online log step-size scale `[1]` (0 unless the AON
    /// adapts its step by hypergradients: [`crate::AonConfig::hypergradient_rate`]).
    pub log_step_scale: Tensor<1>,
}

impl AonState {
    /// A zero state for `n` coordinates on `device`.
    pub fn zeros(n: usize, device: &Device) -> Self {
        Self {
            momenta: [
                Tensor::zeros([n], device),
                Tensor::zeros([n], device),
                Tensor::zeros([n], device),
            ],
            second_moment: Tensor::zeros([n], device),
            corrections: Tensor::zeros([4], device),
            log_step_scale: Tensor::zeros([1], device),
        }
    }

    /// The state moved to `device`.
    pub fn to_device(self, device: &Device) -> Self {
        let [a, b, c] = self.momenta;
        Self {
            momenta: [
                a.to_device(device),
                b.to_device(device),
                c.to_device(device),
            ],
            second_moment: self.second_moment.to_device(device),
            corrections: self.corrections.to_device(device),
            log_step_scale: self.log_step_scale.to_device(device),
        }
    }

    /// Number of coordinates.
    pub fn len(&self) -> usize {
        self.second_moment.dims()[0]
    }

    /// Whether the state has no coordinates.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const LEAVES: [&str; 6] = [
    "momentum_fast",
    "momentum_mid",
    "momentum_slow",
    "second_moment",
    "corrections",
    "log_step_scale",
];

impl RecordState for AonState {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        let tensors = [
            &self.momenta[0],
            &self.momenta[1],
            &self.momenta[2],
            &self.second_moment,
            &self.corrections,
            &self.log_step_scale,
        ];
        for (leaf, tensor) in LEAVES.iter().zip(tensors) {
            out.push_tensor(prefix, leaf, tensor.to_data());
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let mut take = |leaf: &str| {
            src.take_tensor(prefix, leaf)
                .map(|d| Tensor::<1>::from_data(d, device))
        };
        let fast = take(LEAVES[0])?;
        let mid = take(LEAVES[1])?;
        let slow = take(LEAVES[2])?;
        let second_moment = take(LEAVES[3])?;
        let corrections = take(LEAVES[4])?;
        // States saved before the step-size adaptation existed have no scale: 0.
        let log_step_scale = take(LEAVES[5]).unwrap_or_else(|| Tensor::zeros([1], device));
        let n = second_moment.dims()[0];
        let consistent = [&fast, &mid, &slow].iter().all(|t| t.dims()[0] == n)
            && corrections.dims()[0] == 4
            && log_step_scale.dims()[0] == 1;
        consistent.then_some(Self {
            momenta: [fast, mid, slow],
            second_moment,
            corrections,
            log_step_scale,
        })
    }
}

/// The inputs of [`crate::Aon::update`] for one parameter tensor.
#[derive(Clone, Debug)]
pub struct StepInputs {
    /// `[n, COORDINATE_FEATURES]`
    pub coordinates: Tensor<2>,
    /// `[1, CONTEXT_FEATURES]`
    pub context: Tensor<2>,
    /// Adam's direction `m̂₀.₉ / (√v̂ + ε)`: `[n]`.
    pub adam_direction: Tensor<1>,
    /// The gradient `[n]` and its momentum at decay 0.9 `[n]` (not bias
    /// corrected), from which [`Self::nesterov_direction`] is formed only
    /// for an AON that has that direction.
    pub gradient: Tensor<1>,
    /// See `gradient`.
    pub momentum: Tensor<1>,
    /// `e^(log step scale)` of the tensor `[1]`, when the AON adapts its step
    /// online ([`crate::AonConfig::hypergradient_rate`] > 0); `None` otherwise.
    pub step_scale: Option<Tensor<1>>,
}

impl StepInputs {
    /// The same inputs lifted onto the autodiff device of their inner device
    /// (as constants), for meta-training.
    pub fn lift(self) -> Self {
        Self {
            coordinates: Tensor::from_inner(self.coordinates),
            context: Tensor::from_inner(self.context),
            adam_direction: Tensor::from_inner(self.adam_direction),
            gradient: Tensor::from_inner(self.gradient),
            momentum: Tensor::from_inner(self.momentum),
            step_scale: self.step_scale.map(Tensor::from_inner),
        }
    }

    /// SGD-Nesterov's direction `g + μ·v` with μ = 0.9 and `v` Burn's
    /// undamped momentum buffer `Σ μᵏ g = m₀.₉ / (1 − μ)`: `[n]`.
    pub fn nesterov_direction(gradient: Tensor<1>, momentum: Tensor<1>) -> Tensor<1> {
        let mu = MOMENTUM_DECAYS[1];
        gradient + momentum * (mu / (1.0 - mu))
    }
}

/// Advances `state` with gradient `grad` of parameter `param` (both flattened,
/// on the same device) and builds the AON's inputs.
///
/// A missing or mismatched state (another size) starts from zero.
///
/// With `hypergradient_rate` > 0 the tensor's log step scale moves by
/// `rate · cos(g_t, m_{t−1})` (clamped to ±[`MAX_LOG_STEP_SCALE`]): while the
/// new gradient still points along the momentum the last steps followed, the
/// steps grow; when it turns against it, they shrink (hypergradient descent on
/// the step size, Baydin et al. 2018, in its multiplicative, normalised form).
///
/// # Shapes
/// param, grad: `[n]`
pub fn prepare_step(
    param: Tensor<1>,
    grad: Tensor<1>,
    state: Option<AonState>,
    feedback: FeedbackInputs,
    hypergradient_rate: f64,
) -> (StepInputs, AonState) {
    let device = param.device();
    let [n] = param.dims();
    let state = match state {
        Some(s) if s.len() == n => s,
        _ => AonState::zeros(n, &device),
    };
    let [d0, d1, d2] = MOMENTUM_DECAYS;
    let decays = [d0, d1, d2, SECOND_MOMENT_DECAY];
    let decay_tensor = Tensor::<1>::from_data(TensorData::new(decays.to_vec(), [4]), &device);
    // c ← β·c + (1 − β): after t steps c = 1 − βᵗ.
    let corrections = state.corrections * decay_tensor.clone() - decay_tensor + 1.0; // [4]
    let [m0, m1, m2] = state.momenta;
    let (log_step_scale, step_scale) = if hypergradient_rate > 0.0 {
        // cos(g_t, m_{t−1}); 0 at the first step, where the momentum is 0.
        let alignment = (grad.clone() * m1.clone()).sum()
            / ((grad.clone().square().sum() * m1.clone().square().sum()).sqrt() + 1e-12); // [1]
        let log_scale = (state.log_step_scale + alignment * hypergradient_rate)
            .clamp(-MAX_LOG_STEP_SCALE, MAX_LOG_STEP_SCALE);
        (log_scale.clone(), Some(log_scale.exp()))
    } else {
        (state.log_step_scale, None)
    };
    let momenta = [
        m0 * d0 + grad.clone() * (1.0 - d0),
        m1 * d1 + grad.clone() * (1.0 - d1),
        m2 * d2 + grad.clone() * (1.0 - d2),
    ];
    let second_moment = state.second_moment * SECOND_MOMENT_DECAY
        + grad.clone().square() * (1.0 - SECOND_MOMENT_DECAY);
    let correction = |k: usize| corrections.clone().narrow(0, k, 1); // [1]
    let denominator = (second_moment.clone() / correction(3)).sqrt() + EPSILON; // [n]
    let corrected = |k: usize| momenta[k].clone() / correction(k) / denominator.clone(); // [n]
    let adam_direction = corrected(1);
    let param_rms = param.clone().square().mean().sqrt(); // [1]
    let coordinates = Tensor::stack::<2>(
        vec![
            grad.clone() / denominator.clone(),
            corrected(0),
            adam_direction.clone(),
            corrected(2),
            param / (param_rms.clone() + 1e-3),
        ],
        1,
    )
    .clamp(-FEATURE_CLAMP, FEATURE_CLAMP); // [n, COORDINATE_FEATURES]
    let log_rms = (param_rms + 1e-3).log() / 4.0; // [1]
    let f = feedback.values();
    let rest = Tensor::<1>::from_data(
        TensorData::new(vec![(n.max(1) as f32).ln() / 10.0, f[0], f[1], f[2]], [4]),
        &device,
    );
    let context = Tensor::cat(vec![log_rms, rest], 0).reshape([1, CONTEXT_FEATURES]); // [1, CONTEXT_FEATURES]
    (
        StepInputs {
            coordinates,
            context,
            adam_direction: adam_direction.clamp(-FEATURE_CLAMP, FEATURE_CLAMP),
            gradient: grad,
            momentum: momenta[1].clone(),
            step_scale,
        },
        AonState {
            momenta,
            second_moment,
            corrections,
            log_step_scale,
        },
    )
}
