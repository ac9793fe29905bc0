//! Settings of a training run.

use crate::error::NetError;
use crate::learning_rate_schedule::LearningRateSchedule;
use crate::optimizer_config::OptimizerConfig;
use burn::config::Config;
use serde::{Deserialize, Serialize};

/// How long to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingLength {
    /// A number of optimisation steps (batches).
    Steps(usize),
    /// A number of passes over the training set.
    Epochs(usize),
}

/// Settings of [`crate::train`].
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// The optimizer's base learning rate and kind. Learned optimizers are passed
    /// to [`crate::train`] directly; this then only gives the base rate.
    pub optimizer: OptimizerConfig,
    /// How long to train.
    pub length: TrainingLength,
    /// Images per batch.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Learning-rate schedule over the run.
    #[config(default = "LearningRateSchedule::Cosine")]
    pub schedule: LearningRateSchedule,
    /// Seed of the batch order.
    #[config(default = 0)]
    pub seed: u64,
    /// Evaluate on the validation set every this many steps (0: only at the end).
    #[config(default = 0)]
    pub eval_every: usize,
    /// Show a progress bar on the terminal.
    #[config(default = false)]
    pub progress: bool,
}

impl TrainingConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`NetError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        let lr = self.optimizer.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(NetError::InvalidConfig(format!(
                "learning rate must be positive, got {lr}"
            )));
        }
        if self.batch_size == 0 {
            return Err(NetError::InvalidConfig(
                "batch size must be at least 1".into(),
            ));
        }
        if matches!(
            self.length,
            TrainingLength::Steps(0) | TrainingLength::Epochs(0)
        ) {
            return Err(NetError::InvalidConfig(
                "training length must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Number of steps for a training set of `examples` images.
    pub fn total_steps(&self, examples: usize) -> usize {
        match self.length {
            TrainingLength::Steps(s) => s,
            TrainingLength::Epochs(e) => e * examples.div_ceil(self.batch_size.max(1)),
        }
    }
}
