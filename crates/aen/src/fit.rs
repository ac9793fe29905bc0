//! Fitting a predictor from scratch on (architecture, metric) pairs.

use crate::aen::AenConfig;
use crate::bayesian_head::LinearHead;
use crate::encoded_batch::EncodedBatch;
use crate::error::AenError;
use crate::predictor::{AenPredictor, Standardiser};
use crate::training::{TrainingConfig, train_ensemble};
use burn::config::Config;
use burn::tensor::Device;
use metanas_space::GraphEncoding;

/// Settings of [`fit`].
#[derive(Config, Debug)]
pub struct FitConfig {
    /// The network (its `outputs` is set to 1).
    pub model: AenConfig,
    /// The fitting loop.
    #[config(default = "TrainingConfig::new()")]
    pub training: TrainingConfig,
    /// Ensemble members (different seeds and validation splits).
    #[config(default = 5)]
    pub ensemble: usize,
}

/// Splits `(encoding, value)` pairs, checking the values.
pub(crate) fn unzip_observations(
    observations: &[(GraphEncoding, f64)],
) -> crate::error::Result<(Vec<GraphEncoding>, Vec<f64>)> {
    if observations.is_empty() {
        return Err(AenError::InvalidData("no observations".into()));
    }
    if let Some(i) = observations.iter().position(|(_, v)| !v.is_finite()) {
        return Err(AenError::InvalidData(format!(
            "observation {i} is not finite ({})",
            observations[i].1
        )));
    }
    Ok(observations.iter().cloned().unzip())
}

/// Fits an ensemble of [`crate::Aen`]s from scratch on `observations`
/// (values standardised; MSE + ranking loss; early stopping), on `device`
/// (an inference device; training runs on `device.autodiff()`).
///
/// # Errors
/// [`AenError::InvalidData`] for fewer than 4 observations or non-finite values;
/// [`AenError::Encoding`] for malformed encodings; [`AenError::InvalidConfig`]
/// for bad settings; [`AenError::Diverged`].
pub fn fit(
    observations: &[(GraphEncoding, f64)],
    config: &FitConfig,
    device: &Device,
) -> crate::error::Result<AenPredictor> {
    let (encodings, values) = unzip_observations(observations)?;
    if values.len() < 4 {
        return Err(AenError::InvalidData(format!(
            "fitting needs at least 4 observations, got {}",
            values.len()
        )));
    }
    if config.ensemble == 0 {
        return Err(AenError::InvalidConfig(
            "ensemble must be at least 1".into(),
        ));
    }
    config.training.check()?;
    let model = config.model.clone().with_outputs(1);
    model.check()?;
    let inference = device.clone().without_autodiff();
    let training_device = inference.clone().autodiff();
    let target = Standardiser::of(&values)?;
    let targets: Vec<f32> = values.iter().map(|&v| target.apply(v) as f32).collect();
    let batch = EncodedBatch::new(
        &encodings,
        model.vocabulary_size,
        model.propagation,
        &training_device,
    )?;
    let trained = train_ensemble(
        &model,
        config.ensemble,
        &batch,
        &targets,
        1,
        &config.training,
        &training_device,
    )?;
    let mut members = Vec::with_capacity(trained.len());
    let mut heads = Vec::with_capacity(trained.len());
    for (net, _) in trained {
        let (w, b) = net.head_parameters();
        let mut mean = w;
        mean.extend(b);
        heads.push(LinearHead {
            mean,
            covariance: None,
            noise_variance: 0.0,
        });
        members.push(net);
    }
    AenPredictor::new(model, members, heads, target, &inference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking_metrics::kendall_tau;
    use metanas_space::SearchSpace;
    use metanas_space::nb201::Nb201Space;
    use metanas_space::nb201::vocabulary::{NOR_CONV_1X1, NOR_CONV_3X3};

    /// A synthetic metric every GCN can learn: how many 3×3 convolutions a
    /// cell has, plus half its number of 1×1 convolutions.
    fn synthetic(e: &GraphEncoding) -> f64 {
        e.count_nodes(NOR_CONV_3X3) as f64 + 0.5 * e.count_nodes(NOR_CONV_1X1) as f64
    }

    #[test]
    fn fit_learns_a_synthetic_metric_and_round_trips() {
        let device = metanas_device::test_device();
        let space = Nb201Space;
        let cells: Vec<GraphEncoding> = space
            .enumerate()
            .expect("finite")
            .step_by(97)
            .map(|a| space.encode(&a))
            .collect();
        let obs: Vec<(GraphEncoding, f64)> = cells[..80]
            .iter()
            .map(|e| (e.clone(), synthetic(e)))
            .collect();
        let config = FitConfig::new(
            AenConfig::new(space.vocabulary_size())
                .with_hidden(16)
                .with_features(16),
        )
        .with_ensemble(2)
        .with_training(
            TrainingConfig::new()
                .with_max_epochs(60)
                .with_batch_size(16),
        );
        let predictor = fit(&obs, &config, &device).expect("fits");
        let test = &cells[80..];
        let predictions = predictor.predict(test).expect("valid");
        let mean: Vec<f64> = predictions.iter().map(|p| p.mean).collect();
        let truth: Vec<f64> = test.iter().map(synthetic).collect();
        let tau = kendall_tau(&mean, &truth).expect("valid");
        assert!(tau > 0.6, "τ = {tau}");
        assert!(
            predictions
                .iter()
                .all(|p| p.std.is_finite() && p.std >= 0.0)
        );

        let dir = tempfile::tempdir().expect("temp dir");
        predictor.save(dir.path()).expect("saves");
        let loaded = AenPredictor::load(dir.path(), &device).expect("loads");
        assert_eq!(loaded.ensemble_size(), predictor.ensemble_size());
        // JSON keeps a float to its last bit or the next one.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
        assert_eq!(loaded.heads().len(), predictor.heads().len());
        for (a, b) in loaded.heads().iter().zip(predictor.heads()) {
            let values = |h: &crate::WeightedHead| {
                let mut v = vec![h.weight, h.head.noise_variance];
                v.extend(&h.head.mean);
                v.extend(h.head.covariance.iter().flatten());
                v
            };
            assert_eq!(a.member, b.member);
            let (va, vb) = (values(a), values(b));
            assert!(va.len() == vb.len() && va.iter().zip(&vb).all(|(x, y)| close(*x, *y)));
        }
        // The loaded bodies and heads predict what the saved ones did.
        let again = loaded.predict(test).expect("valid");
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (1.0 + b.abs());
        for (a, b) in again.iter().zip(&predictions) {
            assert!(close(a.mean, b.mean) && close(a.std, b.std), "{a:?} {b:?}");
        }
        assert!(matches!(
            AenPredictor::load(&dir.path().join("none"), &device),
            Err(AenError::Io { .. })
        ));
    }

    #[test]
    fn fit_rejects_bad_observations() {
        let device = metanas_device::test_device();
        let space = Nb201Space;
        let e = space.encode(&space.enumerate().expect("finite").next().expect("a cell"));
        let config = FitConfig::new(AenConfig::new(space.vocabulary_size()));
        assert!(matches!(
            fit(&[], &config, &device),
            Err(AenError::InvalidData(_))
        ));
        let nan = vec![
            (e.clone(), 1.0),
            (e.clone(), f64::NAN),
            (e.clone(), 1.0),
            (e, 2.0),
        ];
        assert!(matches!(
            fit(&nan, &config, &device),
            Err(AenError::InvalidData(_))
        ));
    }
}
