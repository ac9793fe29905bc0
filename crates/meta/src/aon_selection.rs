//! Choosing the AON a meta-model keeps.

use burn::config::Config;

/// The AON meta-trainer's start and its checkpoints are scored on
/// `problems` validation problems (mean validation loss after the whole
/// horizon), and the best is kept: evolution strategies are noisy, and the
/// last meta-step is not always the best. The problems are fresh draws from
/// the meta-training distribution (MNIST tasks, meta-training cells) with the
/// run's seed, not held-out data: they choose among checkpoints, they do not
/// measure transfer (`cargo xtask bench-aon` does).
#[derive(Config, Debug, PartialEq)]
pub struct AonSelection {
    /// Validation problems (at least 1).
    #[config(default = 3)]
    pub problems: usize,
    /// Score the checkpoints whose meta-step is a multiple of this (at least
    /// 1), besides the start and the last meta-step.
    #[config(default = 10)]
    pub every: usize,
}
