//! One candidate trained with every setting of a grid: how much its final
//! loss depends on the update rule's settings, and which setting suits it best
//! (the per-candidate oracle an architecture-conditioned AON aims at).

use crate::candidate_training::{CandidateTraining, train_with_settings};
use crate::inner_problem::InnerProblem;
use crate::update_settings::UpdateSettings;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// One setting's run on one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SettingsOutcome {
    /// The settings trained with.
    pub settings: UpdateSettings,
    /// Validation loss after the last step (infinite when the run diverged).
    pub loss: f64,
    /// Validation accuracy after the last step (0 when the run diverged).
    pub accuracy: f64,
    /// Whether the loss stopped being finite.
    pub diverged: bool,
    /// Seconds the run took, validation included.
    pub seconds: f64,
}

/// Trains `problem`'s candidate once with each of `settings`, in order, from
/// the same initial weights and batches.
///
/// # Errors
/// As [`train_with_settings`] (a divergence is an outcome, not an error).
pub fn sweep_settings(
    problem: &InnerProblem,
    settings: &[UpdateSettings],
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<Vec<SettingsOutcome>> {
    settings
        .iter()
        .map(|s| {
            let outcome = train_with_settings(problem, s, training, device)?;
            let validation = outcome.final_validation();
            Ok(SettingsOutcome {
                settings: *s,
                loss: validation.map_or(f64::INFINITY, |e| e.loss),
                accuracy: validation.map_or(0.0, |e| e.accuracy),
                diverged: outcome.diverged_at.is_some(),
                seconds: outcome.report.as_ref().map_or(0.0, |r| r.seconds),
            })
        })
        .collect()
}

/// The outcome with the lowest finite loss (`None` when every run diverged).
pub fn best_outcome(outcomes: &[SettingsOutcome]) -> Option<&SettingsOutcome> {
    outcomes
        .iter()
        .filter(|o| o.loss.is_finite())
        .min_by(|a, b| a.loss.total_cmp(&b.loss))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(adam_step: f64, loss: f64) -> SettingsOutcome {
        SettingsOutcome {
            settings: UpdateSettings {
                adam_step,
                sgd_nesterov_step: None,
                warmup_steps: 0,
            },
            loss,
            accuracy: 0.5,
            diverged: !loss.is_finite(),
            seconds: 1.0,
        }
    }

    #[test]
    fn the_best_outcome_is_the_lowest_finite_loss() {
        let all = [
            outcome(0.1, f64::INFINITY),
            outcome(0.01, 0.4),
            outcome(0.001, 0.3),
            outcome(0.003, f64::NAN),
        ];
        assert_eq!(
            best_outcome(&all).map(|o| o.settings.adam_step),
            Some(0.001)
        );
        assert!(best_outcome(&[outcome(0.1, f64::INFINITY)]).is_none());
        assert!(best_outcome(&[]).is_none());
    }
}
