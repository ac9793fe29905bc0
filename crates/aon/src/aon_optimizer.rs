//! The AON as an optimizer of metanas-net's training loop.

use crate::aon::Aon;
use crate::run_feedback::FeedbackHandle;
use crate::update_rule::AonUpdateRule;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use metanas_net::{ModelOptimizer, TrainingFeedback};

/// A running AON: its weights, the per-parameter state of the module it
/// trains, and the feedback slot. Pass it to [`metanas_net::train`] with a base
/// learning rate of 1 (the schedule then only shapes the AON's learned step).
///
/// ```no_run
/// # fn run(device: &burn::tensor::Device) -> metanas_aon::Result<()> {
/// use metanas_aon::{AonConfig, AonOptimizer};
/// let aon = AonConfig::new().init(device)?;
/// let mut optimizer = AonOptimizer::new(&aon);
/// // metanas_net::train(model, &mut optimizer, data, &config_with_base_rate_1, device)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AonOptimizer {
    inner: ModuleOptimizer,
    feedback: FeedbackHandle,
}

impl AonOptimizer {
    /// A fresh run of `aon` (no state yet).
    pub fn new(aon: &Aon) -> Self {
        let feedback = FeedbackHandle::new();
        Self {
            inner: ModuleOptimizer::from(AonUpdateRule::new(aon, feedback.clone())),
            feedback,
        }
    }

    /// The handle the training loop's feedback goes through.
    pub fn feedback_handle(&self) -> &FeedbackHandle {
        &self.feedback
    }

    /// The underlying Burn optimizer (its state can be saved with
    /// `ModuleOptimizer::save`).
    pub fn module_optimizer(&self) -> &ModuleOptimizer {
        &self.inner
    }

    /// One update of `model` without feedback bookkeeping (the last feedback set stays).
    pub fn step_module<M: Module>(
        &mut self,
        learning_rate: f64,
        model: M,
        grads: GradientsParams,
    ) -> M {
        self.inner.step(learning_rate, model, grads)
    }
}

impl ModelOptimizer for AonOptimizer {
    fn step<M: Module>(
        &mut self,
        learning_rate: f64,
        model: M,
        grads: GradientsParams,
        feedback: &TrainingFeedback,
    ) -> M {
        self.feedback.set(*feedback);
        self.inner.step(learning_rate, model, grads)
    }
}

impl Aon {
    /// This AON as a plain Burn optimizer, with the handle to give it feedback
    /// (optional: without it the AON reads zeros).
    pub fn module_optimizer(&self) -> (ModuleOptimizer, FeedbackHandle) {
        let feedback = FeedbackHandle::new();
        (
            ModuleOptimizer::from(AonUpdateRule::new(self, feedback.clone())),
            feedback,
        )
    }
}
