//! Training one inner problem's candidate with the AON or with a hand-written
//! optimizer, under the same schedule, batches and seed; and the honest tuning
//! of the hand-written optimizers' learning rates.

use crate::aon::Aon;
use crate::aon_optimizer::AonOptimizer;
use crate::error::AonError;
use crate::inner_problem::InnerProblem;
use crate::update_settings::UpdateSettings;
use burn::tensor::Device;
use metanas_net::{
    Evaluation, LearningRateSchedule, ModelOptimizer, NetError, OptimizerConfig, TrainingConfig,
    TrainingLength, TrainingReport, train,
};
use serde::{Deserialize, Serialize};

/// How a candidate is trained: `steps` steps of `batch_size` images under a
/// cosine schedule, evaluated every `eval_every` steps (0: only at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateTraining {
    /// Optimisation steps.
    pub steps: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Validation every this many steps (0: only after the last).
    pub eval_every: usize,
}

/// The result of training one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateOutcome {
    /// The run's report; `None` when it diverged.
    pub report: Option<TrainingReport>,
    /// The step at which the loss stopped being finite, if it did.
    pub diverged_at: Option<usize>,
}

impl CandidateOutcome {
    /// Validation after the last step (`None` when the run diverged).
    pub fn final_validation(&self) -> Option<Evaluation> {
        self.report
            .as_ref()
            .and_then(TrainingReport::final_validation)
    }

    /// Validation loss after the last step, infinite when the run diverged.
    pub fn final_loss(&self) -> f64 {
        self.final_validation().map_or(f64::INFINITY, |e| e.loss)
    }
}

/// The hand-written optimizers the AON is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// Adam (β = 0.9, 0.999, ε = 1e-8).
    Adam,
    /// SGD with Nesterov momentum 0.9.
    SgdNesterov,
}

impl Baseline {
    /// The optimizer at base learning rate `rate`.
    pub fn optimizer(self, rate: f64) -> OptimizerConfig {
        match self {
            Self::Adam => OptimizerConfig::adam(rate),
            Self::SgdNesterov => OptimizerConfig::sgd_nesterov(rate),
        }
    }

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Adam => "Adam",
            Self::SgdNesterov => "SGD-Nesterov",
        }
    }
}

fn run<O: ModelOptimizer + Send>(
    problem: &InnerProblem,
    optimizer: &mut O,
    base_rate: f64,
    schedule: LearningRateSchedule,
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<CandidateOutcome> {
    let device = device.clone().autodiff();
    let network = problem.init_network(&device)?;
    let config = TrainingConfig::new(
        OptimizerConfig::adam(base_rate),
        TrainingLength::Steps(training.steps),
    )
    .with_batch_size(training.batch_size)
    .with_schedule(schedule)
    .with_seed(problem.seed)
    .with_eval_every(training.eval_every);
    match train(
        network,
        optimizer,
        problem.training_data(),
        &config,
        &device,
    ) {
        Ok((_, report)) => Ok(CandidateOutcome {
            report: Some(report),
            diverged_at: None,
        }),
        Err(NetError::Diverged { step, .. }) => Ok(CandidateOutcome {
            report: None,
            diverged_at: Some(step),
        }),
        Err(e) => Err(AonError::Net(e)),
    }
}

/// Trains `problem`'s candidate with `aon` (base rate 1, cosine schedule).
///
/// # Errors
/// From the network and data crates (never for a divergence, which the outcome reports).
pub fn train_with_aon(
    problem: &InnerProblem,
    aon: &Aon,
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<CandidateOutcome> {
    run(
        problem,
        &mut AonOptimizer::new(aon),
        1.0,
        LearningRateSchedule::Cosine,
        training,
        device,
    )
}

/// Trains `problem`'s candidate with a fresh AON at `settings` (their
/// schedule, base rate 1): the update rule those settings name.
///
/// # Errors
/// [`AonError::InvalidConfig`] for invalid settings; as [`train_with_aon`].
pub fn train_with_settings(
    problem: &InnerProblem,
    settings: &UpdateSettings,
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<CandidateOutcome> {
    let aon = settings.fresh_aon(device)?;
    run(
        problem,
        &mut AonOptimizer::new(&aon),
        1.0,
        settings.schedule(),
        training,
        device,
    )
}

/// Trains `problem`'s candidate with a hand-written optimizer (cosine schedule from its base rate).
///
/// # Errors
/// As [`train_with_aon`].
pub fn train_with_optimizer(
    problem: &InnerProblem,
    optimizer: OptimizerConfig,
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<CandidateOutcome> {
    run(
        problem,
        &mut optimizer.init(),
        optimizer.learning_rate(),
        LearningRateSchedule::Cosine,
        training,
        device,
    )
}

/// The result of a learning-rate grid search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearningRateTuning {
    /// The optimizer tuned.
    pub baseline: Baseline,
    /// The rate with the lowest mean final validation loss.
    pub best_rate: f64,
    /// `(rate, mean final validation loss)` for every rate of the grid
    /// (infinite when a run diverged).
    pub mean_losses: Vec<(f64, f64)>,
}

/// Chooses `baseline`'s learning rate from `grid` by the mean final validation
/// loss over `problems` (the meta-training tasks), each trained as `training` says.
///
/// # Errors
/// [`AonError::InvalidConfig`] for an empty grid or problem list or a
/// non-positive rate; errors of [`train_with_optimizer`].
pub fn tune_learning_rate(
    baseline: Baseline,
    grid: &[f64],
    problems: &[InnerProblem],
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<LearningRateTuning> {
    if grid.is_empty() || problems.is_empty() {
        return Err(AonError::InvalidConfig(
            "tuning needs a non-empty grid and problem list".into(),
        ));
    }
    if let Some(bad) = grid.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
        return Err(AonError::InvalidConfig(format!(
            "learning rates must be positive, got {bad}"
        )));
    }
    let mut mean_losses = Vec::with_capacity(grid.len());
    for &rate in grid {
        let mut total = 0.0;
        for problem in problems {
            total += train_with_optimizer(problem, baseline.optimizer(rate), training, device)?
                .final_loss();
        }
        mean_losses.push((rate, total / problems.len() as f64));
    }
    let best_rate = mean_losses
        .iter()
        .filter(|(_, loss)| loss.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(grid[0], |(rate, _)| *rate);
    Ok(LearningRateTuning {
        baseline,
        best_rate,
        mean_losses,
    })
}

/// The mean final validation loss of `aon` over `problems`, each trained for
/// `training.steps` steps (infinite if one diverged): the quantity the AON is
/// judged by, for choosing among meta-training checkpoints on validation
/// problems of the meta-training distribution.
///
/// # Errors
/// As [`train_with_aon`].
pub fn mean_final_loss_with_aon(
    aon: &Aon,
    problems: &[InnerProblem],
    training: CandidateTraining,
    device: &Device,
) -> crate::error::Result<f64> {
    if problems.is_empty() {
        return Err(AonError::InvalidConfig(
            "no problems to score the AON on".into(),
        ));
    }
    let mut total = 0.0;
    for problem in problems {
        total += train_with_aon(problem, aon, training, device)?.final_loss();
    }
    Ok(total / problems.len() as f64)
}
