//! How a meta-learned AEN's heads use the source tasks' known values (side
//! features) on a new task.

use crate::bayesian_head::HeadPrior;
use crate::error::{AenError, Result};
use crate::ranking_metrics::pearson;
use serde::{Deserialize, Serialize};

/// How [`crate::MetaAen::adapt_features`] uses side features (the source
/// tasks' values of each cell, as normal scores per task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideModel {
    /// Bayesian model averaging over single-source models `y ≈ a·s_t + b`,
    /// one per source `t` (`a` under
    /// [`SourceSlopePrior`]), weighted by their marginal likelihoods (uniform
    /// model prior, unless [`crate::MetaAen::conditioned_on`] a related task
    /// set priors and weights). With few observations this picks the source that
    /// explains them, as a user would, instead of spreading weight over many
    /// correlated sources. They read no body feature, so they are fitted
    /// once, on the first member's inputs.
    #[default]
    SingleSources,
    /// The same average with three more models that also read the body's
    /// features: the body alone, the body with the source of highest
    /// evidence, and the joint head (ablation: their variance at unusual
    /// cells made Bayesian optimisation query broken cells early).
    SourcesAndBody,
    /// One head over the body's features and every source at once (Gaussian
    /// prior in which each source is the head that copies its own column).
    Joint,
}

/// The Gaussian prior over the weight `a` of a source in a single-source
/// model `y ≈ a·s + b` (both in normal-score units).
///
/// [`Self::from_source_values`] learns it from the source tasks themselves:
/// how strongly each source is related to its nearest neighbour among the
/// other sources (the mean and spread of those correlations). A new task is
/// expected to relate to its best source like that: positively and not much
/// weaker. The vague default (mean 1, variance 1) lets a single observation
/// flip the sign, so that right after the first query the worst cells of
/// every source look as promising as the best (seen: Bayesian optimisation
/// then queried the worst cell of NAS-Bench-201 second).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceSlopePrior {
    /// Prior mean of `a`.
    pub mean: f64,
    /// Prior variance of `a`.
    pub variance: f64,
}

impl Default for SourceSlopePrior {
    fn default() -> Self {
        Self {
            mean: 1.0,
            variance: 1.0,
        }
    }
}

impl SourceSlopePrior {
    /// The prior from the source values of many cells (`cells × columns`,
    /// row-major, normal scores as the heads read them): for each source the
    /// largest correlation with another source; their mean, and their
    /// variance (at least 0.01). One column gives the default.
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when `side` is not a whole number of rows of
    /// `columns`, has fewer than 3 rows, or holds a non-finite value.
    pub fn from_source_values(side: &[f64], columns: usize) -> Result<Self> {
        if columns == 0 || !side.len().is_multiple_of(columns) || side.len() / columns < 3 {
            return Err(AenError::InvalidData(format!(
                "{} source values are not rows of {columns} (3 rows at least)",
                side.len()
            )));
        }
        if side.iter().any(|v| !v.is_finite()) {
            return Err(AenError::InvalidData("source values must be finite".into()));
        }
        if columns == 1 {
            return Ok(Self::default());
        }
        let column =
            |j: usize| -> Vec<f64> { side.iter().skip(j).step_by(columns).copied().collect() };
        let columns_values: Vec<Vec<f64>> = (0..columns).map(column).collect();
        let nearest: Vec<f64> = (0..columns)
            .map(|a| {
                (0..columns)
                    .filter(|&b| b != a)
                    .map(|b| pearson(&columns_values[a], &columns_values[b]))
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let count = nearest.len() as f64;
        let mean = nearest.iter().sum::<f64>() / count;
        let variance = nearest.iter().map(|c| (c - mean) * (c - mean)).sum::<f64>() / count;
        Ok(Self {
            mean,
            variance: variance.max(0.01),
        })
    }
}

/// The single-source models after a related task's observations (e.g. the
/// image task measured in meta-training, when the new task is another image
/// dataset): per source, its posterior there becomes its prior, and its
/// posterior model probability its prior weight. A new task then starts from
/// the sources (and slopes) that explained the related one, and its own
/// observations reweigh them ([`crate::MetaAen::conditioned_on`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RelatedSourcePriors {
    /// The prior of source `s`'s model (width `f + t + 1`), indexed by source.
    pub priors: Vec<HeadPrior>,
    /// The prior probability of source `s`'s model (they sum to 1).
    pub weights: Vec<f64>,
}

/// The prior of a head reading `[body features (f), sources (t), 1]` that
/// uses the sources in `sources` (each weight under `slope`), the body under
/// `body` (its `f + 1` prior, bias included) or not at all (bias variance 1 then).
pub(crate) fn component_prior(
    body: Option<&HeadPrior>,
    sources: &[usize],
    slope: &SourceSlopePrior,
    f: usize,
    t: usize,
) -> HeadPrior {
    let p = f + t + 1;
    let mut mean = vec![0.0; p];
    let mut covariance = vec![0.0; p * p];
    match body {
        Some(prior) => {
            let index = |i: usize| if i < f { i } else { p - 1 };
            for i in (0..f).chain(std::iter::once(f)) {
                mean[index(i)] = prior.mean[i];
                for j in (0..f).chain(std::iter::once(f)) {
                    covariance[index(i) * p + index(j)] = prior.covariance[i * (f + 1) + j];
                }
            }
        }
        None => covariance[(p - 1) * p + p - 1] = 1.0,
    }
    for &s in sources {
        mean[f + s] = slope.mean;
        covariance[(f + s) * p + f + s] = slope.variance;
    }
    HeadPrior { mean, covariance }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_priors_embed_the_body_and_the_chosen_sources() {
        let body = HeadPrior {
            mean: vec![0.5, 0.0, 0.2],
            covariance: vec![2.0, 0.1, 0.0, 0.1, 3.0, 0.0, 0.0, 0.0, 4.0],
        };
        // f = 2 body features, t = 3 sources: width 6.
        let copy = SourceSlopePrior::default();
        let with_body = component_prior(Some(&body), &[1], &copy, 2, 3);
        assert_eq!(with_body.mean, vec![0.5, 0.0, 0.0, 1.0, 0.0, 0.2]);
        let c = &with_body.covariance;
        assert_eq!(
            (c[0], c[1], c[7], c[3 * 6 + 3], c[5 * 6 + 5], c[2 * 6 + 2]),
            (2.0, 0.1, 3.0, 1.0, 4.0, 0.0)
        );
        let alone = component_prior(
            None,
            &[2],
            &SourceSlopePrior {
                mean: 0.8,
                variance: 0.04,
            },
            2,
            3,
        );
        assert_eq!(alone.mean, vec![0.0, 0.0, 0.0, 0.0, 0.8, 0.0]);
        let diagonal: Vec<f64> = (0..6).map(|i| alone.covariance[i * 6 + i]).collect();
        assert_eq!(diagonal, vec![0.0, 0.0, 0.0, 0.0, 0.04, 1.0]);
    }

    #[test]
    fn the_slope_prior_is_the_typical_nearest_source_correlation() {
        // Columns: x, x (a copy), −x, and noise-free z ⟂ x on 4 rows.
        let rows = [
            [1.0, 1.0, -1.0, 1.0],
            [-1.0, -1.0, 1.0, 1.0],
            [1.0, 1.0, -1.0, -1.0],
            [-1.0, -1.0, 1.0, -1.0],
        ];
        let side: Vec<f64> = rows.iter().flatten().copied().collect();
        let prior = SourceSlopePrior::from_source_values(&side, 4).expect("valid");
        // Nearest correlations: 1, 1, −1 (−x is anti-correlated with all but z: 0), 0 → [1, 1, 0, 0].
        assert!(
            (prior.mean - 0.5).abs() < 1e-12 && (prior.variance - 0.25).abs() < 1e-12,
            "{prior:?}"
        );
        assert_eq!(
            SourceSlopePrior::from_source_values(&side[..4], 1).expect("one column"),
            SourceSlopePrior::default()
        );
        assert!(SourceSlopePrior::from_source_values(&side[..5], 4).is_err());
        assert!(SourceSlopePrior::from_source_values(&[f64::NAN; 12], 4).is_err());
    }
}
