//! The settings of the AON's update rule for one candidate — the step sizes
//! of its Adam and SGD-Nesterov directions and the warm-up length — and grids
//! of them, the space an architecture-conditioned choice picks from.

use crate::aon::{Aon, AonConfig};
use crate::error::AonError;
use burn::tensor::Device;
use metanas_net::LearningRateSchedule;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a fresh (untrained) AON trains one candidate: its Adam direction at
/// `adam_step`, plus an SGD-Nesterov direction at `sgd_nesterov_step` if set,
/// under a cosine schedule with `warmup_steps` of linear warm-up.
///
/// A fresh AON's MLP outputs zero, so these settings alone decide its updates
/// (see [`AonConfig`]); the momenta's decays are the AON's own (0.9 for the
/// SGD-Nesterov direction, Adam's 0.9 / 0.999) and are not part of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpdateSettings {
    /// Step size of the Adam direction (its learning rate).
    pub adam_step: f64,
    /// Step size of the SGD-Nesterov direction; `None`: no such direction.
    pub sgd_nesterov_step: Option<f64>,
    /// Steps of linear warm-up before the cosine decay (0: plain cosine).
    pub warmup_steps: usize,
}

impl UpdateSettings {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] for a step size that is not positive and finite.
    pub fn check(&self) -> crate::error::Result<()> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.adam_step) {
            return Err(AonError::InvalidConfig(format!(
                "the Adam step must be positive and finite, got {}",
                self.adam_step
            )));
        }
        if let Some(step) = self.sgd_nesterov_step
            && !positive(step)
        {
            return Err(AonError::InvalidConfig(format!(
                "the SGD-Nesterov step must be positive and finite, got {step}"
            )));
        }
        Ok(())
    }

    /// The settings of a fresh AON that updates exactly this way.
    pub fn aon_config(&self) -> AonConfig {
        AonConfig::new()
            .with_initial_step(self.adam_step)
            .with_initial_momentum_step(self.sgd_nesterov_step)
    }

    /// A fresh AON on `device` that updates exactly this way (after checking
    /// the settings). Its hidden weights do not change its updates; they are
    /// drawn inside the seeding lock only so that they cannot land between
    /// another thread's seed and its draws.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] for invalid settings.
    pub fn fresh_aon(&self, device: &Device) -> crate::error::Result<Aon> {
        self.check()?;
        let config = self.aon_config();
        metanas_seeding::seeded_module(device, 0, || config.init(device))
    }

    /// The learning-rate schedule (base rate 1: the steps above are the rates).
    pub fn schedule(&self) -> LearningRateSchedule {
        if self.warmup_steps == 0 {
            LearningRateSchedule::Cosine
        } else {
            LearningRateSchedule::WarmupCosine {
                warmup_steps: self.warmup_steps,
            }
        }
    }
}

impl fmt::Display for UpdateSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Adam {}", self.adam_step)?;
        if let Some(step) = self.sgd_nesterov_step {
            write!(f, " + SGD-Nesterov {step}")?;
        }
        if self.warmup_steps > 0 {
            write!(f, ", warm-up {}", self.warmup_steps)?;
        }
        Ok(())
    }
}

/// Every combination of a list of Adam steps, SGD-Nesterov steps (`None`:
/// that direction off) and warm-up lengths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsGrid {
    /// Step sizes of the Adam direction.
    pub adam_steps: Vec<f64>,
    /// Step sizes of the SGD-Nesterov direction (`None`: without it).
    pub sgd_nesterov_steps: Vec<Option<f64>>,
    /// Warm-up lengths in steps.
    pub warmup_steps: Vec<usize>,
}

impl Default for SettingsGrid {
    /// 5 Adam steps (3e-4 … 3e-2, the lowest leaving SGD-Nesterov nearly
    /// alone) × SGD-Nesterov off or at 0.01 … 0.3, no warm-up: 25 settings,
    /// around the rates tuned Adam (0.01) and SGD-Nesterov (0.1) take on the
    /// meta-training problems.
    fn default() -> Self {
        Self {
            adam_steps: vec![3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
            sgd_nesterov_steps: vec![None, Some(0.01), Some(0.03), Some(0.1), Some(0.3)],
            warmup_steps: vec![0],
        }
    }
}

impl SettingsGrid {
    /// The grid's settings, Adam step outermost, warm-up innermost.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] for an empty list or an invalid step size.
    pub fn settings(&self) -> crate::error::Result<Vec<UpdateSettings>> {
        if self.adam_steps.is_empty()
            || self.sgd_nesterov_steps.is_empty()
            || self.warmup_steps.is_empty()
        {
            return Err(AonError::InvalidConfig(
                "a settings grid needs at least one Adam step, SGD-Nesterov step and warm-up length"
                    .into(),
            ));
        }
        let mut all = Vec::with_capacity(
            self.adam_steps.len() * self.sgd_nesterov_steps.len() * self.warmup_steps.len(),
        );
        for &adam_step in &self.adam_steps {
            for &sgd_nesterov_step in &self.sgd_nesterov_steps {
                for &warmup_steps in &self.warmup_steps {
                    let settings = UpdateSettings {
                        adam_step,
                        sgd_nesterov_step,
                        warmup_steps,
                    };
                    settings.check()?;
                    all.push(settings);
                }
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_grid_has_25_distinct_valid_settings() {
        let all = SettingsGrid::default().settings().expect("valid");
        assert_eq!(all.len(), 25);
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| b != a), "{a} twice");
        }
    }

    #[test]
    fn settings_become_the_aon_and_schedule_they_name() {
        let settings = UpdateSettings {
            adam_step: 0.003,
            sgd_nesterov_step: Some(0.1),
            warmup_steps: 10,
        };
        let config = settings.aon_config();
        assert_eq!(config.initial_step, 0.003);
        assert_eq!(config.initial_momentum_step, Some(0.1));
        assert_eq!(
            settings.schedule(),
            LearningRateSchedule::WarmupCosine { warmup_steps: 10 }
        );
        assert_eq!(
            settings.to_string(),
            "Adam 0.003 + SGD-Nesterov 0.1, warm-up 10"
        );
        let plain = UpdateSettings {
            warmup_steps: 0,
            sgd_nesterov_step: None,
            ..settings
        };
        assert_eq!(plain.schedule(), LearningRateSchedule::Cosine);
        assert_eq!(plain.to_string(), "Adam 0.003");
    }

    #[test]
    fn bad_grids_are_refused_with_the_reason() {
        let empty = SettingsGrid {
            warmup_steps: vec![],
            ..SettingsGrid::default()
        };
        assert!(empty.settings().is_err());
        let negative = SettingsGrid {
            sgd_nesterov_steps: vec![Some(-0.1)],
            ..SettingsGrid::default()
        };
        let message = negative.settings().expect_err("negative").to_string();
        assert!(message.contains("SGD-Nesterov step"), "{message}");
        let zero = SettingsGrid {
            adam_steps: vec![0.0],
            ..SettingsGrid::default()
        };
        assert!(zero.settings().is_err());
    }
}
