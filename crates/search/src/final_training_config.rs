//! Settings of final training: the network's size, how long, and the recipe.

use crate::error::SearchError;
use crate::kept_checkpoint::CheckpointRule;
use crate::training_evaluator::NetworkSize;
use burn::config::Config;
use metanas_data::{Augmentation, ImageDataset, MirrorCheck};
use metanas_net::OptimizerConfig;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How long final training runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalLength {
    /// A number of passes over the training images.
    Epochs(usize),
    /// A wall-clock budget in seconds for the whole stage (building, training,
    /// validation, the test report): the number of steps is set from the
    /// measured step time, so that the cosine schedule ends on time.
    Seconds(f64),
}

/// Whether training images are mirrored left-right at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FlipChoice {
    /// Decided by the data: on when mirrored images keep their class
    /// ([`MirrorCheck::flip_is_safe`]: clothes, objects, photos), off when they
    /// do not (digits, letters).
    #[default]
    Auto,
    /// Always mirror half the images.
    On,
    /// Never mirror.
    Off,
}

impl FromStr for FlipChoice {
    type Err = SearchError;

    fn from_str(s: &str) -> crate::error::Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "on" => Ok(Self::On),
            "off" => Ok(Self::Off),
            other => Err(SearchError::InvalidConfig(format!(
                "flip `{other}`: expected auto, on or off"
            ))),
        }
    }
}

impl fmt::Display for FlipChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::On => "on",
            Self::Off => "off",
        })
    }
}

/// Settings of [`crate::train_final`]. The defaults are the recipe measured on
/// 2 CPU cores (see docs/BENCHMARKS.md): SGD with Nesterov momentum and weight
/// decay, a linear warm-up then cosine decay, label smoothing, random crops,
/// flips where the data allows, and a validation split scored at every epoch end.
#[derive(Config, Debug)]
pub struct FinalTrainingConfig {
    /// Channels of the network's first stage (`C`).
    #[config(default = 16)]
    pub channels: usize,
    /// Cells per stage (`N`).
    #[config(default = 1)]
    pub cells_per_stage: usize,
    /// How long to train.
    #[config(default = "FinalLength::Seconds(600.0)")]
    pub length: FinalLength,
    /// The optimizer, its base learning rate and weight decay.
    #[config(
        default = "OptimizerConfig::Sgd { learning_rate: 0.1, momentum: 0.9, nesterov: true, weight_decay: 5e-4 }"
    )]
    pub optimizer: OptimizerConfig,
    /// Epochs of linear learning-rate warm-up (at most a fifth of the run).
    #[config(default = 1.0)]
    pub warmup_epochs: f64,
    /// Label smoothing of the training loss (0: plain cross-entropy).
    #[config(default = 0.1)]
    pub label_smoothing: f32,
    /// Zero padding of the random crop (0: no crop).
    #[config(default = 2)]
    pub crop_padding: usize,
    /// Horizontal flips.
    #[config(default = "FlipChoice::Auto")]
    pub flip: FlipChoice,
    /// Fraction of the training images held out (stratified) and scored at
    /// every epoch end, which [`CheckpointRule`]s other than the last choose
    /// by; 0 trains on all images and keeps the last epoch.
    #[config(default = 0.1)]
    pub validation_fraction: f64,
    /// Which validated epoch is kept and tested (the last, by default).
    #[config(default = "CheckpointRule::Last")]
    pub keep: CheckpointRule,
    /// Images per batch.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Seed of the network's weights, the split, the batch order and the augmentation.
    #[config(default = 0)]
    pub seed: u64,
}

impl FinalTrainingConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        let bad = |message: String| Err(SearchError::InvalidConfig(message));
        if self.channels == 0 {
            return bad("final channels must be at least 1".into());
        }
        if self.cells_per_stage == 0 {
            return bad("final cells per stage must be at least 1".into());
        }
        match self.length {
            FinalLength::Epochs(0) => return bad("final epochs must be at least 1".into()),
            FinalLength::Seconds(s) if !(s.is_finite() && s > 0.0) => {
                return bad(format!(
                    "final time must be a positive number of seconds, got {s}"
                ));
            }
            _ => {}
        }
        let lr = self.optimizer.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return bad(format!("final learning rate must be positive, got {lr}"));
        }
        if !(self.warmup_epochs.is_finite() && self.warmup_epochs >= 0.0) {
            return bad(format!(
                "warm-up epochs must be a non-negative number, got {}",
                self.warmup_epochs
            ));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad(format!(
                "label smoothing must lie in [0, 1), got {}",
                self.label_smoothing
            ));
        }
        if !(0.0..0.5).contains(&self.validation_fraction) {
            return bad(format!(
                "the validation fraction must lie in [0, 0.5), got {}",
                self.validation_fraction
            ));
        }
        if self.batch_size == 0 {
            return bad("the batch size must be at least 1".into());
        }
        Ok(())
    }

    /// The network size.
    pub fn size(&self) -> NetworkSize {
        NetworkSize {
            channels: self.channels,
            cells_per_stage: self.cells_per_stage,
        }
    }

    /// The augmentation for `train`, with the flip decided and the mirror
    /// check that decided it (when [`FlipChoice::Auto`]).
    pub fn augmentation(&self, train: &ImageDataset) -> (Augmentation, Option<MirrorCheck>) {
        let (flip_horizontal, check) = match self.flip {
            FlipChoice::On => (true, None),
            FlipChoice::Off => (false, None),
            FlipChoice::Auto => {
                let check = MirrorCheck::of(train);
                (check.flip_is_safe(), Some(check))
            }
        };
        let augmentation = Augmentation {
            crop_padding: self.crop_padding,
            flip_horizontal,
        };
        (augmentation, check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_bad_settings_are_named() {
        FinalTrainingConfig::new()
            .check()
            .expect("defaults are valid");
        let message = |config: FinalTrainingConfig| match config.check() {
            Err(SearchError::InvalidConfig(m)) => m,
            other => panic!("expected InvalidConfig, got {other:?}"),
        };
        assert!(message(FinalTrainingConfig::new().with_channels(0)).contains("channels"));
        assert!(message(FinalTrainingConfig::new().with_cells_per_stage(0)).contains("cells"));
        assert!(
            message(FinalTrainingConfig::new().with_length(FinalLength::Epochs(0)))
                .contains("epochs")
        );
        assert!(
            message(FinalTrainingConfig::new().with_length(FinalLength::Seconds(-3.0)))
                .contains("final time")
        );
        assert!(
            message(FinalTrainingConfig::new().with_label_smoothing(1.5)).contains("smoothing")
        );
        assert!(
            message(FinalTrainingConfig::new().with_validation_fraction(0.7))
                .contains("validation")
        );
        assert!(
            message(FinalTrainingConfig::new().with_optimizer(OptimizerConfig::adam(0.0)))
                .contains("learning rate")
        );
    }

    #[test]
    fn flip_choices_parse_and_bad_ones_are_refused() {
        assert_eq!("auto".parse::<FlipChoice>().ok(), Some(FlipChoice::Auto));
        assert_eq!("on".parse::<FlipChoice>().ok(), Some(FlipChoice::On));
        assert_eq!("off".parse::<FlipChoice>().ok(), Some(FlipChoice::Off));
        let err = "sideways".parse::<FlipChoice>().expect_err("not a choice");
        assert!(err.to_string().contains("auto, on or off"), "{err}");
    }

    #[test]
    fn auto_flip_is_off_for_digits_and_on_for_clothes() {
        let config = FinalTrainingConfig::new();
        let digits = metanas_data::shipped::mnist10k().expect("shipped MNIST");
        let clothes = metanas_data::shipped::fashion_mnist_train10k().expect("shipped");
        let (digit_aug, digit_check) = config.augmentation(&digits);
        let (cloth_aug, _) = config.augmentation(&clothes);
        assert!(!digit_aug.flip_horizontal, "{digit_check:?}");
        assert!(cloth_aug.flip_horizontal);
        assert_eq!(digit_aug.crop_padding, 2);
        let forced = config.with_flip(FlipChoice::On).augmentation(&digits);
        assert!(forced.0.flip_horizontal && forced.1.is_none());
    }
}
