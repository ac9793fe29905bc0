//! # metanas-aon
//!
//! The AON (architecture optimization network): a learned optimizer that
//! trains a fresh candidate network in few steps, so that every real
//! evaluation during an architecture search is cheap.
//!
//! * [`Aon`] / [`AonConfig`]: a small MLP applied to every coordinate of every
//!   parameter (shared weights, so it trains networks of any size). It reads
//!   the gradient, momenta at three decays and Adam's second moment (all
//!   normalised by `√v̂`), the parameter's scale, and the run's feedback (loss
//!   relative to its start, recent trend, progress; [`FeedbackInputs`]). It
//!   outputs a correction of Adam's direction and a per-coordinate log step
//!   size, optionally adding an SGD-Nesterov direction with its own learned
//!   step; its output layer starts at zero, so a fresh AON is exactly Adam
//!   ([`AonConfig::new`]) or Adam plus SGD-Nesterov ([`AonConfig::blend`], the
//!   start `cargo xtask meta-train` uses; [`tune_blend`] chooses the two step
//!   sizes by grid on meta-training problems).
//! * [`AonOptimizer`] trains any module through metanas-net's
//!   [`metanas_net::train`] (it implements [`metanas_net::ModelOptimizer`]);
//!   [`AonUpdateRule`] is the same update as Burn's per-parameter
//!   [`burn::optim::Optimizer`], so any Burn user can wrap it in a
//!   `ModuleOptimizer` ([`Aon::module_optimizer`]), with feedback through a
//!   shared [`FeedbackHandle`].
//! * [`Aon::save`] / [`Aon::load`]: a folder with `aon.json` and `aon.bpk`.
//! * [`AonMetaTrainer`]: meta-training on [`InnerProblem`]s (small NAS-Bench-201
//!   cell networks on class-subset tasks), one [`AonMetaTrainer::meta_step`] at
//!   a time, by truncated first-order meta-gradients or antithetic evolution
//!   strategies ([`MetaGradientMethod`]), with clipped meta-gradients and
//!   checkpoints ([`AonMetaTrainer::save`] / [`AonMetaTrainer::load`]).
//! * [`tune_learning_rate`], [`train_with_aon`], [`train_with_optimizer`]: the
//!   honest comparison with Adam and SGD-Nesterov under the same schedule.
//! * [`UpdateSettings`] / [`SettingsGrid`]: the settings of a fresh AON's
//!   update for one candidate (its two directions' step sizes, warm-up);
//!   [`sweep_settings`] trains a candidate with each setting of a grid, the
//!   per-candidate oracle an architecture-conditioned choice aims at;
//!   [`extend_settings_table`] grows a resumable CSV table of such sweeps on
//!   the meta-training problems; [`SettingsChooser`] learns from such a table
//!   to choose the settings for a candidate from its features.
//!
//! The crate takes a Burn `Device` and never names a backend.
//!
//! ```no_run
//! use metanas_aon::{AonMetaTrainer, AonMetaTrainerConfig, AonConfig, InnerProblemConfig};
//! use rand::SeedableRng;
//! # fn run(device: &burn::tensor::Device) -> metanas_aon::Result<()> {
//! let config = AonMetaTrainerConfig::new(AonConfig::blend(0.01, 0.1), InnerProblemConfig::new());
//! let mut trainer = AonMetaTrainer::new(config, metanas_data::shipped::mnist10k()?, device)?;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! for _ in 0..100 {
//!     let report = trainer.meta_step(&mut rng)?;
//!     eprintln!("meta-step {}: validation loss {:.3}", report.step, report.meta_loss);
//! }
//! trainer.aon().save(std::path::Path::new("aon"))?;
//! # Ok(()) }
//! ```

mod aon;
mod aon_optimizer;
#[doc(hidden)]
pub mod aon_parameters;
mod aon_start;
mod blend_tuning;
mod candidate_training;
#[doc(hidden)]
pub mod coordinate_features;
mod error;
mod inner_problem;
mod inner_run;
mod meta_trainer;
mod run_feedback;
mod saved_aon;
mod settings_chooser;
mod settings_sweep;
mod settings_table;
mod update_rule;
mod update_settings;

pub use aon::{Aon, AonConfig, MAX_LOG_STEP_CORRECTION};
pub use aon_optimizer::AonOptimizer;
pub use aon_start::{AonStart, UnknownAonStart};
pub use blend_tuning::{BlendTuning, tune_blend};
pub use candidate_training::{
    Baseline, CandidateOutcome, CandidateTraining, LearningRateTuning, mean_final_loss_with_aon,
    train_with_aon, train_with_optimizer, train_with_settings, tune_learning_rate,
};
pub use coordinate_features::{AonState, StepInputs};
pub use error::{AonError, Result};
pub use inner_problem::{CellPool, InnerProblem, InnerProblemConfig, InnerProblemSampler};
pub use meta_trainer::{
    AonMetaTrainer, AonMetaTrainerConfig, META_OPTIMIZER_FILE, MetaGradientMethod, MetaStepReport,
    TRAINER_FILE,
};
pub use run_feedback::{FeedbackHandle, FeedbackInputs};
pub use saved_aon::{CONFIG_FILE, WEIGHTS_FILE, load_config};
pub use settings_chooser::{ChooserExample, SettingsChooser, SettingsChooserConfig};
pub use settings_sweep::{SettingsOutcome, best_outcome, best_single_setting, sweep_settings};
pub use settings_table::{
    SettingsTableConfig, SettingsTableRow, TablePair, TableProgress, append_settings_rows,
    extend_settings_table, pair_problem, read_settings_table, table_pairs,
};
pub use update_rule::AonUpdateRule;
pub use update_settings::{SettingsGrid, UpdateSettings};
