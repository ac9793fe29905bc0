//! # metanas-meta
//!
//! The meta-training loop of metanas: it learns, over many earlier tasks,
//! what makes a search on a new task fast.
//!
//! * [`SourceTasks`]: source tasks from benchmark tables (NAS-Bench-201
//!   accuracies, 12-epoch variants, latency devices, any user table) with
//!   explicit exclusions: `exclude = ["c100"]` drops every `c100_*` column,
//!   report columns included. The choice is recorded in the meta-model.
//! * [`MetaTrainer`]: (1) the AEN — shared GCN bodies fitted jointly on all
//!   source tasks, the task heads define the prior of a new task's head;
//!   (2) the AON — meta-steps on sampled (image task, cell) inner problems,
//!   the start and the checkpoints scored on validation problems and the best
//!   kept ([`AonSelection`]);
//!   (3) the image task — random cells trained briefly on it (with the AON),
//!   the prior of real-training searches on new image datasets.
//!   Stages (2) and (3) serve searches that train on images: a meta-model
//!   of latency or cost sources needs neither ([`image_stages_serve`]).
//!   The output folder holds `meta.json` ([`Manifest`]: what it holds, settings, sources,
//!   exclusions, learning curves, AON scores), `aen/`, `aon/` (the kept AON),
//!   the AON checkpoint and the best AON so far (`aon-best-<step>/`); an
//!   interrupted run resumes from the last checkpoint when started again with
//!   the same settings, and refuses a folder of other settings.
//! * [`MetaModel`]: a finished folder loaded for a search, with
//!   [`MetaModel::saw`] to warn when the target was seen in meta-training.
//! * [`candidate_features`]: what a choice of the AON's settings per candidate
//!   reads of it before training (the AEN's embedding of its cell, its size,
//!   the task's plain statistics); [`fit_settings_chooser`] fits that choice
//!   on a table of measured runs (stage 1b of [`MetaTrainer`], with
//!   [`MetaTrainer::with_aon_settings_table`]), and [`ConditionedSettings`]
//!   applies it to a search's candidates (the architecture-conditioned AON).
//!
//! Nothing here names a backend; errors are one [`MetaError`].

mod aon_selection;
mod aon_settings_choice;
mod candidate_features;
mod conditioned_settings;
mod error;
mod manifest;
mod meta_model;
mod meta_train_config;
mod meta_trainer;
mod source_tasks;

pub use aon_selection::AonSelection;
pub use aon_settings_choice::{
    CHOOSER_FOLDS, CHOOSER_L2_GRID, ChooserValidation, FittedSettingsChooser,
    SettingsChooserRecord, fit_settings_chooser, table_settings,
};
pub use candidate_features::{CandidateDescription, PLAIN_FEATURES, candidate_features};
pub use conditioned_settings::{ConditionedSettings, SearchedNetworks};
pub use error::{MetaError, Result};
pub use manifest::{
    AEN_DIR, AON_BEST_PREFIX, AON_CHECKPOINT_DIR, AON_DIR, AON_SETTINGS_CHOOSER_FILE, AenCurve,
    AonPoint, AonValidation, ImageObservation, MANIFEST_FILE, Manifest, MetaModelPart,
    aon_best_dir,
};
pub use meta_model::MetaModel;
pub use meta_train_config::MetaTrainConfig;
pub use meta_trainer::{MetaProgress, MetaTrainer};
pub use source_tasks::{SourceSelection, SourceTasks, image_stages_serve};
