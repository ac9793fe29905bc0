//! A predictor's heads as a mixture: each head reads one member's features
//! and carries a weight (equal for a plain ensemble; posterior model
//! probabilities for a Bayesian model average).

use crate::bayesian_head::{HeadFit, LinearHead};
use serde::{Deserialize, Serialize};

/// One component of an [`crate::AenPredictor`]'s mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedHead {
    /// The ensemble member whose features the head reads.
    pub member: usize,
    /// The component's weight; a predictor's weights sum to 1.
    pub weight: f64,
    /// The head.
    pub head: LinearHead,
}

/// Posterior model probabilities from log evidences under a uniform model
/// prior (`softmax`), with components below `1e-3` of the largest dropped and
/// the rest renormalised: the indices kept and their probabilities.
pub(crate) fn model_probabilities(log_evidences: &[f64]) -> Vec<(usize, f64)> {
    let best = log_evidences
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let relative: Vec<f64> = log_evidences.iter().map(|l| (l - best).exp()).collect();
    let kept: Vec<(usize, f64)> = relative
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, r)| *r >= 1e-3)
        .collect();
    let total: f64 = kept.iter().map(|(_, r)| r).sum();
    kept.into_iter().map(|(i, r)| (i, r / total)).collect()
}

/// The log evidence of a family of models, one list of fitted components
/// per ensemble member: per member the log of the components' average
/// evidence (uniform model prior), averaged over members.
pub(crate) fn family_evidence(fits: &[Vec<HeadFit>]) -> f64 {
    let per_member = |member: &Vec<HeadFit>| {
        let best = member
            .iter()
            .map(|f| f.log_evidence)
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = member.iter().map(|f| (f.log_evidence - best).exp()).sum();
        best + (sum / member.len() as f64).ln()
    };
    fits.iter().map(per_member).sum::<f64>() / fits.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_follow_the_evidence_and_drop_the_negligible() {
        let p = model_probabilities(&[-10.0, -10.0 + 2f64.ln(), -40.0]);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].0, p[1].0), (0, 1));
        assert!(
            (p[0].1 - 1.0 / 3.0).abs() < 1e-12 && (p[1].1 - 2.0 / 3.0).abs() < 1e-12,
            "{p:?}"
        );
        assert_eq!(model_probabilities(&[3.0]), vec![(0, 1.0)]);
    }
}
