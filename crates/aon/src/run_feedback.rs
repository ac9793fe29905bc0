//! The run's performance feedback, as the AON reads it, and the shared handle
//! through which a training loop hands it to the optimizer.

use metanas_net::TrainingFeedback;
use std::sync::{Arc, Mutex};

/// The three run-level inputs of the AON, computed from a [`TrainingFeedback`]:
///
/// * `ln(loss / initial_loss)`, clamped to `[-4, 2]`: how far training got;
/// * `4 · ln(loss / smoothed_loss)`, clamped to `[-2, 2]`: the recent trend
///   (positive: this batch is worse than the running average);
/// * progress `step / total_steps` in `[0, 1)`.
///
/// Zero when no feedback is known (a plain Burn loop that never sets it) or
/// when the AON does not read feedback.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FeedbackInputs([f32; 3]);

impl FeedbackInputs {
    /// No feedback: all zeros.
    pub const NONE: Self = Self([0.0; 3]);

    /// The inputs of one step's feedback. Non-finite or non-positive losses
    /// give zeros for the loss inputs (never NaN).
    pub fn from_feedback(feedback: &TrainingFeedback) -> Self {
        let ratio = |a: f64, b: f64| {
            if a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0 {
                (a / b).ln()
            } else {
                0.0
            }
        };
        let relative = ratio(feedback.loss, feedback.initial_loss).clamp(-4.0, 2.0);
        let trend = (4.0 * ratio(feedback.loss, feedback.smoothed_loss)).clamp(-2.0, 2.0);
        let progress = feedback.progress().clamp(0.0, 1.0);
        Self([relative as f32, trend as f32, progress as f32])
    }

    /// The three values, in the order documented on the type.
    pub fn values(&self) -> [f32; 3] {
        self.0
    }
}

/// A shared slot for the current step's feedback: the training loop writes it
/// before each step, the AON's update rule reads it (Burn's per-parameter
/// optimizer interface has no other way in). Clones share the slot.
#[derive(Debug, Clone, Default)]
pub struct FeedbackHandle(Arc<Mutex<Option<TrainingFeedback>>>);

impl FeedbackHandle {
    /// An empty handle (no feedback yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the feedback of the coming step.
    pub fn set(&self, feedback: TrainingFeedback) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(feedback);
    }

    /// Forgets the feedback (the AON then reads zeros).
    pub fn clear(&self) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// The feedback set last, if any.
    pub fn get(&self) -> Option<TrainingFeedback> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The AON's inputs for the feedback set last (zeros when none).
    pub fn inputs(&self) -> FeedbackInputs {
        self.get()
            .map(|f| FeedbackInputs::from_feedback(&f))
            .unwrap_or_default()
    }
}
