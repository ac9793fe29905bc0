//! One candidate network being trained by the AON during meta-training, a
//! window (truncation) of `T` steps at a time, exactly as
//! [`metanas_net::train`] would train it with an [`crate::AonOptimizer`]: same
//! batch order, same cosine schedule over the horizon, same feedback.

use crate::aon::Aon;
use crate::coordinate_features::{AonState, prepare_step};
use crate::error::Result;
use crate::inner_problem::InnerProblem;
use crate::run_feedback::FeedbackInputs;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor};
use metanas_net::{CellNetwork, LearningRateSchedule, LossTracker};
use std::collections::HashMap;

/// The validation loss of a window's end, and what the meta-gradient needs.
pub(crate) struct WindowOutcome {
    /// Mean training loss over the window's steps.
    pub train_loss: f64,
    /// Validation loss after the window (batch statistics), if computed.
    pub validation_loss: f64,
    /// The first-order surrogate whose gradient w.r.t. the AON is the
    /// meta-gradient (only when the AON was on an autodiff device).
    pub surrogate: Option<Tensor<1>>,
    /// Whether the training loss stopped being finite.
    pub diverged: bool,
}

/// A training run in progress.
pub(crate) struct InnerRun {
    pub problem: InnerProblem,
    network: CellNetwork,
    states: HashMap<ParamId, AonState>,
    step: usize,
    horizon: usize,
    batch_size: usize,
    epoch: u64,
    order: Vec<Vec<usize>>,
    position: usize,
    losses: LossTracker,
    validation_images: Tensor<4>,
    validation_targets: Tensor<1, Int>,
}

impl InnerRun {
    /// Starts `problem` on the autodiff `device`; validation uses up to
    /// `validation_examples` of the task's validation images.
    pub fn start(
        problem: InnerProblem,
        horizon: usize,
        batch_size: usize,
        validation_examples: usize,
        device: &Device,
    ) -> Result<Self> {
        let network = problem.init_network(device)?;
        let validation = &problem.task.validation;
        let indices: Vec<usize> = (0..validation.len().min(validation_examples.max(1))).collect();
        let batch = validation.batch_of(&indices, Some(&problem.normalisation), device)?;
        let order = problem
            .task
            .train
            .batches(batch_size, Some(problem.seed))
            .collect();
        Ok(Self {
            problem,
            network,
            states: HashMap::new(),
            step: 0,
            horizon,
            batch_size,
            epoch: 0,
            order,
            position: 0,
            losses: LossTracker::new(),
            validation_images: batch.images,
            validation_targets: batch.targets,
        })
    }

    /// An independent copy (batch-norm running statistics are shared between
    /// plain clones of a Burn module, so the network is rebuilt from its record).
    pub fn fork(&self) -> Result<Self> {
        let device = self.validation_images.device();
        let network = metanas_seeding::unseeded(|| self.problem.network_config().init(&device))?
            .load_record(self.network.clone().into_record());
        Ok(Self {
            problem: self.problem.clone(),
            network,
            states: self.states.clone(),
            step: self.step,
            horizon: self.horizon,
            batch_size: self.batch_size,
            epoch: self.epoch,
            order: self.order.clone(),
            position: self.position,
            losses: self.losses,
            validation_images: self.validation_images.clone(),
            validation_targets: self.validation_targets.clone(),
        })
    }

    /// Whether the run has taken all its steps.
    pub fn finished(&self) -> bool {
        self.step >= self.horizon
    }

    /// Steps taken so far.
    pub fn step(&self) -> usize {
        self.step
    }

    fn next_indices(&mut self) -> Vec<usize> {
        if self.position >= self.order.len() {
            self.epoch += 1;
            let seed = self.problem.seed.wrapping_add(self.epoch);
            self.order = self
                .problem
                .task
                .train
                .batches(self.batch_size, Some(seed))
                .collect();
            self.position = 0;
        }
        self.position += 1;
        self.order
            .get(self.position - 1)
            .cloned()
            .unwrap_or_default()
    }

    /// Up to `steps` training steps with `aon`, then the validation loss.
    ///
    /// With an autodiff `aon` (`track`), the outcome carries the first-order
    /// surrogate: `Σ_p ⟨∂L_val/∂θ_p, U_p⟩ + w/T · Σ_t Σ_p ⟨g_{t,p}, U_{t,p}⟩`, where
    /// `U_p` sums the AON's updates of parameter `p` in the window (with their
    /// graph to the AON's weights) and the inner gradients `g` are constants.
    pub fn window(
        &mut self,
        aon: &Aon,
        steps: usize,
        track: bool,
        train_loss_weight: f64,
        running_statistics: bool,
    ) -> Result<WindowOutcome> {
        // On a pool thread, as metanas_net::train runs its steps.
        metanas_net::on_compute_pool(&self.validation_images.device(), || {
            self.window_here(aon, steps, track, train_loss_weight, running_statistics)
        })
    }

    /// [`Self::window`] on the calling thread.
    fn window_here(
        &mut self,
        aon: &Aon,
        steps: usize,
        track: bool,
        train_loss_weight: f64,
        running_statistics: bool,
    ) -> Result<WindowOutcome> {
        let device = self.validation_images.device();
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let feedback_on = aon.uses_feedback();
        let mut accumulated: HashMap<ParamId, Tensor<1>> = HashMap::new();
        let mut surrogate: Option<Tensor<1>> = None;
        let (mut train_sum, mut taken) = (0.0, 0usize);
        let planned = steps.min(self.horizon.saturating_sub(self.step));
        for _ in 0..planned {
            let indices = self.next_indices();
            let batch = self.problem.task.train.batch_of(
                &indices,
                Some(&self.problem.normalisation),
                &device,
            )?;
            let logits = self.network.forward(batch.images); // [batch, classes]
            let loss = loss_fn.forward(logits, batch.targets); // [1]
            let loss_value = f64::from(loss.clone().into_scalar::<f32>());
            let Ok(feedback) = self.losses.record(self.step, self.horizon, loss_value) else {
                // A non-finite loss: the run diverged.
                return Ok(WindowOutcome {
                    train_loss: f64::INFINITY,
                    validation_loss: f64::INFINITY,
                    surrogate: None,
                    diverged: true,
                });
            };
            let mut grads = GradientsParams::from_grads(loss.backward(), &self.network);
            let inputs = if feedback_on {
                FeedbackInputs::from_feedback(&feedback)
            } else {
                FeedbackInputs::NONE
            };
            let lr = LearningRateSchedule::Cosine.rate(1.0, self.step, self.horizon);
            let mut mapper = AonStepMapper {
                aon,
                grads: &mut grads,
                states: &mut self.states,
                accumulated: &mut accumulated,
                feedback: inputs,
                learning_rate: lr,
                track,
                // ∂L_t/∂φ = ⟨g_t, ∂θ_t/∂φ⟩ with θ_t = θ_start + U_t.
                train_term_weight: (track && train_loss_weight > 0.0)
                    .then(|| train_loss_weight / planned as f64),
                surrogate: &mut surrogate,
            };
            self.network = self.network.clone().map(&mut mapper);
            self.step += 1;
            taken += 1;
            train_sum += loss_value;
        }
        // Validation loss at the window's end, with batch norm's running
        // statistics as `metanas_net::evaluate` scores it (but with
        // gradients), or with the validation batch's statistics.
        let scored = if running_statistics {
            self.network.clone().freeze().map(&mut RequireGrad)
        } else {
            self.network.clone()
        };
        let logits = scored.forward(self.validation_images.clone());
        let validation = loss_fn.forward(logits, self.validation_targets.clone());
        let validation_loss = f64::from(validation.clone().into_scalar::<f32>());
        if track && validation_loss.is_finite() && !accumulated.is_empty() {
            let grads = GradientsParams::from_grads(validation.backward(), &scored);
            let mut collector = FlatGradients {
                grads: &grads,
                flat: Vec::new(),
            };
            self.network.visit(&mut collector);
            for (id, v) in collector.flat {
                if let Some(sum) = accumulated.get(&id) {
                    add_term(&mut surrogate, (Tensor::from_inner(v) * sum.clone()).sum());
                }
            }
        }
        Ok(WindowOutcome {
            train_loss: if taken > 0 {
                train_sum / taken as f64
            } else {
                f64::NAN
            },
            validation_loss,
            surrogate,
            diverged: !validation_loss.is_finite(),
        })
    }
}

fn add_term(surrogate: &mut Option<Tensor<1>>, term: Tensor<1>) {
    *surrogate = Some(match surrogate.take() {
        Some(s) => s + term,
        None => term,
    });
}

/// Makes every parameter require gradients again (after `freeze`, which also
/// switches batch norm to its running statistics).
struct RequireGrad;

impl ModuleMapper for RequireGrad {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.set_require_grad(true)
    }
}

/// Every parameter's gradient, flattened to `[n]`, in the module's visiting
/// order (parameter ids are random per process, so any map keyed by them
/// iterates in a different order in every run; sums over parameters follow
/// this list instead, or meta-training is not reproducible).
struct FlatGradients<'a> {
    grads: &'a GradientsParams,
    flat: Vec<(ParamId, Tensor<1>)>,
}

impl ModuleVisitor for FlatGradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let n = g.shape().num_elements();
            self.flat.push((param.id, g.reshape([n])));
        }
    }
}

/// Applies one AON step to every parameter that has a gradient.
struct AonStepMapper<'a> {
    aon: &'a Aon,
    grads: &'a mut GradientsParams,
    states: &'a mut HashMap<ParamId, AonState>,
    accumulated: &'a mut HashMap<ParamId, Tensor<1>>,
    feedback: FeedbackInputs,
    learning_rate: f64,
    track: bool,
    train_term_weight: Option<f64>,
    surrogate: &'a mut Option<Tensor<1>>,
}

impl ModuleMapper for AonStepMapper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let shape = tensor.shape();
        let n = shape.num_elements();
        let require_grad = tensor.is_require_grad();
        let value = tensor.inner().reshape([n]); // [n]
        let grad = grad.reshape([n]); // [n]
        if let (Some(weight), Some(sum)) = (self.train_term_weight, self.accumulated.get(&id)) {
            add_term(
                self.surrogate,
                (Tensor::from_inner(grad.clone()) * sum.clone()).sum() * weight,
            );
        }
        let (inputs, state) = prepare_step(
            value.clone(),
            grad,
            self.states.remove(&id),
            self.feedback,
            self.aon.hypergradient_rate(),
        );
        self.states.insert(id, state);
        let update_inner = if self.track {
            let update = self.aon.update(inputs.lift(), self.learning_rate); // [n], graph to the AON
            let inner = update.clone().inner();
            let sum = match self.accumulated.remove(&id) {
                Some(previous) => previous + update,
                None => update,
            };
            self.accumulated.insert(id, sum);
            inner
        } else {
            self.aon.update(inputs, self.learning_rate)
        };
        let mut updated = Tensor::from_inner((value + update_inner).reshape(shape));
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aon::AonConfig;
    use crate::candidate_training::{CandidateTraining, train_with_aon};
    use crate::inner_problem::{CellPool, InnerProblemConfig, InnerProblemSampler};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The unroll of meta-training trains exactly as `metanas_net::train` does
    /// with an `AonOptimizer` (same batches, schedule, feedback, updates), and
    /// scoring a window does not disturb the run.
    #[test]
    fn windows_reproduce_the_training_loop() {
        let device = Device::flex();
        let aon = AonConfig::new()
            .with_initial_step(1e-2)
            .init(&device)
            .expect("valid");
        let config = InnerProblemConfig::new()
            .with_min_channels(2)
            .with_max_channels(2)
            .with_shots(20)
            .with_validation_shots(10);
        let mnist = metanas_data::shipped::mnist10k().expect("MNIST");
        let sampler = InnerProblemSampler::new(config, mnist, CellPool::All).expect("valid");
        let problem = sampler.sample(&mut StdRng::seed_from_u64(3));
        let training = CandidateTraining {
            steps: 12,
            batch_size: 8,
            eval_every: 0,
        };
        let report = train_with_aon(&problem, &aon, training, &device)
            .expect("trains")
            .report
            .expect("finite");
        let expected: Vec<f64> = report
            .train_losses
            .chunks(4)
            .map(|c| c.iter().map(|&l| f64::from(l)).sum::<f64>() / 4.0)
            .collect();
        let mut run =
            InnerRun::start(problem, 12, 8, 20, &device.clone().autodiff()).expect("starts");
        let autodiff_aon = aon.clone().to_device(&device.clone().autodiff());
        for (window, want) in expected.iter().enumerate() {
            // Alternate tracked and untracked windows: both must train the same.
            let outcome = if window % 2 == 0 {
                run.window(&autodiff_aon, 4, true, 0.5, true)
            } else {
                run.window(&aon, 4, false, 0.0, false)
            }
            .expect("window");
            assert!(
                (outcome.train_loss - want).abs() < 1e-4 * (1.0 + want),
                "window {window}: {} vs {want}",
                outcome.train_loss
            );
            assert_eq!(outcome.surrogate.is_some(), window % 2 == 0);
        }
        assert!(run.finished());
    }
}
