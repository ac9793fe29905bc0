//! The `--final-*` and `--reference` arguments of `cargo xtask search`.

use anyhow::bail;
use metanas_net::OptimizerConfig;
use metanas_search::{CheckpointRule, FinalLength, FinalTrainingConfig, FlipChoice, ReferenceCell};

/// Seconds of final training when neither --final-epochs nor --final-time is given.
pub const DEFAULT_FINAL_SECONDS: f64 = 600.0;

/// Final training of the winner (real-training tasks): its own size, length and recipe.
#[derive(Debug, Clone, clap::Args)]
pub struct FinalStageArgs {
    /// Channels of the final network's first stage.
    #[arg(long, default_value_t = 16)]
    pub final_channels: usize,
    /// Cells per stage of the final network.
    #[arg(long, default_value_t = 1)]
    pub final_cells: usize,
    /// Train the final network for this many epochs (0 skips final training)
    /// instead of a time budget.
    #[arg(long, conflicts_with = "final_time")]
    pub final_epochs: Option<usize>,
    /// Wall-clock budget of final training in seconds (the test report
    /// included; default 600): the schedule is fitted to it from the measured step time.
    #[arg(long)]
    pub final_time: Option<f64>,
    /// Optimizer of final training: sgd (Nesterov momentum 0.9) or adamw.
    #[arg(long, default_value = "sgd")]
    pub final_optimizer: String,
    /// Base learning rate (default 0.1 for sgd, 0.003 for adamw), reached after
    /// a one-epoch linear warm-up, then cosine decay.
    #[arg(long)]
    pub final_lr: Option<f64>,
    /// Weight decay (default 5e-4 for sgd, 0.05 for adamw).
    #[arg(long)]
    pub final_weight_decay: Option<f32>,
    /// Label smoothing of the final training loss (0 turns it off).
    #[arg(long, default_value_t = 0.1)]
    pub final_label_smoothing: f32,
    /// Random-crop padding in pixels (0 turns cropping off).
    #[arg(long, default_value_t = 2)]
    pub final_crop_padding: usize,
    /// Random horizontal flips: auto (on when mirrored training images keep
    /// their class for a nearest-class-mean classifier — clothes, objects, photos —
    /// off otherwise — digits, letters), on, or off.
    #[arg(long, default_value = "auto")]
    pub final_flip: String,
    /// Fraction of the training images held out, scored at every epoch end (0: none).
    #[arg(long, default_value_t = 0.1)]
    pub final_validation: f64,
    /// Which epoch is kept and tested: last (the end of the schedule), loss
    /// (the least validation loss) or accuracy (the highest validation accuracy).
    #[arg(long, default_value = "last")]
    pub final_keep: String,
    /// Images per batch of final training.
    #[arg(long, default_value_t = 64)]
    pub final_batch: usize,
    /// Also train these NAS-Bench-201 cells with the same recipe, budget and
    /// seed, to compare with the winner: `resnet`, `largest` (every edge a 3×3
    /// convolution), comma-separated, saved in `references/<name>`. The
    /// summary names the best of them on the validation split. Each
    /// multiplies the final stage's time.
    #[arg(long, value_delimiter = ',')]
    pub reference: Vec<String>,
}

impl FinalStageArgs {
    /// The final-training settings, or `None` when `--final-epochs 0` skips it.
    ///
    /// # Errors
    /// An unknown optimizer or flip choice, or settings out of range, named.
    pub fn config(&self, seed: u64) -> anyhow::Result<Option<FinalTrainingConfig>> {
        let length = match (self.final_epochs, self.final_time) {
            (Some(0), _) => return Ok(None),
            (Some(epochs), _) => FinalLength::Epochs(epochs),
            (None, Some(seconds)) => FinalLength::Seconds(seconds),
            (None, None) => FinalLength::Seconds(DEFAULT_FINAL_SECONDS),
        };
        let optimizer = match self.final_optimizer.as_str() {
            "sgd" => OptimizerConfig::Sgd {
                learning_rate: self.final_lr.unwrap_or(0.1),
                momentum: 0.9,
                nesterov: true,
                weight_decay: self.final_weight_decay.unwrap_or(5e-4),
            },
            "adamw" => OptimizerConfig::AdamW {
                learning_rate: self.final_lr.unwrap_or(3e-3),
                weight_decay: self.final_weight_decay.unwrap_or(0.05),
            },
            other => {
                bail!("--final-optimizer: `{other}` is not an optimizer; expected sgd or adamw")
            }
        };
        if let Some(decay) = self.final_weight_decay
            && !(decay.is_finite() && decay >= 0.0)
        {
            bail!("--final-weight-decay must be a non-negative number, got {decay}");
        }
        let flip: FlipChoice = self
            .final_flip
            .parse()
            .map_err(|e| anyhow::anyhow!("--final-flip: {e}"))?;
        let keep: CheckpointRule = self
            .final_keep
            .parse()
            .map_err(|e| anyhow::anyhow!("--final-keep: {e}"))?;
        let config = FinalTrainingConfig::new()
            .with_channels(self.final_channels)
            .with_cells_per_stage(self.final_cells)
            .with_length(length)
            .with_optimizer(optimizer)
            .with_label_smoothing(self.final_label_smoothing)
            .with_crop_padding(self.final_crop_padding)
            .with_flip(flip)
            .with_validation_fraction(self.final_validation)
            .with_keep(keep)
            .with_batch_size(self.final_batch)
            .with_seed(seed);
        config.check()?;
        Ok(Some(config))
    }

    /// The reference cells asked for, in order, without repeats.
    ///
    /// # Errors
    /// An unknown name, with the known ones.
    pub fn references(&self) -> anyhow::Result<Vec<ReferenceCell>> {
        ReferenceCell::parse_list(&self.reference.join(","))
            .map_err(|e| anyhow::anyhow!("--reference: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct FinalOnly {
        #[command(flatten)]
        args: FinalStageArgs,
    }

    fn parse(arguments: &[&str]) -> Result<FinalStageArgs, clap::Error> {
        FinalOnly::try_parse_from(std::iter::once("search").chain(arguments.iter().copied()))
            .map(|f| f.args)
    }

    fn config_error(arguments: &[&str]) -> String {
        let args = parse(arguments).expect("parses");
        match args.config(0) {
            Ok(_) => panic!("{arguments:?} accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_are_a_time_budget_with_the_sgd_recipe_and_no_references() {
        let args = parse(&[]).expect("parses");
        let config = args.config(3).expect("valid").expect("final training on");
        assert_eq!(config.length, FinalLength::Seconds(DEFAULT_FINAL_SECONDS));
        assert_eq!(config.seed, 3);
        assert_eq!(config.keep, CheckpointRule::Last);
        assert!(matches!(
            config.optimizer,
            OptimizerConfig::Sgd { nesterov: true, .. }
        ));
        assert!(args.references().expect("none").is_empty());
        let epochs = parse(&["--final-epochs", "5", "--final-optimizer", "adamw"]).expect("parses");
        let config = epochs.config(0).expect("valid").expect("on");
        assert_eq!(config.length, FinalLength::Epochs(5));
        let by_loss = parse(&["--final-keep", "loss"]).expect("parses");
        let config_by_loss = by_loss.config(0).expect("valid").expect("on");
        assert_eq!(config_by_loss.keep, CheckpointRule::ValidationLoss);
        assert!(matches!(config.optimizer, OptimizerConfig::AdamW { .. }));
        assert!(
            parse(&["--final-epochs", "0"])
                .expect("parses")
                .config(0)
                .expect("valid")
                .is_none()
        );
        let both = parse(&["--reference", "resnet,largest"]).expect("parses");
        assert_eq!(
            both.references().expect("known"),
            vec![ReferenceCell::Resnet, ReferenceCell::Largest]
        );
    }

    #[test]
    fn bad_flags_get_clear_errors() {
        let conflict = parse(&["--final-epochs", "3", "--final-time", "60"]).expect_err("conflict");
        assert!(conflict.to_string().contains("--final-time"), "{conflict}");
        assert!(config_error(&["--final-flip", "sideways"]).contains("--final-flip"));
        assert!(config_error(&["--final-optimizer", "lamb"]).contains("sgd or adamw"));
        assert!(config_error(&["--final-keep", "best"]).contains("loss, accuracy or last"));
        assert!(config_error(&["--final-time=-5"]).contains("final time"));
        assert!(config_error(&["--final-channels", "0"]).contains("channels"));
        assert!(config_error(&["--final-validation", "0.9"]).contains("validation"));
        assert!(config_error(&["--final-label-smoothing", "1"]).contains("smoothing"));
        assert!(config_error(&["--final-weight-decay=-1"]).contains("weight-decay"));
        let unknown = parse(&["--reference", "resnet,vgg"]).expect("parses");
        let err = unknown.references().expect_err("unknown").to_string();
        assert!(
            err.contains("`vgg`") && err.contains("resnet, largest"),
            "{err}"
        );
    }
}
