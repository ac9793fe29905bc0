//! The optimizer interface of the training loop.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};

/// What a training run tells its optimizer at each step, besides the gradients:
/// the performance feedback a learned optimizer (the AON) reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingFeedback {
    /// Zero-based step.
    pub step: usize,
    /// Steps in the run.
    pub total_steps: usize,
    /// Training loss of this step's batch.
    pub loss: f64,
    /// Training loss of the first batch.
    pub initial_loss: f64,
    /// Exponential moving average of the loss (factor 0.9).
    pub smoothed_loss: f64,
}

impl TrainingFeedback {
    /// Fraction of the run done, in `[0, 1)`.
    pub fn progress(&self) -> f64 {
        self.step as f64 / self.total_steps.max(1) as f64
    }
}

/// Anything that can update a module from its gradients: Burn's optimizers
/// (through [`ModuleOptimizer`]) and learned ones.
pub trait ModelOptimizer {
    /// One update of `model` with learning rate `learning_rate`.
    fn step<M: Module>(
        &mut self,
        learning_rate: f64,
        model: M,
        grads: GradientsParams,
        feedback: &TrainingFeedback,
    ) -> M;
}

impl ModelOptimizer for ModuleOptimizer {
    fn step<M: Module>(
        &mut self,
        learning_rate: f64,
        model: M,
        grads: GradientsParams,
        _: &TrainingFeedback,
    ) -> M {
        ModuleOptimizer::step(self, learning_rate, model, grads)
    }
}
