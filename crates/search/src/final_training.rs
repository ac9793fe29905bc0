//! Final training: the chosen cell at its final size, trained with the full
//! recipe (see [`FinalTrainingConfig`]), the epoch kept by a validation split
//! of the training images (see [`crate::CheckpointRule`]), tested once.

use crate::error::{Result, SearchError};
use crate::final_time_budget::{MeasuredPace, another_step_fits, planned_total_steps};
use crate::final_training_config::{FinalLength, FinalTrainingConfig};
use crate::kept_checkpoint::KeptCheckpoint;
use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::tensor::Device;
use metanas_data::{Augmentation, ImageDataset, MirrorCheck, augmentation_rng};
use metanas_net::{
    CellNetwork, CellNetworkConfig, Evaluation, LearningRateSchedule, LossTracker, ModelMetadata,
    NetError, SavedModel, StepSchedule, ToCellPlan, TrainingReport, classification_step, evaluate,
    on_compute_pool,
};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// Images per batch when evaluating.
const EVALUATION_BATCH: usize = 256;
/// Steps measured before a time budget sets the run's length.
const PROBE_STEPS: usize = 10;

/// The images of final training.
#[derive(Debug, Clone, Copy)]
pub struct FinalData<'a> {
    /// Training images; the validation split is carved from them.
    pub train: &'a ImageDataset,
    /// Test images, evaluated once, for the report.
    pub test: &'a ImageDataset,
}

/// Where final training is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinalProgress {
    /// Zero-based epoch of the step just taken.
    pub epoch: usize,
    /// Epochs the run is planned for (rounded up).
    pub planned_epochs: usize,
    /// Steps taken.
    pub step: usize,
    /// Steps the run is planned for (a time budget may change it).
    pub planned_steps: usize,
    /// Exponential moving average of the training loss (factor 0.9).
    pub smoothed_loss: f64,
    /// Accuracy on the validation split at the last epoch end, if any yet.
    pub validation_accuracy: Option<f64>,
    /// Estimated seconds to the end of the stage.
    pub eta_seconds: f64,
}

/// What final training produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinalResult {
    /// The architecture (space text form).
    pub architecture: String,
    /// Held-out test loss and accuracy: the only time the test split is touched.
    pub test: Evaluation,
    /// The training run: losses, and the validation at each epoch end.
    pub training: TrainingReport,
    /// Parameters of the trained network.
    pub params: usize,
    /// The validation result of the kept checkpoint (none without a validation split).
    pub kept_validation: Option<Evaluation>,
    /// The step after which the kept checkpoint was taken (see [`crate::CheckpointRule`]).
    pub kept_step: usize,
    /// Steps the learning-rate schedule was planned for at the end: equal to
    /// the steps taken when the schedule ran to its end.
    pub planned_steps: usize,
    /// Passes over the training images.
    pub epochs: f64,
    /// The augmentation used, the flip decided.
    pub augmentation: Augmentation,
    /// The mirror check that decided the flip (with `flip = auto`).
    pub mirror_check: Option<MirrorCheck>,
    /// Wall-clock seconds of the stage: building, training, validation and the test.
    pub seconds: f64,
    /// The settings.
    pub config: FinalTrainingConfig,
}

/// A trained final model and its report.
#[derive(Debug)]
pub struct FinalModel {
    /// The network, its settings and metadata, as saved.
    pub model: SavedModel,
    /// What training and the test gave.
    pub result: FinalResult,
}

impl FinalResult {
    /// Passes over the training images after `step` steps of this run.
    pub fn epochs_at(&self, step: usize) -> f64 {
        if self.training.steps == 0 {
            0.0
        } else {
            step as f64 * self.epochs / self.training.steps as f64
        }
    }
}

impl FinalModel {
    /// Saves the model to `dir` (see [`SavedModel::save`]) with `final_result.json`.
    ///
    /// # Errors
    /// Writing the files.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.model.save(dir)?;
        write_json(&dir.join("final_result.json"), &self.result)
    }
}

/// Writes `value` as pretty JSON to `path`.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| SearchError::InvalidConfig(e.to_string()))?;
    std::fs::write(path, json).map_err(|source| SearchError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Trains `arch` with `config`'s recipe on `data.train` less a validation
/// split, keeps the epoch that `config.keep` chooses by that split, and evaluates it once
/// on `data.test`. `progress` is told of every step. Save the result with
/// [`FinalModel::save`].
///
/// # Errors
/// Bad settings or an empty training set ([`SearchError::InvalidConfig`]),
/// building or training the network (a diverging loss), the data.
pub fn train_final<A: ToCellPlan>(
    arch: &A,
    space_name: &str,
    architecture: &str,
    data: FinalData<'_>,
    config: &FinalTrainingConfig,
    device: &Device,
    progress: &mut dyn FnMut(&FinalProgress),
) -> Result<FinalModel> {
    train_final_observed(
        arch,
        space_name,
        architecture,
        data,
        config,
        device,
        progress,
        &mut |_| {},
    )
}

/// A checkpoint of final training at a validation: what [`train_final_observed`]
/// shows its observer at every epoch end (and at the last step).
#[derive(Debug, Clone, Copy)]
pub struct ValidatedCheckpoint<'a> {
    /// Steps taken.
    pub step: usize,
    /// Its score on the validation split.
    pub validation: Evaluation,
    /// The network after `step` (on the autodiff device; `valid()` gives the
    /// inference copy, which is cheap to keep).
    pub network: &'a CellNetwork,
}

/// [`train_final`], showing every validated checkpoint to `checkpoints` as
/// the stage goes: to save each epoch, or to score each on data of one's own.
/// The observer's time counts against a time budget: keep it short (a
/// `network.valid()` copy), and do slow work after the stage.
///
/// # Errors
/// As [`train_final`].
#[allow(clippy::too_many_arguments)] // train_final's arguments and the observer.
pub fn train_final_observed<A: ToCellPlan>(
    arch: &A,
    space_name: &str,
    architecture: &str,
    data: FinalData<'_>,
    config: &FinalTrainingConfig,
    device: &Device,
    progress: &mut dyn FnMut(&FinalProgress),
    checkpoints: &mut dyn FnMut(&ValidatedCheckpoint<'_>),
) -> Result<FinalModel> {
    let start = Instant::now();
    let clock = move || start.elapsed().as_secs_f64();
    let stage = FinalStage {
        space_name,
        architecture,
        data,
        config,
        device,
        clock: &clock,
    };
    stage.run(arch, progress, checkpoints)
}

/// One final-training run, with the clock it reads (a test passes its own).
pub(crate) struct FinalStage<'a> {
    pub space_name: &'a str,
    pub architecture: &'a str,
    pub data: FinalData<'a>,
    pub config: &'a FinalTrainingConfig,
    pub device: &'a Device,
    /// Seconds since the stage started.
    pub clock: &'a dyn Fn() -> f64,
}

/// The learning-rate schedule of a run of `total` steps: warm-up for
/// `warmup_epochs`, at most a fifth of the run, then cosine.
fn schedule(
    config: &FinalTrainingConfig,
    steps_per_epoch: usize,
    total: usize,
) -> LearningRateSchedule {
    let warmup = (config.warmup_epochs * steps_per_epoch as f64).round() as usize;
    LearningRateSchedule::WarmupCosine {
        warmup_steps: warmup.min(total / 5),
    }
}

/// The loss final training minimises: cross-entropy, label-smoothed by `smoothing` when positive.
pub(crate) fn training_loss(smoothing: f32, device: &Device) -> CrossEntropyLoss {
    CrossEntropyLossConfig::new()
        .with_smoothing((smoothing > 0.0).then_some(smoothing))
        .init(device)
}

/// What each validation is told to: the report, the observer, and the
/// checkpoint rule, in that order.
struct Validated<'o> {
    kept: KeptCheckpoint<CellNetwork>,
    observer: &'o mut dyn FnMut(&ValidatedCheckpoint<'_>),
}

impl Validated<'_> {
    fn record(
        &mut self,
        report: &mut TrainingReport,
        step: usize,
        validation: Evaluation,
        network: &CellNetwork,
    ) {
        report.validations.push((step, validation));
        (self.observer)(&ValidatedCheckpoint {
            step,
            validation,
            network,
        });
        self.kept.offer(validation, step, || network.valid());
    }
}

impl FinalStage<'_> {
    pub(crate) fn run<A: ToCellPlan>(
        &self,
        arch: &A,
        progress: &mut dyn FnMut(&FinalProgress),
        checkpoints: &mut dyn FnMut(&ValidatedCheckpoint<'_>),
    ) -> Result<FinalModel> {
        let config = self.config;
        config.check()?;
        let device = self.device;
        if self.data.train.is_empty() {
            return Err(SearchError::InvalidConfig(
                "final training has no training images".into(),
            ));
        }
        if !device.is_autodiff() {
            return Err(SearchError::InvalidConfig(
                "final training needs an autodiff device (`device.autodiff()`)".into(),
            ));
        }
        let (fit, validation) = self.split()?;
        let normalisation = fit.normalisation();
        let (augmentation, mirror_check) = config.augmentation(&fit);
        let network_config =
            CellNetworkConfig::new(arch.cell_plan(), fit.shape(), fit.num_classes())
                .with_channels(config.channels)
                .with_cells_per_stage(config.cells_per_stage);
        let mut network =
            metanas_seeding::seeded_module(device, config.seed, || network_config.init(device))?;
        let mut optimizer = config.optimizer.init();
        let loss_fn = training_loss(config.label_smoothing, device);
        let base_lr = config.optimizer.learning_rate();
        let steps_per_epoch = fit.len().div_ceil(config.batch_size);
        let budget = match config.length {
            FinalLength::Epochs(_) => None,
            FinalLength::Seconds(s) => Some(s),
        };
        // A time budget starts with an epoch (or more than the probe) planned;
        // the probe steps set the length, re-planned as the run goes.
        let mut total = match config.length {
            FinalLength::Epochs(e) => e * steps_per_epoch,
            FinalLength::Seconds(_) => steps_per_epoch.max(2 * PROBE_STEPS),
        };
        let mut rng = augmentation_rng(config.seed);
        let mut report = TrainingReport {
            steps: 0,
            train_losses: Vec::new(),
            validations: Vec::new(),
            seconds: 0.0,
            step_seconds: Vec::new(),
        };
        let mut validated = Validated {
            kept: KeptCheckpoint::new(config.keep),
            observer: checkpoints,
        };
        let mut pace = Pace::default();
        let mut losses = LossTracker::new();
        let mut epoch = 0usize;
        let mut batches = fit.batches(config.batch_size, Some(config.seed));
        let mut step = 0usize;
        let mut last_validated = None;
        // One clock read per step (and two per validation): a step's time runs
        // from its start to the next one's, its validation taken out.
        let mut step_start = (self.clock)();
        while step < total {
            if let Some(budget) = budget
                && step >= PROBE_STEPS
                && !another_step_fits(
                    budget,
                    &pace.measured(step_start, step, self, steps_per_epoch),
                )
            {
                break;
            }
            let indices = match batches.next() {
                Some(indices) => indices,
                None => {
                    epoch += 1;
                    batches = fit.batches(
                        config.batch_size,
                        Some(config.seed.wrapping_add(epoch as u64)),
                    );
                    batches.next().unwrap_or_default()
                }
            };
            let lr = schedule(config, steps_per_epoch, total).rate(base_lr, step, total);
            // The whole step on one pool thread: the batch, the forward pass,
            // the loss check, the backward pass and the update.
            let (next, loss_value) =
                on_compute_pool(device, || -> std::result::Result<_, NetError> {
                    let batch = fit.augmented_batch_of(
                        &indices,
                        &augmentation,
                        &mut rng,
                        Some(&normalisation),
                        device,
                    )?;
                    let step_schedule = StepSchedule {
                        step,
                        total_steps: total,
                        learning_rate: lr,
                    };
                    classification_step(
                        network,
                        &mut optimizer,
                        &loss_fn,
                        batch,
                        step_schedule,
                        &mut losses,
                    )
                })?;
            network = next;
            report.train_losses.push(loss_value as f32);
            step += 1;
            report.steps = step;
            let epoch_end = step.is_multiple_of(steps_per_epoch) || step == total;
            let mut validation_seconds = 0.0;
            if epoch_end {
                if let Some((evaluation, seconds)) =
                    self.validate(&network, validation.as_ref(), &mut pace, &normalisation)?
                {
                    validated.record(&mut report, step, evaluation, &network);
                    validation_seconds = seconds;
                }
                last_validated = Some(step);
            } else if budget.is_some() && step == PROBE_STEPS {
                // Time a validation pass now, unrecorded: until one is timed,
                // evaluation's cost is a guess, and a budget shorter than an
                // epoch would be planned by the guess alone.
                if let Some((_, seconds)) =
                    self.validate(&network, validation.as_ref(), &mut pace, &normalisation)?
                {
                    validation_seconds = seconds;
                }
            }
            let now = (self.clock)();
            pace.add_step(now - step_start - validation_seconds);
            step_start = now;
            if let Some(budget) = budget
                && step < total
                && step >= PROBE_STEPS
                && (step.is_multiple_of(REPLAN_EVERY) || epoch_end)
            {
                total =
                    planned_total_steps(budget, &pace.measured(now, step, self, steps_per_epoch))
                        .max(step);
            }
            progress(&FinalProgress {
                epoch: (step - 1) / steps_per_epoch,
                planned_epochs: total.div_ceil(steps_per_epoch),
                step,
                planned_steps: total,
                smoothed_loss: losses.smoothed(),
                validation_accuracy: report.validations.last().map(|(_, e)| e.accuracy),
                eta_seconds: match budget {
                    Some(budget) => (budget - now).max(0.0),
                    None => pace.eta(step, total, steps_per_epoch, self.data.test.len()),
                },
            });
        }
        // A budget that ended the run between epochs: validate the last step too.
        if last_validated != Some(step)
            && let Some((evaluation, _)) =
                self.validate(&network, validation.as_ref(), &mut pace, &normalisation)?
        {
            validated.record(&mut report, step, evaluation, &network);
        }
        let (kept, kept_validation, kept_step) = match validated.kept.into_inner() {
            Some((model, evaluation, at)) => (model, Some(evaluation), at),
            None => (network.valid(), None, step),
        };
        let test = evaluate(
            &kept,
            self.data.test,
            Some(&normalisation),
            EVALUATION_BATCH,
            device,
        )?;
        let seconds = (self.clock)();
        report.seconds = seconds;
        let params = network_config.complexity().params;
        let model = SavedModel {
            network: kept,
            config: network_config,
            metadata: ModelMetadata {
                space: self.space_name.to_string(),
                architecture: self.architecture.to_string(),
                normalisation: Some(normalisation),
                class_names: self.data.train.class_names().map(<[String]>::to_vec),
                files_resized_to: self.data.train.files_resized_to(),
            },
        };
        let result = FinalResult {
            architecture: self.architecture.to_string(),
            test,
            training: report,
            params,
            kept_validation,
            kept_step,
            planned_steps: total,
            epochs: step as f64 / steps_per_epoch as f64,
            augmentation,
            mirror_check,
            seconds,
            config: config.clone(),
        };
        Ok(FinalModel { model, result })
    }

    /// The images trained on and the validation split (none when the
    /// fraction is 0 or the split would be empty).
    fn split(&self) -> Result<(ImageDataset, Option<ImageDataset>)> {
        let fraction = self.config.validation_fraction;
        if fraction <= 0.0 {
            return Ok((self.data.train.clone(), None));
        }
        let mut parts = self
            .data
            .train
            .stratified_split(&[1.0 - fraction, fraction], self.config.seed)?
            .into_iter();
        match (parts.next(), parts.next()) {
            (Some(fit), Some(validation)) if !fit.is_empty() && !validation.is_empty() => {
                Ok((fit, Some(validation)))
            }
            _ => Ok((self.data.train.clone(), None)),
        }
    }

    /// Evaluates on the validation split, timing it: the evaluation and its seconds.
    fn validate(
        &self,
        network: &CellNetwork,
        validation: Option<&ImageDataset>,
        pace: &mut Pace,
        normalisation: &metanas_data::Normalisation,
    ) -> Result<Option<(Evaluation, f64)>> {
        let Some(validation) = validation else {
            return Ok(None);
        };
        let started = (self.clock)();
        let evaluation = evaluate(
            network,
            validation,
            Some(normalisation),
            EVALUATION_BATCH,
            self.device,
        )?;
        let seconds = (self.clock)() - started;
        pace.evaluation_seconds_per_image = seconds / validation.len().max(1) as f64;
        pace.validation_seconds = seconds;
        Ok(Some((evaluation, seconds)))
    }
}

/// Step and evaluation times measured so far.
#[derive(Debug, Default)]
struct Pace {
    /// Steps timed.
    steps: usize,
    /// Seconds per step: the mean of the first [`PROBE_STEPS`], then an
    /// exponential moving average (factor [`PACE_SMOOTHING`]) that follows a
    /// machine whose load changes.
    step_seconds: f64,
    /// Seconds of the last validation pass.
    validation_seconds: f64,
    /// Seconds per evaluated image, once measured.
    evaluation_seconds_per_image: f64,
}

/// Weight of the newest step in the moving average of step times.
const PACE_SMOOTHING: f64 = 0.05;
/// A time budget re-plans the run's length every this many steps after the probe.
const REPLAN_EVERY: usize = 10;

impl Pace {
    fn add_step(&mut self, seconds: f64) {
        self.steps += 1;
        self.step_seconds = if self.steps <= PROBE_STEPS {
            self.step_seconds + (seconds - self.step_seconds) / self.steps as f64
        } else {
            self.step_seconds + PACE_SMOOTHING * (seconds - self.step_seconds)
        };
    }

    fn step_seconds(&self) -> f64 {
        self.step_seconds
    }

    /// Seconds per evaluated image: measured, or before any validation, half
    /// a training step's time per image (a forward pass costs about a third).
    fn seconds_per_evaluated_image(&self, batch_size: usize) -> f64 {
        if self.evaluation_seconds_per_image > 0.0 {
            self.evaluation_seconds_per_image
        } else {
            self.step_seconds() / batch_size.max(1) as f64 / 2.0
        }
    }

    fn measured(
        &self,
        elapsed: f64,
        steps_done: usize,
        stage: &FinalStage<'_>,
        steps_per_epoch: usize,
    ) -> MeasuredPace {
        let per_image = self.seconds_per_evaluated_image(stage.config.batch_size);
        let validation_images =
            (stage.data.train.len() as f64 * stage.config.validation_fraction).round();
        MeasuredPace {
            elapsed,
            steps_done,
            step_seconds: self.step_seconds(),
            validation_seconds: if self.validation_seconds > 0.0 {
                self.validation_seconds
            } else {
                per_image * validation_images
            },
            closing_seconds: per_image * stage.data.test.len() as f64,
            steps_per_epoch,
        }
    }

    /// Seconds left for a run of `total` steps at `step`.
    fn eta(&self, step: usize, total: usize, steps_per_epoch: usize, test_images: usize) -> f64 {
        let left = total.saturating_sub(step);
        let validations = total.div_ceil(steps_per_epoch) - step / steps_per_epoch.max(1);
        left as f64 * self.step_seconds()
            + validations as f64 * self.validation_seconds
            + test_images as f64 * self.evaluation_seconds_per_image
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Int, Tensor, TensorData};
    use metanas_space::SearchSpace;
    use metanas_space::nb201::Nb201Space;
    use std::cell::Cell;

    /// `n` 1×8×8 images of two classes: a bright left or right half, with seeded noise.
    fn halves(n: usize, seed: u64) -> ImageDataset {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut pixels = Vec::with_capacity(n * 64);
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        for &label in &labels {
            for _y in 0..8 {
                for x in 0..8 {
                    let bright = (x < 4) == (label == 0);
                    let base = if bright { 0.7 } else { 0.2 };
                    pixels.push(base + rng.random_range(-0.2..0.2f32));
                }
            }
        }
        ImageDataset::new(pixels, labels, [1, 8, 8], 2).expect("valid")
    }

    fn conv_cell() -> <Nb201Space as SearchSpace>::Arch {
        Nb201Space
            .parse(
                "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|",
            )
            .expect("valid")
    }

    fn tiny_config() -> FinalTrainingConfig {
        FinalTrainingConfig::new()
            .with_channels(4)
            .with_batch_size(16)
            .with_crop_padding(1)
            .with_flip(crate::FlipChoice::Off)
            .with_validation_fraction(0.2)
            .with_warmup_epochs(0.5)
    }

    /// Runs final training on the tiny task with `clock`.
    fn run_with(
        config: &FinalTrainingConfig,
        clock: &dyn Fn() -> f64,
        progress: &mut dyn FnMut(&FinalProgress),
    ) -> FinalModel {
        let (train, test) = (halves(160, 1), halves(80, 2));
        let device = metanas_device::test_device().autodiff();
        let stage = FinalStage {
            space_name: "nb201",
            architecture: "resnet",
            data: FinalData {
                train: &train,
                test: &test,
            },
            config,
            device: &device,
            clock,
        };
        stage
            .run(&conv_cell(), progress, &mut |_| {})
            .expect("trains")
    }

    #[test]
    fn label_smoothing_spreads_the_target_over_the_classes() {
        let device = metanas_device::test_device();
        let logits =
            Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.5, -1.0], [1, 3]), &device);
        let target = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &device);
        let loss = |smoothing: f32| -> f64 {
            let value: f32 = training_loss(smoothing, &device)
                .forward(logits.clone(), target.clone())
                .into_scalar();
            f64::from(value)
        };
        // numpy: z = [2, .5, -1]; logp = z - log(sum(exp(z)))
        let z = [2.0f64, 0.5, -1.0];
        let log_sum = z.iter().map(|v| v.exp()).sum::<f64>().ln();
        let logp: Vec<f64> = z.iter().map(|v| v - log_sum).collect();
        // Smoothing α puts 1 − α + α/K on the target and α/K on every other class.
        let alpha = 0.1;
        let smoothed = -((1.0 - alpha + alpha / 3.0) * logp[0]
            + alpha / 3.0 * logp[1]
            + alpha / 3.0 * logp[2]);
        assert!((loss(0.0) + logp[0]).abs() < 1e-5, "plain cross-entropy");
        assert!(
            (loss(0.1) - smoothed).abs() < 1e-5,
            "{} vs {smoothed}",
            loss(0.1)
        );
        assert!(
            loss(0.1) > loss(0.0),
            "a confident right answer costs more when smoothed"
        );
    }

    #[test]
    fn final_training_keeps_the_epoch_of_least_validation_loss_and_tests_it() {
        let config = tiny_config()
            .with_length(FinalLength::Epochs(4))
            .with_keep(crate::CheckpointRule::ValidationLoss);
        let start = Instant::now();
        let clock = move || start.elapsed().as_secs_f64();
        let mut steps_seen = Vec::new();
        let model = run_with(&config, &clock, &mut |p| steps_seen.push(p.step));
        let result = &model.result;
        // 128 training images (160 less the 20 % validation split), 16 a batch: 8 steps an epoch.
        assert_eq!(result.training.steps, 32);
        assert_eq!(steps_seen, (1..=32).collect::<Vec<_>>());
        let validated: Vec<usize> = result
            .training
            .validations
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(validated, vec![8, 16, 24, 32], "one validation per epoch");
        let (kept_step, best) = result
            .training
            .validations
            .iter()
            .fold(None::<(usize, Evaluation)>, |kept, &(s, e)| match kept {
                Some((_, k)) if k.loss <= e.loss => kept,
                _ => Some((s, e)),
            })
            .expect("validated");
        assert_eq!(result.kept_step, kept_step);
        assert_eq!(result.kept_validation, Some(best));
        // The test split is evaluated on the kept network.
        let reevaluated = evaluate(
            &model.model.network,
            &halves(80, 2),
            model.model.metadata.normalisation.as_ref(),
            EVALUATION_BATCH,
            &metanas_device::test_device(),
        )
        .expect("evaluates");
        assert!((reevaluated.accuracy - result.test.accuracy).abs() < 1e-9);
        assert_eq!(result.test.examples, 80);
        assert!(
            result.test.accuracy > 0.8,
            "learns the halves: {}",
            result.test.accuracy
        );
    }

    #[test]
    fn the_observer_sees_every_validated_checkpoint_as_the_report_has_it() {
        let config = tiny_config().with_length(FinalLength::Epochs(2));
        let (train, test) = (halves(160, 1), halves(80, 2));
        let device = metanas_device::test_device().autodiff();
        let data = FinalData {
            train: &train,
            test: &test,
        };
        let mut seen = Vec::new();
        let model = train_final_observed(
            &conv_cell(),
            "nb201",
            "cell",
            data,
            &config,
            &device,
            &mut |_| {},
            &mut |c| seen.push((c.step, c.validation, c.network.valid())),
        )
        .expect("trains");
        let validations: Vec<(usize, Evaluation)> = seen.iter().map(|(s, e, _)| (*s, *e)).collect();
        assert_eq!(validations, model.result.training.validations);
        // The network shown at the kept step is the one kept and tested.
        let (_, _, kept) = seen
            .iter()
            .find(|(s, _, _)| *s == model.result.kept_step)
            .expect("the kept step was shown");
        let tested = evaluate(
            kept,
            &test,
            model.model.metadata.normalisation.as_ref(),
            EVALUATION_BATCH,
            &metanas_device::test_device(),
        )
        .expect("evaluates");
        assert_eq!(tested, model.result.test);
        assert_eq!(seen.len(), 2, "one checkpoint per epoch");
        assert_eq!(
            model.result.kept_step, model.result.training.steps,
            "the default keeps the last step"
        );
    }

    #[test]
    fn a_time_budget_ends_with_the_schedule_and_within_ten_percent() {
        // A clock that advances 10 ms each time it is read: the stage sees a
        // steady step time and validations of fixed cost, whatever the machine.
        let now = Cell::new(0.0f64);
        let clock = || {
            let t = now.get();
            now.set(t + 0.01);
            t
        };
        for budget in [1.5, 4.0] {
            now.set(0.0);
            let config = tiny_config().with_length(FinalLength::Seconds(budget));
            let result = run_with(&config, &clock, &mut |_| {}).result;
            assert!(
                (result.seconds - budget).abs() <= 0.1 * budget,
                "budget {budget}: the stage took {}",
                result.seconds
            );
            assert_eq!(
                result.training.steps, result.planned_steps,
                "budget {budget}: the cosine schedule ran to its end"
            );
            assert!(result.training.steps > PROBE_STEPS);
        }
    }

    #[test]
    fn bad_settings_are_refused_before_training() {
        let bad = tiny_config().with_length(FinalLength::Seconds(f64::NAN));
        let (train, test) = (halves(16, 1), halves(8, 2));
        let device = metanas_device::test_device().autodiff();
        let data = FinalData {
            train: &train,
            test: &test,
        };
        let err = train_final(
            &conv_cell(),
            "nb201",
            "cell",
            data,
            &bad,
            &device,
            &mut |_| {},
        )
        .expect_err("refused");
        assert!(err.to_string().contains("final time"), "{err}");
        let plain = metanas_device::test_device();
        let err = train_final(
            &conv_cell(),
            "nb201",
            "cell",
            data,
            &tiny_config(),
            &plain,
            &mut |_| {},
        )
        .expect_err("refused");
        assert!(err.to_string().contains("autodiff"), "{err}");
    }
}
