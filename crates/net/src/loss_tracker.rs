//! The loss bookkeeping of a training run: the first loss, a smoothed loss and
//! the divergence check, turned into each step's [`TrainingFeedback`].

use crate::error::{NetError, Result};
use crate::model_optimizer::TrainingFeedback;

/// Factor of the exponential moving average kept by [`LossTracker`].
const SMOOTHING: f64 = 0.9;

/// The first training loss of a run and an exponential moving average of the
/// rest (factor 0.9), as a learned optimizer reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossTracker {
    initial: f64,
    smoothed: f64,
}

impl Default for LossTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl LossTracker {
    /// A tracker that has seen no loss yet.
    pub fn new() -> Self {
        Self {
            initial: f64::NAN,
            smoothed: f64::NAN,
        }
    }

    /// Records the loss of step `step` (zero-based) of a run of `total_steps`
    /// and returns the step's feedback. Step 0 (or the first loss recorded)
    /// starts the averages afresh.
    ///
    /// # Errors
    /// [`NetError::Diverged`] when `loss` is NaN or infinite; nothing is
    /// recorded then.
    pub fn record(
        &mut self,
        step: usize,
        total_steps: usize,
        loss: f64,
    ) -> Result<TrainingFeedback> {
        if !loss.is_finite() {
            return Err(NetError::Diverged { step, loss });
        }
        if step == 0 || self.smoothed.is_nan() {
            self.initial = loss;
            self.smoothed = loss;
        }
        self.smoothed = SMOOTHING * self.smoothed + (1.0 - SMOOTHING) * loss;
        Ok(TrainingFeedback {
            step,
            total_steps,
            loss,
            initial_loss: self.initial,
            smoothed_loss: self.smoothed,
        })
    }

    /// The smoothed loss so far (NaN before the first step).
    pub fn smoothed(&self) -> f64 {
        self.smoothed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_keeps_the_first_loss_and_a_moving_average() {
        let mut losses = LossTracker::new();
        assert!(losses.smoothed().is_nan());
        let first = losses.record(0, 10, 2.0).expect("finite");
        assert_eq!(first.initial_loss, 2.0);
        assert_eq!(first.smoothed_loss, 2.0);
        let second = losses.record(1, 10, 1.0).expect("finite");
        assert_eq!(second.initial_loss, 2.0);
        assert!((second.smoothed_loss - 1.9).abs() < 1e-12);
        assert_eq!((second.step, second.total_steps, second.loss), (1, 10, 1.0));
        assert_eq!(losses.smoothed(), second.smoothed_loss);
    }

    #[test]
    fn a_non_finite_loss_is_divergence_and_is_not_recorded() {
        let mut losses = LossTracker::new();
        losses.record(0, 5, 1.5).expect("finite");
        let before = losses;
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            match losses.record(3, 5, bad) {
                Err(NetError::Diverged { step: 3, .. }) => {}
                other => panic!("expected divergence at step 3, got {other:?}"),
            }
            assert_eq!(losses, before);
        }
    }
}
