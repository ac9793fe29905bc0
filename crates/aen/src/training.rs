//! The fitting loop shared by from-scratch fits and meta-training:
//! regression plus a pairwise ranking term, Adam, early stopping.

use crate::aen::Aen;
use crate::encoded_batch::EncodedBatch;
use crate::error::AenError;
use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// Settings of one fit of an [`Aen`] (see [`crate::fit`] and [`crate::MetaAen::meta_train`]).
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Adam's learning rate.
    #[config(default = 2e-3)]
    pub learning_rate: f64,
    /// Cells per optimisation step.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Most passes over the training cells.
    #[config(default = 300)]
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation loss.
    #[config(default = 30)]
    pub patience: usize,
    /// Share of the cells held out for early stopping (none when it rounds to 0 cells).
    #[config(default = 0.15)]
    pub validation_fraction: f64,
    /// Weight λ of the pairwise logistic ranking loss added to the MSE.
    #[config(default = 0.5)]
    pub rank_weight: f64,
    /// Seed of the network's initialisation, the split and the batch order.
    #[config(default = 0)]
    pub seed: u64,
}

impl TrainingConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`AenError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        let bad = |m: String| Err(AenError::InvalidConfig(m));
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning_rate must be positive, got {}",
                self.learning_rate
            ));
        }
        if self.batch_size < 2 {
            return bad("batch_size must be at least 2 (the ranking loss compares pairs)".into());
        }
        if self.max_epochs == 0 {
            return bad("max_epochs must be at least 1".into());
        }
        if !(0.0..0.9).contains(&self.validation_fraction) {
            return bad(format!(
                "validation_fraction must be in [0, 0.9), got {}",
                self.validation_fraction
            ));
        }
        if !(self.rank_weight.is_finite() && self.rank_weight >= 0.0) {
            return bad(format!("rank_weight must be ≥ 0, got {}", self.rank_weight));
        }
        Ok(())
    }
}

/// MSE + λ · mean pairwise logistic loss over neighbouring rows of the batch
/// (rows come in random order, so neighbours are random pairs), per task column.
///
/// # Shapes
/// `predicted`, `target`: `[batch, tasks]` → `[1]`
pub fn regression_ranking_loss(
    predicted: Tensor<2>,
    target: Tensor<2>,
    rank_weight: f64,
) -> Tensor<1> {
    let [b, _] = predicted.dims();
    let mse = (predicted.clone() - target.clone()).square().mean();
    if rank_weight <= 0.0 || b < 2 {
        return mse;
    }
    let dp = predicted.clone().narrow(0, 1, b - 1) - predicted.narrow(0, 0, b - 1); // [b-1, tasks]
    let dt = (target.clone().narrow(0, 1, b - 1) - target.narrow(0, 0, b - 1)).sign(); // [b-1, tasks]
    let rank = softplus(-(dt * dp), 1.0).mean();
    mse + rank * rank_weight
}

/// What a fit did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// Epochs run.
    pub epochs: usize,
    /// Epoch (1-based) whose model was kept.
    pub best_epoch: usize,
    /// Validation loss of the kept model (training loss when there was no validation split).
    pub best_loss: f64,
    /// The same loss after every epoch: the learning curve.
    pub epoch_losses: Vec<f64>,
}

/// Splits `0..n` into (train, validation) with `fraction` held out, seeded.
pub(crate) fn split_indices(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x5eed_5eed));
    let held = ((n as f64) * fraction).round() as usize;
    let held = if n - held < 2 { 0 } else { held };
    let validation = order.split_off(n - held);
    (order, validation)
}

/// Trains `members` models of `model` from seeds `config.seed + 1000·i`;
/// returns them in inference mode with their reports.
pub(crate) fn train_ensemble(
    model: &crate::aen::AenConfig,
    members: usize,
    batch: &EncodedBatch,
    targets: &[f32],
    outputs: usize,
    config: &TrainingConfig,
    device: &Device,
) -> crate::error::Result<Vec<(Aen, TrainingReport)>> {
    (0..members)
        .map(|i| {
            let seed = config.seed.wrapping_add(1000 * i as u64);
            let net = metanas_seeding::seeded_module(device, seed, || model.init(device))?;
            let (net, report) = train(
                net,
                batch,
                targets,
                outputs,
                &config.clone().with_seed(seed),
                device,
            )?;
            Ok((net.valid(), report))
        })
        .collect()
}

/// Trains `model` on rows of `batch` with targets `targets` (`[cells, outputs]`
/// row-major, standardised), both on the autodiff `device`; keeps the model
/// of the best validation loss. On the CPU it runs on a thread of rayon's pool
/// ([`metanas_device::on_compute_pool`]).
pub(crate) fn train(
    model: Aen,
    batch: &EncodedBatch,
    targets: &[f32],
    outputs: usize,
    config: &TrainingConfig,
    device: &Device,
) -> crate::error::Result<(Aen, TrainingReport)> {
    metanas_device::on_compute_pool(device, || {
        train_here(model, batch, targets, outputs, config, device)
    })
}

/// [`train`] on the calling thread.
fn train_here(
    mut model: Aen,
    batch: &EncodedBatch,
    targets: &[f32],
    outputs: usize,
    config: &TrainingConfig,
    device: &Device,
) -> crate::error::Result<(Aen, TrainingReport)> {
    config.check()?;
    let n = batch.len();
    if targets.len() != n * outputs {
        return Err(AenError::InvalidData(format!(
            "{} targets for {n} cells × {outputs} outputs",
            targets.len()
        )));
    }
    let target = Tensor::<2>::from_data(TensorData::new(targets.to_vec(), [n, outputs]), device);
    let (train_rows, validation_rows) = split_indices(n, config.validation_fraction, config.seed);
    let rows = |idx: &[usize]| -> crate::error::Result<(EncodedBatch, Tensor<2>)> {
        let b = batch.select(idx)?;
        let ids: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        let ids =
            Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(ids, [idx.len()]), device);
        Ok((b, target.clone().select(0, ids)))
    };
    let validation = if validation_rows.is_empty() {
        None
    } else {
        Some(rows(&validation_rows)?)
    };
    let mut optimizer: ModuleOptimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(17));
    let mut order = train_rows.clone();
    let mut best = (f64::INFINITY, 0usize, model.clone());
    let mut epochs = 0;
    let mut epoch_losses = Vec::new();
    for epoch in 0..config.max_epochs {
        epochs = epoch + 1;
        order.shuffle(&mut rng);
        let mut epoch_loss = 0.0;
        let mut steps = 0;
        for chunk in order.chunks(config.batch_size) {
            if chunk.len() < 2 {
                continue;
            }
            let (b, t) = rows(chunk)?;
            let loss = regression_ranking_loss(model.forward(&b), t, config.rank_weight);
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                return Err(AenError::Diverged { epoch, loss: value });
            }
            epoch_loss += value;
            steps += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate, model, grads);
        }
        let score = match &validation {
            Some((b, t)) => {
                let loss = regression_ranking_loss(
                    model.forward(b).detach(),
                    t.clone(),
                    config.rank_weight,
                );
                f64::from(loss.into_scalar::<f32>())
            }
            None => epoch_loss / steps.max(1) as f64,
        };
        epoch_losses.push(score);
        if score < best.0 {
            best = (score, epoch + 1, model.clone());
        } else if epoch + 1 - best.1 >= config.patience.max(1) {
            break;
        }
    }
    let (best_loss, best_epoch, model) = best;
    Ok((
        model,
        TrainingReport {
            epochs,
            best_epoch,
            best_loss,
            epoch_losses,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_term_prefers_the_right_order() {
        let device = metanas_device::test_device();
        let t = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0], [2, 1]), &device);
        let right = Tensor::<2>::from_data(TensorData::new(vec![0.4f32, 0.6], [2, 1]), &device);
        let wrong = Tensor::<2>::from_data(TensorData::new(vec![0.6f32, 0.4], [2, 1]), &device);
        let l = |p: Tensor<2>, w: f64| {
            f64::from(regression_ranking_loss(p, t.clone(), w).into_scalar::<f32>())
        };
        // The ranking term alone: softplus(−0.2) for the right order < softplus(0.2).
        let rank = |p: Tensor<2>| l(p.clone(), 1.0) - l(p, 0.0);
        assert!((rank(right.clone()) - (1.0 + (-0.2f64).exp()).ln()).abs() < 1e-5);
        assert!(rank(right) < rank(wrong));
    }

    #[test]
    fn split_is_seeded_and_disjoint() {
        let (a, b) = split_indices(100, 0.2, 3);
        assert_eq!((a.len(), b.len()), (80, 20));
        assert_eq!(split_indices(100, 0.2, 3), (a.clone(), b.clone()));
        assert!(b.iter().all(|i| !a.contains(i)));
        assert!(TrainingConfig::new().with_batch_size(1).check().is_err());
    }
}
