//! The training loop: any [`ImageClassifier`], any [`ModelOptimizer`].

use crate::classification_step::{StepSchedule, classification_step};
use crate::error::{NetError, Result};
use crate::evaluation::{Evaluation, evaluate};
use crate::image_classifier::ImageClassifier;
use crate::loss_tracker::LossTracker;
use crate::model_optimizer::ModelOptimizer;
use crate::training_config::TrainingConfig;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use metanas_data::{ImageDataset, Normalisation};
use metanas_device::on_compute_pool;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The data of a training run.
#[derive(Debug, Clone, Copy)]
pub struct TrainingData<'a> {
    /// Images to train on.
    pub train: &'a ImageDataset,
    /// Held-out images to report on (never trained on), if any.
    pub validation: Option<&'a ImageDataset>,
    /// Per-channel normalisation applied to every batch (usually the training set's).
    pub normalisation: Option<&'a Normalisation>,
}

/// What happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// Steps taken.
    pub steps: usize,
    /// Training loss of every step's batch.
    pub train_losses: Vec<f32>,
    /// Validation results `(step, evaluation)` at each evaluation point; the
    /// last one is after the final step.
    pub validations: Vec<(usize, Evaluation)>,
    /// Wall-clock seconds of the run, evaluation included.
    pub seconds: f64,
    /// Wall-clock seconds of each step (batch, forward, backward and update;
    /// validation excluded). On a backend that runs asynchronously (wgpu) a
    /// step's work may finish in the next one: take a median over several.
    /// Empty where a loop does not time its steps one by one (final training
    /// keeps a running pace instead).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_seconds: Vec<f32>,
}

impl TrainingReport {
    /// The evaluation after the last step, if there was a validation set.
    pub fn final_validation(&self) -> Option<Evaluation> {
        self.validations.last().map(|(_, e)| *e)
    }
}

/// Trains `model` on `data.train` with `optimizer` on `device` (an autodiff device).
///
/// Batches come in a seeded order (reshuffled each epoch), the learning rate
/// follows `config.schedule`, and the loss of every step is checked: a NaN or
/// infinite loss stops the run with [`NetError::Diverged`]. On a CPU device
/// each step runs on a thread of rayon's pool
/// ([`metanas_device::on_compute_pool`]), hence `O: Send`: the optimizer is
/// used from that thread.
///
/// # Errors
/// [`NetError::InvalidConfig`] for bad settings or an empty training set;
/// [`NetError::Diverged`] when the loss stops being finite.
pub fn train<M, O>(
    mut model: M,
    optimizer: &mut O,
    data: TrainingData<'_>,
    config: &TrainingConfig,
    device: &Device,
) -> Result<(M, TrainingReport)>
where
    M: ImageClassifier,
    O: ModelOptimizer + Send,
{
    config.check()?;
    if data.train.is_empty() {
        return Err(NetError::InvalidConfig("the training set is empty".into()));
    }
    if !device.is_autodiff() {
        return Err(NetError::InvalidConfig(
            "training needs an autodiff device (`device.autodiff()`)".into(),
        ));
    }
    let start = Instant::now();
    let total = config.total_steps(data.train.len());
    let base_lr = config.optimizer.learning_rate();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let bar = progress_bar(total, config.progress);
    let mut report = TrainingReport {
        steps: 0,
        train_losses: Vec::with_capacity(total),
        validations: Vec::new(),
        seconds: 0.0,
        step_seconds: Vec::with_capacity(total),
    };
    let mut epoch = 0u64;
    let mut batches = data.train.batches(config.batch_size, Some(config.seed));
    let mut losses = LossTracker::new();
    for step in 0..total {
        let step_start = Instant::now();
        let indices = match batches.next() {
            Some(indices) => indices,
            None => {
                epoch += 1;
                batches = data
                    .train
                    .batches(config.batch_size, Some(config.seed.wrapping_add(epoch)));
                batches.next().unwrap_or_default()
            }
        };
        let lr = config.schedule.rate(base_lr, step, total);
        // The whole step on one pool thread: the batch, the forward pass, the
        // loss check, the backward pass and the update.
        let stepped = on_compute_pool(device, || -> Result<(M, f64)> {
            let batch = data.train.batch_of(&indices, data.normalisation, device)?;
            let schedule = StepSchedule {
                step,
                total_steps: total,
                learning_rate: lr,
            };
            classification_step(model, optimizer, &loss_fn, batch, schedule, &mut losses)
        });
        let loss_value = match stepped {
            Ok((next, loss_value)) => {
                model = next;
                loss_value
            }
            Err(e) => {
                if let NetError::Diverged { step, .. } = e {
                    bar.abandon_with_message(format!("diverged at step {step}"));
                }
                return Err(e);
            }
        };
        report.train_losses.push(loss_value as f32);
        report.steps = step + 1;
        report
            .step_seconds
            .push(step_start.elapsed().as_secs_f64() as f32);
        bar.set_message(format!("loss {:.4}", losses.smoothed()));
        bar.inc(1);
        let last = step + 1 == total;
        if let Some(validation) = data.validation
            && (last || (config.eval_every > 0 && (step + 1) % config.eval_every == 0))
        {
            let eval = evaluate(&model, validation, data.normalisation, 256, device)?;
            report.validations.push((step + 1, eval));
        }
    }
    bar.finish_and_clear();
    report.seconds = start.elapsed().as_secs_f64();
    Ok((model, report))
}

fn progress_bar(total: usize, visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(total as u64),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  eta {eta}  {msg}")
    {
        bar.set_style(style);
    }
    bar
}
