//! A meta-learned AEN as a Bayesian-optimization surrogate: no fitting of
//! networks during the search, only the closed-form adaptation of its heads.

use crate::error::{Result, SearchError};
use crate::source_values::SourceValues;
use crate::surrogate::{CandidatePool, Surrogate};
use metanas_aen::{AenPredictor, FeatureCache, MetaAen, Prediction};
use metanas_space::GraphEncoding;
use std::collections::HashMap;

/// A [`MetaAen`] (bodies and head prior learned on source tasks) that adapts
/// to the search's observations in closed form ([`MetaAen::adapt_features`]).
/// With no observation it predicts from its prior, so the search can start
/// from the meta-model's ranking (`initial_samples = 0`).
///
/// Optionally the heads also read the source tasks' known values
/// ([`SourceValues`], same columns and order as [`MetaAen::task_names`]):
/// the body's learned features and the exact source metrics side by side.
pub struct MetaAenSurrogate {
    meta: MetaAen,
    sources: Option<SourceValues>,
    predictor: Option<AenPredictor>,
    pool_features: Option<(u64, FeatureCache)>,
    pool_rows: HashMap<GraphEncoding, usize>,
}

impl MetaAenSurrogate {
    /// A surrogate around `meta`, with the source tasks' known values if
    /// given (and the prior over a source's weight learned from them,
    /// [`metanas_aen::SourceSlopePrior::from_source_values`]).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] when `sources` has other columns than `meta`'s tasks.
    pub fn new(meta: MetaAen, sources: Option<SourceValues>) -> Result<Self> {
        if let Some(s) = &sources
            && s.columns() != meta.task_names()
        {
            return Err(SearchError::InvalidConfig(format!(
                "source values of [{}] for a meta-model of [{}]",
                s.columns().join(", "),
                meta.task_names().join(", ")
            )));
        }
        let meta = match &sources {
            Some(s) => meta.with_slope_prior(s.slope_prior()?),
            None => meta,
        };
        Ok(Self {
            meta,
            sources,
            predictor: None,
            pool_features: None,
            pool_rows: HashMap::new(),
        })
    }

    /// Starts from the posterior after `observations` of a related task
    /// (e.g. the image tasks measured in meta-training) instead of the
    /// source-task prior; `inflation` widens it for the shift between tasks.
    ///
    /// # Errors
    /// As [`MetaAen::conditioned_on`]; [`SearchError::InvalidConfig`] for a
    /// cell the source values lack.
    pub fn conditioned_on(
        mut self,
        observations: &[(GraphEncoding, f64)],
        inflation: f64,
    ) -> Result<Self> {
        if observations.is_empty() {
            return Ok(self);
        }
        let (encodings, values): (Vec<GraphEncoding>, Vec<f64>) =
            observations.iter().cloned().unzip();
        let features = self.features(&encodings)?;
        self.meta = self.meta.conditioned_on(&features, &values, inflation)?;
        Ok(self)
    }

    fn features(&self, encodings: &[GraphEncoding]) -> Result<FeatureCache> {
        let cache = self.meta.features(&self.meta.encode(encodings)?);
        match &self.sources {
            Some(sources) => {
                Ok(cache.with_side_features(&sources.rows(encodings)?, sources.columns().len())?)
            }
            None => Ok(cache),
        }
    }
}

impl Surrogate for MetaAenSurrogate {
    fn describe(&self) -> String {
        format!(
            "meta-aen(sources=[{}], ensemble={}, side_features={})",
            self.meta.task_names().join(","),
            self.meta.config().ensemble,
            self.sources.is_some()
        )
    }

    fn min_observations(&self) -> usize {
        0
    }

    fn fit(&mut self, observations: &[(GraphEncoding, f64)], _: u64) -> Result<()> {
        self.predictor = Some(if observations.is_empty() {
            self.meta.prior_predictor(self.sources.is_some())?
        } else {
            let (encodings, values): (Vec<GraphEncoding>, Vec<f64>) =
                observations.iter().cloned().unzip();
            // Observed cells are usually in the scored pool: reuse its features.
            let rows: Option<Vec<usize>> = encodings
                .iter()
                .map(|e| self.pool_rows.get(e).copied())
                .collect();
            let features = match (rows, &self.pool_features) {
                (Some(rows), Some((_, pool))) => pool.select(&rows)?,
                _ => self.features(&encodings)?,
            };
            self.meta.adapt_features(&features, &values)?
        });
        Ok(())
    }

    fn predict(&mut self, pool: &CandidatePool) -> Result<Vec<Prediction>> {
        if self
            .pool_features
            .as_ref()
            .is_none_or(|(id, _)| *id != pool.id())
        {
            self.pool_features = Some((pool.id(), self.features(pool.encodings())?));
            self.pool_rows = pool
                .encodings()
                .iter()
                .enumerate()
                .map(|(i, e)| (e.clone(), i))
                .collect();
        }
        match (&self.predictor, &self.pool_features) {
            (Some(predictor), Some((_, features))) => Ok(predictor.predict_features(features)?),
            _ => Err(
                metanas_aen::AenError::InvalidData("the surrogate is not fitted yet".into()).into(),
            ),
        }
    }
}
