//! Meta-training the AON on inner problems, one meta-step at a time.

use crate::aon::{Aon, AonConfig};
use crate::aon_parameters::{
    flatten_parameters, gradient_norm, gradients_from_flat, perturbed, scale_gradients,
};
use crate::error::AonError;
use crate::inner_problem::{CellPool, InnerProblem, InnerProblemConfig, InnerProblemSampler};
use crate::inner_run::InnerRun;
use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use metanas_data::ImageDataset;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// How the meta-gradient is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaGradientMethod {
    /// Truncated first-order backpropagation: the inner gradients are
    /// constants, the AON's updates keep their graph; one unroll per problem.
    FirstOrder,
    /// Antithetic evolution strategies (as for VeLO): `es_pairs` pairs of
    /// perturbed AONs, two unrolls each; no backpropagation through the AON.
    Evolution,
}

/// Settings of an [`AonMetaTrainer`].
#[derive(Config, Debug)]
pub struct AonMetaTrainerConfig {
    /// The AON to meta-train.
    pub aon: AonConfig,
    /// The inner problems (network size, tasks, horizon `K`).
    pub problems: InnerProblemConfig,
    /// Steps of one truncation window `T` (each meta-step advances each of its
    /// problems by this many steps; a problem runs `K / T` windows).
    #[config(default = 20)]
    pub unroll: usize,
    /// How the meta-gradient is estimated. Evolution strategies are the
    /// default: at an equal CPU budget they train the better AON
    /// (`docs/decisions/0007-*`; `bench-aon --method first-order` compares).
    #[config(default = "MetaGradientMethod::Evolution")]
    pub method: MetaGradientMethod,
    /// Inner problems advanced (and averaged) per meta-step.
    #[config(default = 1)]
    pub problems_per_step: usize,
    /// Adam learning rate of the AON's weights.
    #[config(default = 1e-3)]
    pub meta_learning_rate: f64,
    /// Meta-gradients with a larger global L2 norm are scaled down to it.
    #[config(default = 1.0)]
    pub max_gradient_norm: f64,
    /// Weight of the mean training loss over the window, added to the
    /// validation loss at its end (0: validation loss only).
    #[config(default = 0.0)]
    pub train_loss_weight: f64,
    /// Antithetic pairs per problem and meta-step ([`MetaGradientMethod::Evolution`]).
    #[config(default = 2)]
    pub es_pairs: usize,
    /// Perturbation scale of evolution strategies.
    #[config(default = 0.01)]
    pub es_sigma: f64,
    /// Score windows with batch norm's running statistics, as
    /// `metanas_net::evaluate` scores a trained candidate (true), or with the
    /// validation batch's own statistics (false: a steadier signal for runs
    /// too short for the running statistics to settle).
    #[config(default = true)]
    pub score_with_running_statistics: bool,
    /// Validation images the meta-loss is measured on (per problem).
    #[config(default = 100)]
    pub validation_examples: usize,
    /// Seed of the AON's initial weights.
    #[config(default = 0)]
    pub seed: u64,
}

impl AonMetaTrainerConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        self.aon.check()?;
        self.problems.check()?;
        let bad = |m: String| Err(AonError::InvalidConfig(m));
        if self.unroll == 0 || self.problems_per_step == 0 || self.validation_examples == 0 {
            return bad(
                "unroll, problems_per_step and validation_examples must be at least 1".into(),
            );
        }
        if !(self.meta_learning_rate.is_finite() && self.meta_learning_rate > 0.0) {
            return bad(format!(
                "meta_learning_rate must be positive, got {}",
                self.meta_learning_rate
            ));
        }
        if !(self.max_gradient_norm.is_finite() && self.max_gradient_norm > 0.0) {
            return bad(format!(
                "max_gradient_norm must be positive, got {}",
                self.max_gradient_norm
            ));
        }
        if !(self.train_loss_weight.is_finite() && self.train_loss_weight >= 0.0) {
            return bad(format!(
                "train_loss_weight must be ≥ 0, got {}",
                self.train_loss_weight
            ));
        }
        if self.method == MetaGradientMethod::Evolution
            && (self.es_pairs == 0 || !(self.es_sigma.is_finite() && self.es_sigma > 0.0))
        {
            return bad(format!(
                "evolution strategies need es_pairs ≥ 1 and es_sigma > 0, got {} and {}",
                self.es_pairs, self.es_sigma
            ));
        }
        Ok(())
    }
}

/// What one meta-step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaStepReport {
    /// Zero-based meta-step.
    pub step: usize,
    /// Mean validation loss at the end of the windows (the meta-loss).
    pub meta_loss: f64,
    /// Mean training loss over the windows.
    pub train_loss: f64,
    /// Mean inner step (position in the horizon) at the start of the windows.
    pub mean_inner_step: f64,
    /// Global L2 norm of the meta-gradient before clipping.
    pub gradient_norm: f64,
    /// Whether the gradient was clipped.
    pub clipped: bool,
    /// Whether the update was skipped (no finite meta-gradient).
    pub skipped: bool,
    /// Inner runs that diverged in this meta-step (restarted on the next).
    pub diverged_runs: usize,
    /// Wall-clock seconds of the meta-step.
    pub seconds: f64,
}

/// What [`AonMetaTrainer::save`] writes beside the AON and the meta-optimizer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainerProgress {
    config: AonMetaTrainerConfig,
    meta_steps: usize,
    history: Vec<MetaStepReport>,
}

/// File of the meta-optimizer's state inside a trainer folder.
pub const META_OPTIMIZER_FILE: &str = "meta_optimizer.bpk";
/// File of the trainer's settings and history inside a trainer folder.
pub const TRAINER_FILE: &str = "meta_trainer.json";

/// Meta-trains an AON. Drive it with [`Self::meta_step`] from your own loop (or
/// [`Self::run`]); [`Self::save`] and [`Self::load`] checkpoint it.
///
/// A checkpoint holds the AON, the meta-optimizer's state, the settings and the
/// history; the inner runs in progress are not saved, so a resumed trainer
/// starts fresh inner problems.
pub struct AonMetaTrainer {
    config: AonMetaTrainerConfig,
    aon: Aon,
    meta_optimizer: ModuleOptimizer,
    sampler: InnerProblemSampler,
    runs: Vec<Option<InnerRun>>,
    meta_steps: usize,
    history: Vec<MetaStepReport>,
    device: Device,
}

impl AonMetaTrainer {
    /// A trainer of a fresh AON on tasks of `dataset` and meta-training cells,
    /// on `device` (its autodiff form is used).
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] for bad settings; the data crate's error when
    /// the dataset cannot supply the tasks.
    pub fn new(
        config: AonMetaTrainerConfig,
        dataset: ImageDataset,
        device: &Device,
    ) -> crate::error::Result<Self> {
        config.check()?;
        let device = device.clone().autodiff();
        let aon =
            metanas_seeding::seeded_module(&device, config.seed, || config.aon.init(&device))?;
        Self::assemble(config, aon, dataset, device)
    }

    /// A trainer that continues from an existing AON (e.g. one loaded from disk).
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn from_aon(
        config: AonMetaTrainerConfig,
        aon: Aon,
        dataset: ImageDataset,
        device: &Device,
    ) -> crate::error::Result<Self> {
        config.check()?;
        let device = device.clone().autodiff();
        let aon = aon.to_device(&device);
        Self::assemble(config, aon, dataset, device)
    }

    fn assemble(
        config: AonMetaTrainerConfig,
        aon: Aon,
        dataset: ImageDataset,
        device: Device,
    ) -> crate::error::Result<Self> {
        let sampler =
            InnerProblemSampler::new(config.problems.clone(), dataset, CellPool::MetaTraining)?;
        Ok(Self {
            runs: (0..config.problems_per_step).map(|_| None).collect(),
            meta_optimizer: AdamConfig::new().init(),
            config,
            aon,
            sampler,
            meta_steps: 0,
            history: Vec::new(),
            device,
        })
    }

    /// The settings.
    pub fn config(&self) -> &AonMetaTrainerConfig {
        &self.config
    }

    /// Meta-steps taken (including those before a reload).
    pub fn meta_steps(&self) -> usize {
        self.meta_steps
    }

    /// Every meta-step's report (including those before a reload).
    pub fn history(&self) -> &[MetaStepReport] {
        &self.history
    }

    /// The AON as trained so far, without autodiff (ready for [`crate::AonOptimizer`]).
    pub fn aon(&self) -> Aon {
        self.aon.clone().valid()
    }

    /// One meta-step: advances each of `problems_per_step` inner runs by one
    /// window (starting a new problem, drawn with `rng`, where a run has
    /// finished or diverged), estimates the meta-gradient, clips it and
    /// updates the AON.
    ///
    /// # Errors
    /// From the data and network crates (building a problem).
    pub fn meta_step<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> crate::error::Result<MetaStepReport> {
        let start = Instant::now();
        let c = &self.config;
        let (unroll, weight, method, running) = (
            c.unroll,
            c.train_loss_weight,
            c.method,
            c.score_with_running_statistics,
        );
        let mut losses = Vec::new();
        let mut train_losses = Vec::new();
        let mut inner_steps = Vec::new();
        let mut diverged = 0usize;
        let mut surrogate = None;
        let mut flat_gradient: Option<Vec<f32>> = None;
        let base = self.aon.clone().valid();
        let base_flat = if method == MetaGradientMethod::Evolution {
            flatten_parameters(&base)
        } else {
            Vec::new()
        };
        for slot in 0..self.runs.len() {
            let mut run = match self.runs[slot].take() {
                Some(run) if !run.finished() => run,
                _ => {
                    let problem = self.sampler.sample(rng);
                    let p = self.sampler.config();
                    InnerRun::start(
                        problem,
                        p.horizon,
                        p.batch_size,
                        self.config.validation_examples,
                        &self.device,
                    )?
                }
            };
            inner_steps.push(run.step() as f64);
            match method {
                MetaGradientMethod::FirstOrder => {
                    let outcome = run.window(&self.aon, unroll, true, weight, running)?;
                    if outcome.diverged {
                        diverged += 1;
                        continue;
                    }
                    losses.push(outcome.validation_loss);
                    train_losses.push(outcome.train_loss);
                    if let Some(s) = outcome.surrogate {
                        surrogate = Some(match surrogate.take() {
                            Some(total) => total + s,
                            None => s,
                        });
                    }
                }
                MetaGradientMethod::Evolution => {
                    let sigma = self.config.es_sigma as f32;
                    let pairs = self.config.es_pairs;
                    let gradient = flat_gradient.get_or_insert_with(|| vec![0.0; base_flat.len()]);
                    let mut advanced: Option<InnerRun> = None;
                    let mut pair_ok = false;
                    for _ in 0..pairs {
                        let noise: Vec<f32> =
                            (0..base_flat.len()).map(|_| standard_normal(rng)).collect();
                        let mut plus_run = run.fork()?;
                        let mut minus_run = run.fork()?;
                        let plus = plus_run.window(
                            &perturbed(&base, &noise, sigma),
                            unroll,
                            false,
                            0.0,
                            running,
                        )?;
                        let minus = minus_run.window(
                            &perturbed(&base, &noise, -sigma),
                            unroll,
                            false,
                            0.0,
                            running,
                        )?;
                        let objective = |o: &crate::inner_run::WindowOutcome| {
                            o.validation_loss + weight * o.train_loss
                        };
                        let (lp, lm) = (objective(&plus), objective(&minus));
                        if !(lp.is_finite() && lm.is_finite()) {
                            continue;
                        }
                        pair_ok = true;
                        let coefficient = ((lp - lm)
                            / (2.0
                                * f64::from(sigma)
                                * self.config.problems_per_step as f64
                                * pairs as f64)) as f32;
                        for (g, e) in gradient.iter_mut().zip(&noise) {
                            *g += coefficient * e;
                        }
                        losses.push(0.5 * (plus.validation_loss + minus.validation_loss));
                        train_losses.push(0.5 * (plus.train_loss + minus.train_loss));
                        if advanced.is_none() {
                            advanced = Some(plus_run);
                        }
                    }
                    if !pair_ok {
                        diverged += 1;
                        continue;
                    }
                    if let Some(next) = advanced {
                        run = next;
                    }
                }
            }
            self.runs[slot] = Some(run);
        }
        let grads = match method {
            MetaGradientMethod::FirstOrder => surrogate.map(|s| {
                let s = s / self.config.problems_per_step as f64;
                GradientsParams::from_grads(s.backward(), &self.aon)
            }),
            MetaGradientMethod::Evolution => {
                let inner = self.device.clone().without_autodiff();
                flat_gradient.map(|g| gradients_from_flat(&base, &g, &inner))
            }
        };
        let mut report = MetaStepReport {
            step: self.meta_steps,
            meta_loss: mean(&losses),
            train_loss: mean(&train_losses),
            mean_inner_step: mean(&inner_steps),
            gradient_norm: f64::NAN,
            clipped: false,
            skipped: true,
            diverged_runs: diverged,
            seconds: 0.0,
        };
        if let Some(grads) = grads {
            let norm = gradient_norm(&self.aon, &grads);
            report.gradient_norm = norm;
            if norm.is_finite() {
                let grads = if norm > self.config.max_gradient_norm {
                    report.clipped = true;
                    scale_gradients(&self.aon, grads, self.config.max_gradient_norm / norm)
                } else {
                    grads
                };
                self.aon = self.meta_optimizer.step(
                    self.config.meta_learning_rate,
                    self.aon.clone(),
                    grads,
                );
                report.skipped = false;
            }
        }
        self.meta_steps += 1;
        report.seconds = start.elapsed().as_secs_f64();
        self.history.push(report.clone());
        Ok(report)
    }

    /// The meta-objective of the current AON on fixed `problems`: each starts
    /// fresh, is trained for the whole horizon `K` and scored by its
    /// validation loss (as meta-training scores its windows); the mean over
    /// problems (infinite if one diverged). Nothing is updated.
    ///
    /// # Errors
    /// From the data and network crates (building a problem).
    pub fn meta_loss_on(&self, problems: &[InnerProblem]) -> crate::error::Result<f64> {
        let aon = self.aon();
        let p = self.sampler.config();
        let mut losses = Vec::with_capacity(problems.len());
        for problem in problems {
            let mut run = InnerRun::start(
                problem.clone(),
                p.horizon,
                p.batch_size,
                self.config.validation_examples,
                &self.device,
            )?;
            let outcome = run.window(
                &aon,
                p.horizon,
                false,
                0.0,
                self.config.score_with_running_statistics,
            )?;
            losses.push(if outcome.diverged {
                f64::INFINITY
            } else {
                outcome.validation_loss
            });
        }
        Ok(mean(&losses))
    }

    /// The sampler of meta-training problems (meta-training cells, the
    /// trainer's dataset).
    pub fn sampler(&self) -> &InnerProblemSampler {
        &self.sampler
    }

    /// `steps` meta-steps, calling `progress` after each.
    ///
    /// # Errors
    /// As [`Self::meta_step`].
    pub fn run<R: Rng + ?Sized>(
        &mut self,
        steps: usize,
        rng: &mut R,
        mut progress: impl FnMut(&MetaStepReport),
    ) -> crate::error::Result<Vec<MetaStepReport>> {
        let mut reports = Vec::with_capacity(steps);
        for _ in 0..steps {
            let report = self.meta_step(rng)?;
            progress(&report);
            reports.push(report);
        }
        Ok(reports)
    }

    /// Saves the trainer into folder `dir`: the AON (`aon.json`, `aon.bpk`),
    /// the meta-optimizer's state and the settings and history.
    ///
    /// # Errors
    /// [`AonError::Io`], [`AonError::Record`] or [`AonError::Json`] when a file
    /// cannot be written.
    pub fn save(&self, dir: &Path) -> crate::error::Result<()> {
        self.aon().save(dir)?;
        let optimizer = dir.join(META_OPTIMIZER_FILE);
        self.meta_optimizer
            .save(&optimizer)
            .map_err(|e| AonError::Record {
                path: optimizer,
                message: format!("{e:?}"),
            })?;
        let progress = TrainerProgress {
            config: self.config.clone(),
            meta_steps: self.meta_steps,
            history: self.history.clone(),
        };
        let path = dir.join(TRAINER_FILE);
        let text = serde_json::to_string_pretty(&progress).map_err(|e| AonError::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&path, text).map_err(|source| AonError::Io { path, source })
    }

    /// Loads a trainer saved by [`Self::save`], to continue on tasks of `dataset`.
    ///
    /// # Errors
    /// [`AonError::Io`], [`AonError::Json`] or [`AonError::Record`] naming the
    /// missing or damaged file.
    pub fn load(dir: &Path, dataset: ImageDataset, device: &Device) -> crate::error::Result<Self> {
        let path = dir.join(TRAINER_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| AonError::Io {
            path: path.clone(),
            source,
        })?;
        let progress: TrainerProgress =
            serde_json::from_str(&text).map_err(|e| AonError::Json {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let device = device.clone().autodiff();
        let aon = Aon::load(dir, &device)?;
        let mut trainer = Self::from_aon(progress.config, aon, dataset, &device)?;
        let optimizer = dir.join(META_OPTIMIZER_FILE);
        trainer.meta_optimizer =
            AdamConfig::new()
                .init()
                .load(&optimizer)
                .map_err(|e| AonError::Record {
                    path: optimizer,
                    message: format!("{e:?}"),
                })?;
        trainer.meta_steps = progress.meta_steps;
        trainer.history = progress.history;
        Ok(trainer)
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// A standard normal draw (Box–Muller), from the caller's generator.
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}
