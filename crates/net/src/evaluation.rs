//! Loss and accuracy of a model on a dataset.

use crate::error::Result;
use crate::image_classifier::ImageClassifier;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;
use metanas_data::{ImageDataset, Normalisation};
use metanas_device::on_compute_pool;
use serde::{Deserialize, Serialize};

/// Mean cross-entropy and accuracy over a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean cross-entropy loss.
    pub loss: f64,
    /// Fraction of images classified correctly, in `[0, 1]`.
    pub accuracy: f64,
    /// Number of images.
    pub examples: usize,
}

/// Evaluates `model` in inference mode (batch norm uses its running statistics).
///
/// `device` is where the batches go; pass the model's device (an autodiff
/// device is fine: evaluation runs on its inner device).
///
/// # Errors
/// From the data crate, for indices past the end (never for a whole dataset).
pub fn evaluate<M: ImageClassifier>(
    model: &M,
    dataset: &ImageDataset,
    normalisation: Option<&Normalisation>,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation> {
    let model = model.valid();
    let device = device.clone().without_autodiff();
    // On a pool thread, as the training loop runs its steps.
    on_compute_pool(&device.clone(), move || {
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for indices in dataset.batches(batch_size.max(1), None) {
            let batch = dataset.batch_of(&indices, normalisation, &device)?;
            let logits = model.forward_classes(batch.images); // [batch, classes]
            let loss: f32 = loss_fn
                .forward(logits.clone(), batch.targets.clone())
                .into_scalar();
            loss_sum += f64::from(loss) * indices.len() as f64;
            let hits: i64 = logits
                .argmax(1)
                .flatten::<1>(0, 1)
                .equal(batch.targets)
                .int()
                .sum()
                .into_scalar();
            correct += hits as usize;
        }
        let n = dataset.len().max(1);
        Ok(Evaluation {
            loss: loss_sum / n as f64,
            accuracy: correct as f64 / n as f64,
            examples: dataset.len(),
        })
    })
}
