//! One optimisation step of an image classifier: forward pass, cross-entropy,
//! divergence check, backward pass, update.

use crate::error::Result;
use crate::image_classifier::ImageClassifier;
use crate::loss_tracker::LossTracker;
use crate::model_optimizer::ModelOptimizer;
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::GradientsParams;
use metanas_data::ImageBatch;

/// Where a step stands in its run, and its learning rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSchedule {
    /// Zero-based step.
    pub step: usize,
    /// Steps planned for the run.
    pub total_steps: usize,
    /// Learning rate of this step.
    pub learning_rate: f64,
}

/// Trains `model` one step on `batch` and returns the updated model and the
/// batch's loss. `losses` records the loss and gives the optimizer its
/// [`TrainingFeedback`](crate::TrainingFeedback). Tensors must be on an
/// autodiff device.
///
/// The training loops call this inside
/// [`on_compute_pool`](metanas_device::on_compute_pool), so that the whole
/// step runs on one thread of rayon's pool on a CPU device.
///
/// # Errors
/// [`NetError::Diverged`](crate::NetError::Diverged) when the loss is NaN or
/// infinite (the model is dropped: it would be the diverged one).
pub fn classification_step<M, O>(
    model: M,
    optimizer: &mut O,
    loss_fn: &CrossEntropyLoss,
    batch: ImageBatch,
    schedule: StepSchedule,
    losses: &mut LossTracker,
) -> Result<(M, f64)>
where
    M: ImageClassifier,
    O: ModelOptimizer,
{
    let logits = model.forward_classes(batch.images); // [batch, classes]
    let loss = loss_fn.forward(logits, batch.targets); // [1]
    let loss_value = f64::from(loss.clone().into_scalar::<f32>());
    let feedback = losses.record(schedule.step, schedule.total_steps, loss_value)?;
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optimizer.step(schedule.learning_rate, model, grads, &feedback);
    Ok((model, loss_value))
}
