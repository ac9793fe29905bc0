//! Evaluation by real training: build the cell's network, train it briefly, score it on validation.

use crate::candidate_settings::CandidateSettings;
use crate::error::Result;
use crate::evaluator::Evaluator;
use crate::final_choice::{FLOPS, VALIDATION_EXAMPLES};
use crate::measurement::Measurement;
use crate::pace_reference::{PACE_PROBE_STEPS, PaceReference, SpeedUse, median};
use crate::speed_weighted_score::{SpeedWeights, speed_weighted_score};
use crate::time_matched_steps::time_matched_steps;
use burn::tensor::Device;
use metanas_aon::{Aon, AonOptimizer};
use metanas_data::{ImageTask, Normalisation, Objective};
use metanas_net::{
    CellNetworkConfig, LearningRateSchedule, OptimizerConfig, ToCellPlan, TrainingConfig,
    TrainingData, TrainingLength, train,
};
use metanas_space::SearchSpace;
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// Size of the network built around each candidate cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSize {
    /// Channels of the first stage (`C`).
    pub channels: usize,
    /// Cells per stage (`N`).
    pub cells_per_stage: usize,
}

/// Detail key of a trial's validation accuracy in % (real training): its
/// objective, unless the score weighs it by speed
/// ([`TrainingEvaluator::with_speed_weighted_score`]).
pub const VALIDATION_ACCURACY: &str = "validation_accuracy";

/// Detail key of a candidate's measured step time in seconds, recorded when
/// its speed is measured (time-matched steps or a speed-weighted score).
pub const STEP_SECONDS: &str = "step_seconds";

/// Detail key of the ResNet cell's step time in seconds, measured beside the
/// candidate's ([`STEP_SECONDS`]) at the same size.
pub const REFERENCE_STEP_SECONDS: &str = "reference_step_seconds";

/// The fraction of a task's training images that the search holds out to
/// score its candidates (`cargo xtask search`, the cells meta-training
/// measures).
pub const CANDIDATE_VALIDATION_FRACTION: f64 = 0.2;

/// How the search trains each candidate unless told otherwise: Adam at a
/// constant 3e-3, batches of 64, `steps` steps (`cargo xtask search
/// --steps`, and the cells meta-training measures).
pub fn candidate_training(steps: usize) -> TrainingConfig {
    TrainingConfig::new(OptimizerConfig::adam(3e-3), TrainingLength::Steps(steps))
        .with_batch_size(64)
}

/// What trains the candidates.
enum CandidateOptimizer<A> {
    /// The training config's optimizer.
    Configured,
    /// A learned optimizer, and the label naming it in the search key.
    Aon(Box<Aon>, String),
    /// A fresh AON whose settings are chosen for each candidate.
    Conditioned(Box<dyn CandidateSettings<A>>),
}

/// Trains each candidate on a task's training images for a fixed budget and
/// measures validation accuracy. The test images of the user's data are never
/// seen here: they belong to final training's report.
pub struct TrainingEvaluator<S: SearchSpace> {
    task: ImageTask,
    normalisation: Normalisation,
    size: NetworkSize,
    training: TrainingConfig,
    optimizer: CandidateOptimizer<S::Arch>,
    pace_reference: Option<PaceReference<S::Arch>>,
    device: Device,
    space: PhantomData<S>,
}

impl<S: SearchSpace> TrainingEvaluator<S>
where
    S::Arch: ToCellPlan,
{
    /// An evaluator on `task`, building networks of `size`, training with
    /// `training` (its optimizer, length and batch size) on `device` (an
    /// autodiff device). Inputs are normalised with the task's training statistics.
    pub fn new(
        task: ImageTask,
        size: NetworkSize,
        training: TrainingConfig,
        device: Device,
    ) -> Self {
        let normalisation = task.train.normalisation();
        Self {
            task,
            normalisation,
            size,
            training,
            optimizer: CandidateOptimizer::Configured,
            pace_reference: None,
            device,
            space: PhantomData,
        }
    }

    /// Trains the candidates with a learned optimizer instead of the
    /// training config's: base learning rate 1 under a cosine schedule (the
    /// AON's own step size does the rest), same steps, batches and seeds.
    /// `label` names this AON in the search key (e.g. its folder), so a trial
    /// store cannot be resumed with another one.
    pub fn with_aon(mut self, aon: Aon, label: impl Into<String>) -> Self {
        self.training.optimizer = OptimizerConfig::adam(1.0);
        self.training.schedule = LearningRateSchedule::Cosine;
        self.optimizer = CandidateOptimizer::Aon(Box::new(aon), label.into());
        self
    }

    /// Trains each candidate with a fresh AON whose settings `settings`
    /// chooses for it (the architecture-conditioned AON): the chosen Adam and
    /// SGD-Nesterov steps as learning rates under a cosine schedule with the
    /// chosen warm-up; same steps, batches and seeds. Each measurement records
    /// the settings used (`adam_step`, `sgd_nesterov_step`, `warmup_steps`).
    pub fn with_candidate_settings(
        mut self,
        settings: Box<dyn CandidateSettings<S::Arch>>,
    ) -> Self {
        self.optimizer = CandidateOptimizer::Conditioned(settings);
        self
    }

    /// Trains each candidate for the time the training config's steps take
    /// `reference` instead of for those steps: a candidate whose steps are
    /// twice as fast as the reference's trains twice the steps (within a
    /// quarter and four times the configured steps), as it will under a
    /// time-budgeted final stage. Before each candidate trains, a few steps of
    /// the reference and of the candidate are timed side by side in networks
    /// of `pace_size` (the final stage's size, where the time budget applies;
    /// about a second per candidate at C=16). `label` names the reference in
    /// the search key. Each measurement records `steps`, `step_seconds` and
    /// `reference_step_seconds`. At 100 steps this ranks the smallest
    /// networks first (`docs/decisions/0017-candidates-train-equal-steps.md`).
    /// Replaces a speed-weighted score.
    pub fn with_time_matched_steps(
        mut self,
        reference: S::Arch,
        label: impl Into<String>,
        pace_size: NetworkSize,
    ) -> Self {
        self.pace_reference = Some(PaceReference {
            reference,
            label: label.into(),
            pace_size,
            speed_use: SpeedUse::TimeMatchedSteps,
        });
        self
    }

    /// Scores each candidate by its validation accuracy weighed by its speed
    /// ([`crate::speed_weighted_score`]: `accuracy × (step time / reference's
    /// step time)^−w`, `w` the weight of the candidate's side of the
    /// reference) instead of by its accuracy alone; candidates
    /// still train the configured steps. The step times are measured as for
    /// [`Self::with_time_matched_steps`] (side by side, networks of
    /// `pace_size`, the final stage's size). Each measurement records
    /// `validation_accuracy`, `step_seconds` and `reference_step_seconds`.
    /// Weights of 0 keep the accuracy (and still record the paces).
    /// Replaces time matching.
    pub fn with_speed_weighted_score(
        mut self,
        reference: S::Arch,
        label: impl Into<String>,
        pace_size: NetworkSize,
        weights: SpeedWeights,
    ) -> Self {
        self.pace_reference = Some(PaceReference {
            reference,
            label: label.into(),
            pace_size,
            speed_use: SpeedUse::WeightedScore(weights),
        });
        self
    }

    /// Median seconds per training step of `arch`'s network (over
    /// [`PACE_PROBE_STEPS`] steps after an untimed one), and the seconds the
    /// timing took.
    fn pace(&self, arch: &S::Arch, size: NetworkSize, seed: u64) -> Result<(f64, f64)> {
        let config = self
            .network_config(arch)
            .with_channels(size.channels)
            .with_cells_per_stage(size.cells_per_stage);
        let network =
            metanas_seeding::seeded_module(&self.device, seed, || config.init(&self.device))?;
        // The pace does not depend on the step size: a small Adam step keeps
        // the probe finite whatever the candidates are trained with.
        let mut probe = self.training.clone().with_seed(seed);
        probe.optimizer = OptimizerConfig::adam(1e-3);
        probe.length = TrainingLength::Steps(PACE_PROBE_STEPS + 1);
        probe.progress = false;
        let data = TrainingData {
            train: &self.task.train,
            validation: None,
            normalisation: Some(&self.normalisation),
        };
        let (_, report) = train(
            network,
            &mut probe.optimizer.init(),
            data,
            &probe,
            &self.device,
        )?;
        Ok((median(&report.step_seconds[1..]), report.seconds))
    }

    /// Checks, before a search spends its first query, that the task's data
    /// fits the network skeleton (no zero dimension, at least 2 classes, at
    /// least 1 channel), so bad data is refused once instead of failing every
    /// trial.
    ///
    /// # Errors
    /// [`crate::SearchError::Net`] naming the bad setting.
    pub fn check(&self) -> Result<()> {
        CellNetworkConfig::check_skeleton(
            self.task.train.shape(),
            self.task.ways(),
            self.size.channels,
        )?;
        Ok(())
    }

    /// The network settings used for `arch`.
    pub fn network_config(&self, arch: &S::Arch) -> CellNetworkConfig {
        CellNetworkConfig::new(arch.cell_plan(), self.task.train.shape(), self.task.ways())
            .with_channels(self.size.channels)
            .with_cells_per_stage(self.size.cells_per_stage)
    }
}

impl<S: SearchSpace> Evaluator<S> for TrainingEvaluator<S>
where
    S::Arch: ToCellPlan,
{
    fn describe(&self) -> String {
        format!(
            "train {} with C={} N={} for {:?}{} (batch {}, {:?})",
            self.task.describe(),
            self.size.channels,
            self.size.cells_per_stage,
            self.training.length,
            self.pace_reference
                .as_ref()
                .map(PaceReference::describe)
                .unwrap_or_default(),
            self.training.batch_size,
            match &self.optimizer {
                CandidateOptimizer::Aon(_, label) => format!("AON {label}"),
                CandidateOptimizer::Conditioned(settings) => format!(
                    "AON with settings chosen per candidate by {}",
                    settings.describe()
                ),
                CandidateOptimizer::Configured => format!("{:?}", self.training.optimizer),
            }
        )
    }

    fn objective(&self) -> Objective {
        Objective::Maximize
    }

    fn evaluate(&mut self, arch: &S::Arch, seed: u64) -> Result<Measurement> {
        let config = self.network_config(arch);
        let network =
            metanas_seeding::seeded_module(&self.device, seed, || config.init(&self.device))?;
        let mut training = self.training.clone().with_seed(seed);
        let mut details = BTreeMap::new();
        let mut timing_seconds = 0.0;
        let mut score_weight = None;
        if let Some(pacing) = &self.pace_reference {
            let size = pacing.pace_size;
            let (reference_pace, reference_seconds) = self.pace(&pacing.reference, size, seed)?;
            let (pace, seconds) = self.pace(arch, size, seed)?;
            match pacing.speed_use {
                SpeedUse::TimeMatchedSteps => {
                    let base = training.total_steps(self.task.train.len());
                    training.length =
                        TrainingLength::Steps(time_matched_steps(base, reference_pace, pace));
                }
                SpeedUse::WeightedScore(weights) => {
                    score_weight = Some((weights, reference_pace, pace));
                }
            }
            timing_seconds = reference_seconds + seconds;
            details.insert(STEP_SECONDS.into(), pace);
            details.insert(REFERENCE_STEP_SECONDS.into(), reference_pace);
        }
        let data = TrainingData {
            train: &self.task.train,
            validation: Some(&self.task.validation),
            normalisation: Some(&self.normalisation),
        };
        let mut chosen = None;
        let (_, report) = match &self.optimizer {
            CandidateOptimizer::Aon(aon, _) => train(
                network,
                &mut AonOptimizer::new(aon),
                data,
                &training,
                &self.device,
            )?,
            CandidateOptimizer::Conditioned(choice) => {
                let settings = choice.settings_for(arch)?;
                let aon = settings.fresh_aon(&self.device.clone().without_autodiff())?;
                chosen = Some(settings);
                let mut training = training.clone();
                training.optimizer = OptimizerConfig::adam(1.0);
                training.schedule = settings.schedule();
                train(
                    network,
                    &mut AonOptimizer::new(&aon),
                    data,
                    &training,
                    &self.device,
                )?
            }
            CandidateOptimizer::Configured => train(
                network,
                &mut training.optimizer.init(),
                data,
                &training,
                &self.device,
            )?,
        };
        let validation = report
            .final_validation()
            .unwrap_or(metanas_net::Evaluation {
                loss: f64::NAN,
                accuracy: 0.0,
                examples: 0,
            });
        let complexity = config.complexity();
        let accuracy = 100.0 * validation.accuracy;
        let objective = match score_weight {
            Some((weights, reference_pace, pace)) => {
                speed_weighted_score(accuracy, reference_pace, pace, weights)
            }
            None => accuracy,
        };
        details.insert(VALIDATION_ACCURACY.into(), accuracy);
        details.insert("validation_loss".into(), validation.loss);
        details.insert(VALIDATION_EXAMPLES.into(), validation.examples as f64);
        details.insert("params".into(), complexity.params as f64);
        details.insert(FLOPS.into(), complexity.flops as f64);
        details.insert("steps".into(), report.steps as f64);
        if let Some(settings) = chosen {
            details.insert("adam_step".into(), settings.adam_step);
            details.insert(
                "sgd_nesterov_step".into(),
                settings.sgd_nesterov_step.unwrap_or(0.0),
            );
            details.insert("warmup_steps".into(), settings.warmup_steps as f64);
        }
        Ok(Measurement {
            objective,
            report: None,
            cost_seconds: report.seconds + timing_seconds,
            details,
        })
    }
}
