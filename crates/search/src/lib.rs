//! # metanas-search
//!
//! The search driver: give it a task, get back the best architecture found,
//! trained and saved.
//!
//! * [`Strategy`] (propose / observe / best): [`RandomSearch`],
//!   [`RegularizedEvolution`], [`LocalSearch`], [`BayesianOptimization`] with
//!   a [`Surrogate`] ([`AenSurrogate`]: the AEN ensemble fitted from scratch;
//!   [`MetaAenSurrogate`]: a meta-learned AEN adapted in closed form, optionally
//!   reading the source tasks' known metrics as normal scores,
//!   [`SourceValues`], then a Bayesian model average of single-source models,
//!   see `metanas_aen::SideModel`)
//!   and an [`Acquisition`] (EI, UCB, Thompson sampling), and [`FixedOrder`]
//!   (a ranking computed elsewhere, e.g. the transfer baseline);
//!   [`StartingCells`] queries known cells first and then hands over to
//!   another strategy. A strategy never trains a candidate; fitting a
//!   surrogate on measured scores is part of choosing.
//! * [`strategy_by_name`], [`meta_strategy`]: the strategies the command line
//!   offers, by name, with their settings.
//! * [`Evaluator`]: [`TableEvaluator`] (benchmark lookup: the strategy sees the
//!   validation column only, the test column is stored beside it) and
//!   [`TrainingEvaluator`] (real training on an image task; its candidates
//!   trained by the config's optimizer, a learned optimizer, or a fresh AON
//!   whose settings a [`CandidateSettings`] picks for each candidate: the
//!   architecture-conditioned AON). An evaluator never chooses which
//!   architectures are measured.
//! * [`Constraints`]: upper bounds (parameters, FLOPs, latency on a device)
//!   that every proposal must respect: hardware-aware search.
//! * A new device ([`DeviceLatencyModel`]): a latency meta-model adapted to a
//!   few measured cells ([`plan_measurements`] chooses them) predicts every
//!   cell's latency; [`PredictedLatencies::constraint`] keeps the cells
//!   within a limit with a given probability.
//! * [`Searcher`]: the loop, the query and time budget, de-duplication by
//!   canonical hash (an isomorphic cell costs no query), seeds, the SQLite
//!   [`TrialStore`], and exact resume after a crash.
//! * [`FinalChoice`]: which finished candidate goes to the final stage — the
//!   best, the cheapest (fewest FLOPs) within one standard error of it, or a
//!   starting cell unless a candidate beats it by more than one standard error
//!   (and, after a [`Rematch`] with fresh seeds, still does).
//! * [`train_final`]: the winner at its final size, trained with the full recipe
//!   ([`FinalTrainingConfig`]: epochs or a time budget, warm-up + cosine, label
//!   smoothing, crops and safe flips, the epoch kept by a validation split: [`CheckpointRule`]), tested
//!   once; [`ReferenceCell`]s are trained the same way to compare with.
//! * [`trajectory`]: best-so-far curves, regret and queries-to-target for comparisons.

mod acquisition;
mod aen_surrogate;
mod bayesian_optimization;
mod candidate_settings;
mod constraints;
mod device_latency;
mod error;
mod evaluator;
mod final_choice;
mod final_time_budget;
mod final_training;
mod final_training_config;
mod fixed_order;
mod kept_checkpoint;
mod local_search;
mod measurement;
mod meta_aen_surrogate;
mod pace_reference;
mod pending_belief;
mod random_search;
mod reference_cells;
mod regularized_evolution;
mod rematch;
mod searcher;
mod source_values;
mod speed_weighted_score;
mod starting_cells;
mod strategy;
mod strategy_by_name;
mod surrogate;
mod table_evaluator;
mod time_matched_steps;
mod training_evaluator;
pub mod trajectory;
mod trial_storage;
mod trial_store;

pub use acquisition::{Acquisition, expected_improvement};
pub use aen_surrogate::AenSurrogate;
pub use bayesian_optimization::{BayesianOptimization, BayesianOptimizationConfig};
pub use candidate_settings::CandidateSettings;
pub use constraints::{Constraint, Constraints};
pub use device_latency::{
    CellSourceValues, DEFAULT_FEASIBILITY, DeviceLatencyModel, PredictedLatencies, distinct_cells,
    latency_source_values, plan_measurements, probability_within, write_plan_csv,
    write_predictions_csv,
};
pub use error::{Result, SearchError};
pub use evaluator::Evaluator;
pub use final_choice::{FLOPS, FinalChoice, VALIDATION_EXAMPLES, accuracy_standard_error};
pub use final_training::{
    FinalData, FinalModel, FinalProgress, FinalResult, ValidatedCheckpoint, train_final,
    train_final_observed,
};
pub use final_training_config::{FinalLength, FinalTrainingConfig, FlipChoice};
pub use fixed_order::FixedOrder;
pub use kept_checkpoint::{CheckpointRule, KeptCheckpoint};
pub use local_search::LocalSearch;
pub use measurement::{Measurement, Trial, TrialOutcome};
pub use meta_aen_surrogate::MetaAenSurrogate;
pub use pace_reference::PACE_PROBE_STEPS;
pub use pending_belief::PendingBelief;
pub use random_search::RandomSearch;
pub use reference_cells::{REFERENCE_NAMES, ReferenceCell};
pub use regularized_evolution::RegularizedEvolution;
pub use rematch::{REMATCH_SEED_OFFSET, Rematch};
pub use searcher::{SearchConfig, SearchOutcome, SearchProgress, Searcher, StopReason};
pub use source_values::SourceValues;
pub use speed_weighted_score::{MNASNET_SPEED_WEIGHT, SpeedWeights, speed_weighted_score};
pub use starting_cells::StartingCells;
pub use strategy::{BestSoFar, ProposalContext, Strategy, sample_candidate};
pub use strategy_by_name::{
    STRATEGY_NAMES, UCB_BETA, acquisition_by_name, meta_strategy, shipped_source_values,
    strategy_by_name,
};
pub use surrogate::{CandidatePool, Surrogate};
pub use table_evaluator::TableEvaluator;
pub use time_matched_steps::time_matched_steps;
pub use training_evaluator::{
    CANDIDATE_VALIDATION_FRACTION, NetworkSize, REFERENCE_STEP_SECONDS, STEP_SECONDS,
    TrainingEvaluator, VALIDATION_ACCURACY, candidate_training,
};
pub use trial_storage::TrialStorage;
pub use trial_store::TrialStore;
