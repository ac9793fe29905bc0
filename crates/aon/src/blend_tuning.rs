//! Choosing where the AON starts: a blend of tuned Adam and tuned
//! SGD-Nesterov whose two step sizes are chosen by grid on the meta-training
//! problems, as the baselines' learning rates are.

use crate::aon::AonConfig;
use crate::candidate_training::{CandidateTraining, train_with_settings};
use crate::error::AonError;
use crate::inner_problem::InnerProblem;
use crate::update_settings::UpdateSettings;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// The result of [`tune_blend`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlendTuning {
    /// Step size of the AON's Adam direction with the lowest mean loss.
    pub adam_step: f64,
    /// Step size of its SGD-Nesterov direction with the lowest mean loss.
    pub sgd_nesterov_step: f64,
    /// `(Adam step, SGD-Nesterov step, mean final validation loss)` for every
    /// point of the grid (infinite when a run diverged).
    pub mean_losses: Vec<(f64, f64, f64)>,
}

impl BlendTuning {
    /// The untrained AON at the chosen point (the output layer starts at zero,
    /// so it is exactly that blend).
    pub fn config(&self) -> AonConfig {
        AonConfig::adam_plus_sgd_nesterov(self.adam_step, self.sgd_nesterov_step)
    }
}

/// Chooses the blend of Adam at `fraction_a · adam_rate` and SGD-Nesterov at
/// `fraction_s · sgd_nesterov_rate` over every pair of `fractions`, by the
/// mean final validation loss of the untrained AON over `problems` (the
/// meta-training tasks), each trained as `training` says. With fractions
/// `[0.5]` it is [`AonConfig::blend`]; a grid containing 0.5 never chooses a
/// start that scores worse on `problems`.
///
/// # Errors
/// [`AonError::InvalidConfig`] for an empty grid or problem list, a
/// non-positive fraction or rate; errors of training.
pub fn tune_blend(
    adam_rate: f64,
    sgd_nesterov_rate: f64,
    fractions: &[f64],
    problems: &[InnerProblem],
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<BlendTuning> {
    if fractions.is_empty() || problems.is_empty() {
        return Err(AonError::InvalidConfig(
            "blend tuning needs a non-empty grid and problem list".into(),
        ));
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if let Some(bad) = fractions
        .iter()
        .chain([&adam_rate, &sgd_nesterov_rate])
        .find(|x| !positive(**x))
    {
        return Err(AonError::InvalidConfig(format!(
            "blend rates and fractions must be positive, got {bad}"
        )));
    }
    let mut mean_losses = Vec::with_capacity(fractions.len() * fractions.len());
    for &a in fractions {
        for &s in fractions {
            let (adam_step, sgd_nesterov_step) = (a * adam_rate, s * sgd_nesterov_rate);
            let settings = UpdateSettings {
                adam_step,
                sgd_nesterov_step: Some(sgd_nesterov_step),
                warmup_steps: 0,
            };
            let mut total = 0.0;
            for problem in problems {
                total += train_with_settings(problem, &settings, training, device)?.final_loss();
            }
            mean_losses.push((adam_step, sgd_nesterov_step, total / problems.len() as f64));
        }
    }
    let (adam_step, sgd_nesterov_step, _) = mean_losses
        .iter()
        .filter(|(_, _, loss)| loss.is_finite())
        .min_by(|x, y| x.2.total_cmp(&y.2))
        .copied()
        .unwrap_or((
            fractions[0] * adam_rate,
            fractions[0] * sgd_nesterov_rate,
            f64::INFINITY,
        ));
    Ok(BlendTuning {
        adam_step,
        sgd_nesterov_step,
        mean_losses,
    })
}
