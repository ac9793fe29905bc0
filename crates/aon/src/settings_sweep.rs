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

/// The one setting with the lowest mean loss over several pairs, and that
/// mean: `losses[p][k]` is the loss of `settings[k]` on pair `p` (infinite
/// for a diverged run, or missing, so a setting that diverged on any pair is
/// never chosen). `None` when no setting is finite on every pair.
pub fn best_single_setting(
    settings: &[UpdateSettings],
    losses: &[Vec<f64>],
) -> Option<(UpdateSettings, f64)> {
    if losses.is_empty() {
        return None;
    }
    settings
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let total: f64 = losses
                .iter()
                .map(|pair| pair.get(k).copied().unwrap_or(f64::INFINITY))
                .sum();
            (*s, total / losses.len() as f64)
        })
        .filter(|(_, mean)| mean.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
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

    #[test]
    fn the_best_single_setting_has_the_lowest_mean_and_never_diverged() {
        let settings: Vec<UpdateSettings> = [0.1, 0.01, 0.001]
            .iter()
            .map(|&a| outcome(a, 0.0).settings)
            .collect();
        let losses = vec![vec![0.1, 0.3, 0.5], vec![f64::INFINITY, 0.3, 0.2]];
        let (best, mean) = best_single_setting(&settings, &losses).expect("a finite setting");
        assert_eq!(
            best.adam_step, 0.01,
            "0.1 diverged once, 0.001 has mean 0.35"
        );
        assert!((mean - 0.3).abs() < 1e-12);
        assert!(best_single_setting(&settings, &[]).is_none());
        assert!(best_single_setting(&settings, &[vec![f64::INFINITY; 3]]).is_none());
    }
}
