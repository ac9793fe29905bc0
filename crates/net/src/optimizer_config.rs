//! Hand-written optimizers as settings.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// A hand-written optimizer and its base learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// SGD with (Nesterov) momentum, as NAS-Bench-201 trains (lr 0.1, momentum 0.9, Nesterov, wd 5e-4).
    Sgd {
        /// Base learning rate.
        learning_rate: f64,
        /// Momentum factor.
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
        /// L2 penalty.
        weight_decay: f32,
    },
    /// Adam (β = 0.9, 0.999).
    Adam {
        /// Base learning rate.
        learning_rate: f64,
        /// L2 penalty.
        weight_decay: f32,
    },
    /// AdamW (β = 0.9, 0.999): weight decay decoupled from the gradient step.
    AdamW {
        /// Base learning rate.
        learning_rate: f64,
        /// Decoupled weight decay (multiplied by the learning rate).
        weight_decay: f32,
    },
}

impl OptimizerConfig {
    /// SGD with Nesterov momentum 0.9 and no weight decay.
    pub fn sgd_nesterov(learning_rate: f64) -> Self {
        Self::Sgd {
            learning_rate,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0,
        }
    }

    /// Adam without weight decay.
    pub fn adam(learning_rate: f64) -> Self {
        Self::Adam {
            learning_rate,
            weight_decay: 0.0,
        }
    }

    /// The base learning rate.
    pub fn learning_rate(&self) -> f64 {
        match *self {
            Self::Sgd { learning_rate, .. }
            | Self::Adam { learning_rate, .. }
            | Self::AdamW { learning_rate, .. } => learning_rate,
        }
    }

    /// A fresh optimizer (no state).
    pub fn init(&self) -> ModuleOptimizer {
        let decay = |penalty: f32| (penalty > 0.0).then_some(WeightDecayConfig { penalty });
        match *self {
            Self::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => SgdConfig::new()
                .with_momentum(Some(MomentumConfig {
                    momentum,
                    // PyTorch's SGD: no dampening (Nesterov requires it).
                    dampening: 0.0,
                    nesterov,
                }))
                .with_weight_decay(decay(weight_decay))
                .init(),
            Self::Adam { weight_decay, .. } => AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay(weight_decay))
                .init(),
            Self::AdamW { weight_decay, .. } => AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(weight_decay)
                .init(),
        }
    }
}
