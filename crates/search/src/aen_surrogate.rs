//! The AEN ensemble fitted from scratch as a Bayesian-optimization surrogate.

use crate::error::Result;
use crate::surrogate::{CandidatePool, Surrogate};
use burn::tensor::Device;
use metanas_aen::{
    AenConfig, AenPredictor, EncodedBatch, FitConfig, Prediction, TrainingConfig, fit,
};
use metanas_space::GraphEncoding;

/// An ensemble of [`metanas_aen::Aen`]s refitted from scratch on all
/// observations at every [`Surrogate::fit`]; the ensemble's spread (and each
/// member's head) gives the uncertainty.
#[derive(Debug)]
pub struct AenSurrogate {
    config: FitConfig,
    device: Device,
    predictor: Option<AenPredictor>,
    pool_batch: Option<(u64, EncodedBatch)>,
}

impl AenSurrogate {
    /// A surrogate fitted with `config` on `device` (training runs on its autodiff twin).
    pub fn new(config: FitConfig, device: &Device) -> Self {
        Self {
            config,
            device: device.clone().without_autodiff(),
            predictor: None,
            pool_batch: None,
        }
    }

    /// The settings used by `cargo xtask search --strategy bo`: a 5-member
    /// ensemble of small GCNs (hidden 32, 3 layers, 32 features), at most
    /// 150 epochs with patience 20 — about a second per member on 100 cells.
    pub fn default_config(vocabulary_size: usize) -> FitConfig {
        FitConfig::new(
            AenConfig::new(vocabulary_size)
                .with_hidden(32)
                .with_features(32),
        )
        .with_ensemble(5)
        .with_training(TrainingConfig::new().with_max_epochs(150).with_patience(20))
    }

    /// The fitted predictor, after the first [`Surrogate::fit`].
    pub fn predictor(&self) -> Option<&AenPredictor> {
        self.predictor.as_ref()
    }
}

impl Surrogate for AenSurrogate {
    fn describe(&self) -> String {
        let m = &self.config.model;
        format!(
            "aen(ensemble={}, hidden={}, layers={}, features={}, epochs<={}, patience={})",
            self.config.ensemble,
            m.hidden,
            m.layers,
            m.features,
            self.config.training.max_epochs,
            self.config.training.patience
        )
    }

    fn min_observations(&self) -> usize {
        4
    }

    fn fit(&mut self, observations: &[(GraphEncoding, f64)], seed: u64) -> Result<()> {
        let mut config = self.config.clone();
        config.training.seed = seed;
        self.predictor = Some(fit(observations, &config, &self.device)?);
        Ok(())
    }

    fn predict(&mut self, pool: &CandidatePool) -> Result<Vec<Prediction>> {
        let Some(predictor) = &self.predictor else {
            return Err(metanas_aen::AenError::InvalidData(
                "the surrogate is not fitted yet".into(),
            )
            .into());
        };
        if self
            .pool_batch
            .as_ref()
            .is_none_or(|(id, _)| *id != pool.id())
        {
            self.pool_batch = Some((pool.id(), predictor.encode(pool.encodings())?));
        }
        match &self.pool_batch {
            Some((_, batch)) => Ok(predictor.predict_batch(batch)?),
            None => Err(metanas_aen::AenError::InvalidData("no encoded pool".into()).into()),
        }
    }
}
