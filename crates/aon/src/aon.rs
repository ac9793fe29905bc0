//! The AON network: a small MLP applied to every parameter coordinate.

use crate::coordinate_features::{CONTEXT_FEATURES, COORDINATE_FEATURES, StepInputs};
use crate::error::AonError;
use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};

/// Bound of the learned per-coordinate log step-size correction: the AON can
/// make a coordinate's step at most `e^3 ≈ 20` times larger or smaller than its
/// base step.
pub const MAX_LOG_STEP_CORRECTION: f64 = 3.0;

/// Settings of an [`Aon`].
///
/// The AON computes, for every coordinate of every parameter tensor,
///
/// ```text
/// update = −lr · σ · exp(clamp(s, ±3)) · (e^log_step · (m̂₀.₉ / (√v̂ + ε) + d) + e^log_momentum_step · (g + μ·m))
/// [d, s] = MLP(coordinate features, tensor features, run feedback)
/// ```
///
/// where `σ` is 1, or, with [`AonConfig::hypergradient_rate`] > 0, the
/// tensor's online step scale (see [`crate::coordinate_features::prepare_step`]);
/// `m̂₀.₉ / (√v̂ + ε)` is exactly Adam's direction (β = 0.9, 0.999),
/// `g + μ·m` SGD-Nesterov's (μ = 0.9; only with
/// [`AonConfig::initial_momentum_step`], otherwise that term is absent) and
/// the MLP's output layer starts at zero, so a fresh AON *is* Adam with
/// learning rate `lr · initial_step` plus, if configured, SGD-Nesterov with
/// rate `lr · initial_momentum_step`; meta-training then learns corrections
/// and the balance of the two. `lr` is the schedule's rate (use a base rate of
/// 1 so the schedule only shapes it).
#[derive(Config, Debug)]
pub struct AonConfig {
    /// Width of the two hidden layers of the per-coordinate MLP.
    #[config(default = 16)]
    pub hidden: usize,
    /// Step size of the AON at initialisation (its Adam learning rate; 1e-2
    /// won Adam's grid on the MNIST meta-training tasks at batch 16).
    #[config(default = 1e-2)]
    pub initial_step: f64,
    /// Step size of a second, SGD-Nesterov direction added to Adam's (its
    /// learning rate at initialisation); `None` (the default): Adam's
    /// direction only. The AON may start from Adam, SGD-Nesterov or a blend
    /// of the two ([`AonConfig::blend`]; `bench-aon --start`).
    #[config(default = "None")]
    pub initial_momentum_step: Option<f64>,
    /// Whether the run's feedback (loss relative to its start, recent loss
    /// trend, progress) reaches the MLP. Without it the AON sees only
    /// gradients, moments and parameter scales. Off by default: no measured
    /// gain from these inputs (`docs/decisions/0006-*`; `bench-aon --feedback`).
    #[config(default = false)]
    pub use_feedback: bool,
    /// Standard deviation of the first layers' initial weights, times `1/√fan_in`.
    #[config(default = 1.0)]
    pub init_scale: f64,
    /// Rate of the online, per-tensor step-size adaptation by hypergradients
    /// (see [`crate::coordinate_features::prepare_step`]); 0 (the default): none.
    /// Not learned: a hand-set part of the update, like Adam's decays.
    #[config(default = 0.0)]
    pub hypergradient_rate: f64,
}

/// The learned optimizer's weights (shared by every coordinate of every
/// parameter, so one AON trains networks of any size).
///
/// Build with [`AonConfig::init`]; use through [`crate::AonOptimizer`]
/// (metanas-net's training loop) or [`Aon::module_optimizer`] (any Burn user).
#[derive(Module, Debug)]
pub struct Aon {
    /// `[COORDINATE_FEATURES, hidden]`
    coordinate_weights: Param<Tensor<2>>,
    /// `[CONTEXT_FEATURES, hidden]`: tensor-level and run-level inputs.
    context_weights: Param<Tensor<2>>,
    /// `[hidden]`
    first_bias: Param<Tensor<1>>,
    /// `[hidden, hidden]`
    second_weights: Param<Tensor<2>>,
    /// `[hidden]`
    second_bias: Param<Tensor<1>>,
    /// `[hidden, 2]`: direction correction and log step-size correction (zero at init).
    output_weights: Param<Tensor<2>>,
    /// `[2]`
    output_bias: Param<Tensor<1>>,
    /// `[1]`: the log of the base step size.
    log_step: Param<Tensor<1>>,
    /// `[1]`: the log of the SGD-Nesterov direction's step size (absent: no such term).
    log_momentum_step: Option<Param<Tensor<1>>>,
    /// The settings it was built with.
    #[module(skip)]
    config: AonConfig,
}

impl AonConfig {
    /// An AON that starts as an even blend of two tuned hand-written
    /// optimizers: Adam at half of `adam_rate` plus SGD-Nesterov at half of
    /// `sgd_nesterov_rate`: the default start of meta-training
    /// (`docs/decisions/0005-*`; `bench-aon --meta-steps 0` scores it).
    pub fn blend(adam_rate: f64, sgd_nesterov_rate: f64) -> Self {
        Self::adam_plus_sgd_nesterov(adam_rate / 2.0, sgd_nesterov_rate / 2.0)
    }

    /// An AON that starts as Adam at `adam_step` plus SGD-Nesterov at
    /// `sgd_nesterov_step` (its two directions' initial step sizes).
    pub fn adam_plus_sgd_nesterov(adam_step: f64, sgd_nesterov_step: f64) -> Self {
        Self::new()
            .with_initial_step(adam_step)
            .with_initial_momentum_step(Some(sgd_nesterov_step))
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        if self.hidden == 0 || self.hidden > 4096 {
            return Err(AonError::InvalidConfig(format!(
                "hidden must be in 1..=4096, got {}",
                self.hidden
            )));
        }
        if !(self.initial_step.is_finite() && self.initial_step > 0.0) {
            return Err(AonError::InvalidConfig(format!(
                "initial_step must be positive and finite, got {}",
                self.initial_step
            )));
        }
        if let Some(step) = self.initial_momentum_step
            && !(step.is_finite() && step > 0.0)
        {
            return Err(AonError::InvalidConfig(format!(
                "initial_momentum_step must be positive and finite, got {step}"
            )));
        }
        if !(self.hypergradient_rate.is_finite() && (0.0..=1.0).contains(&self.hypergradient_rate))
        {
            return Err(AonError::InvalidConfig(format!(
                "hypergradient_rate must be in [0, 1], got {}",
                self.hypergradient_rate
            )));
        }
        if !(self.init_scale.is_finite() && self.init_scale >= 0.0) {
            return Err(AonError::InvalidConfig(format!(
                "init_scale must be ≥ 0, got {}",
                self.init_scale
            )));
        }
        Ok(())
    }

    /// A fresh AON on `device` (build it with `metanas_seeding::seeded_module`
    /// for reproducible weights):
    /// it behaves exactly like Adam with learning rate `initial_step` (plus
    /// SGD-Nesterov at `initial_momentum_step`, if set).
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] when [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> crate::error::Result<Aon> {
        self.check()?;
        let h = self.hidden;
        let normal = |fan_in: usize, shape: [usize; 2]| {
            let std = self.init_scale * (2.0 / fan_in as f64).sqrt();
            Param::from_tensor(Tensor::<2>::random(
                shape,
                Distribution::Normal(0.0, std),
                device,
            ))
        };
        Ok(Aon {
            coordinate_weights: normal(
                COORDINATE_FEATURES + CONTEXT_FEATURES,
                [COORDINATE_FEATURES, h],
            ),
            context_weights: normal(
                COORDINATE_FEATURES + CONTEXT_FEATURES,
                [CONTEXT_FEATURES, h],
            ),
            first_bias: Param::from_tensor(Tensor::zeros([h], device)),
            second_weights: normal(h, [h, h]),
            second_bias: Param::from_tensor(Tensor::zeros([h], device)),
            output_weights: Param::from_tensor(Tensor::zeros([h, 2], device)),
            output_bias: Param::from_tensor(Tensor::zeros([2], device)),
            log_step: Param::from_tensor(Tensor::from_floats(
                [self.initial_step.ln() as f32],
                device,
            )),
            log_momentum_step: self
                .initial_momentum_step
                .map(|step| Param::from_tensor(Tensor::from_floats([step.ln() as f32], device))),
            config: self.clone(),
        })
    }
}

impl Aon {
    /// The rate of its online step-size adaptation (0: none).
    pub fn hypergradient_rate(&self) -> f64 {
        self.config.hypergradient_rate
    }

    /// Whether this AON reads the run's feedback.
    pub fn uses_feedback(&self) -> bool {
        self.config.use_feedback
    }

    /// The settings it was built with.
    pub fn config(&self) -> &AonConfig {
        &self.config
    }

    /// The base step size `exp(log_step)` (the learning rate of the Adam it started as).
    pub fn base_step(&self) -> f64 {
        f64::from(self.log_step.val().exp().into_scalar::<f32>())
    }

    /// The step size of the SGD-Nesterov direction, if the AON has one.
    pub fn momentum_step(&self) -> Option<f64> {
        self.log_momentum_step
            .as_ref()
            .map(|p| f64::from(p.val().exp().into_scalar::<f32>()))
    }

    /// The update of one (flattened) parameter tensor, given its prepared
    /// inputs (see [`crate::coordinate_features`]) and the schedule's rate.
    ///
    /// # Shapes
    /// inputs: coordinates `[n, COORDINATE_FEATURES]`, context `[1, CONTEXT_FEATURES]`,
    /// Adam direction `[n]` → update `[n]`
    pub fn update(&self, inputs: StepInputs, learning_rate: f64) -> Tensor<1> {
        let StepInputs {
            coordinates,
            context,
            adam_direction,
            gradient,
            momentum,
            step_scale,
        } = inputs;
        let [n, _] = coordinates.dims();
        let context_term =
            context.matmul(self.context_weights.val()) + self.first_bias.val().unsqueeze::<2>(); // [1, h]
        let hidden = relu(coordinates.matmul(self.coordinate_weights.val()) + context_term); // [n, h]
        let hidden = relu(
            hidden.matmul(self.second_weights.val()) + self.second_bias.val().unsqueeze::<2>(),
        ); // [n, h]
        let out =
            hidden.matmul(self.output_weights.val()) + self.output_bias.val().unsqueeze::<2>(); // [n, 2]
        let direction = adam_direction + out.clone().narrow(1, 0, 1).reshape([n]); // [n]
        let correction = out
            .narrow(1, 1, 1)
            .reshape([n])
            .clamp(-MAX_LOG_STEP_CORRECTION, MAX_LOG_STEP_CORRECTION); // [n]
        let step = (correction.clone() + self.log_step.val()).exp() * direction; // [n]
        let step = match &self.log_momentum_step {
            Some(log_momentum_step) => {
                step + (correction + log_momentum_step.val()).exp()
                    * StepInputs::nesterov_direction(gradient, momentum)
            }
            None => step,
        };
        let step = match step_scale {
            Some(scale) => step * scale, // [n] · [1]
            None => step,
        };
        step * (-learning_rate)
    }
}
