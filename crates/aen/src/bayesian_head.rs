//! Bayesian linear regression on learned features: the closed-form task head
//! inferred from a few observations (ABLR, Perrone et al. 2018).

use crate::error::{AenError, Result};
use crate::linalg::{cholesky, cholesky_solve, matmul, transpose};
use serde::{Deserialize, Serialize};

/// A linear head `y = φ(x)ᵀ w + b` with a Gaussian over `(w, b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    /// Mean of `(w, b)`: `features + 1` values, the bias last.
    pub mean: Vec<f64>,
    /// Covariance of `(w, b)`, row-major `(features + 1)²`; `None` for a point estimate.
    pub covariance: Option<Vec<f64>>,
    /// Observation noise variance (standardised units); added to the predictive variance.
    pub noise_variance: f64,
}

/// The Gaussian prior over a new task's head.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadPrior {
    /// Prior mean, `features + 1`.
    pub mean: Vec<f64>,
    /// Prior covariance, row-major.
    pub covariance: Vec<f64>,
}

/// Where the prior over a new task's head comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorKind {
    /// Zero mean, covariance = the source heads' second moment `(1/T) Σ v_t v_tᵀ`
    /// plus a small ridge: new heads are expected in the span of the source heads
    /// (either sign), so the GP kernel is the average of the source tasks' kernels.
    #[default]
    SourceHeads,
    /// Zero mean, isotropic covariance (plain Bayesian ridge on the features): the ablation.
    Isotropic,
    /// Mean = the average source head, covariance = the source heads' spread
    /// around it plus a ridge: before any observation a new task is predicted
    /// like the average source task (useful when the tasks are known to
    /// agree in sign, e.g. accuracies of one space on related datasets).
    SourceMean,
}

impl HeadPrior {
    /// The prior of `kind` from source heads `heads` (`(w_t, b_t)`, each `features + 1` long).
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when there is no head or their lengths differ.
    pub fn from_heads(heads: &[Vec<f64>], kind: PriorKind) -> Result<Self> {
        let p = heads.first().map(Vec::len).ok_or_else(|| AenError::InvalidData("no source heads".into()))?;
        if heads.iter().any(|h| h.len() != p) {
            return Err(AenError::InvalidData("source heads of different lengths".into()));
        }
        let count = heads.len() as f64;
        let mean: Vec<f64> = match kind {
            PriorKind::SourceMean => (0..p).map(|i| heads.iter().map(|h| h[i]).sum::<f64>() / count).collect(),
            PriorKind::SourceHeads | PriorKind::Isotropic => vec![0.0; p],
        };
        let mut covariance = vec![0.0; p * p];
        for h in heads {
            for i in 0..p {
                for j in 0..p {
                    covariance[i * p + j] += (h[i] - mean[i]) * (h[j] - mean[j]) / count;
                }
            }
        }
        let trace: f64 = (0..p).map(|i| covariance[i * p + i]).sum::<f64>() / p as f64;
        let trace = if trace > 1e-12 { trace } else { 1.0 };
        match kind {
            PriorKind::SourceHeads | PriorKind::SourceMean => {
                for i in 0..p {
                    covariance[i * p + i] += 0.05 * trace;
                }
            }
            PriorKind::Isotropic => {
                covariance.iter_mut().for_each(|c| *c = 0.0);
                for i in 0..p {
                    covariance[i * p + i] = trace;
                }
            }
        }
        Ok(Self { mean, covariance })
    }
}

/// Fits a [`LinearHead`] to `k` observations: `phi` (`k × p` row-major, the
/// last column all ones for the bias) and standardised `y`, under `prior`,
/// choosing the prior's scale and the noise by marginal likelihood on a grid.
///
/// Works in the `k × k` data space (Woodbury), so it costs `O(k³ + k p²)`.
///
/// # Errors
/// [`AenError::InvalidData`] for mismatched sizes or non-finite values;
/// [`AenError::Numerical`] when no grid point gives a positive definite system.
pub fn fit_head(phi: &[f64], y: &[f64], prior: &HeadPrior) -> Result<LinearHead> {
    let k = y.len();
    let p = prior.mean.len();
    if k == 0 || phi.len() != k * p || prior.covariance.len() != p * p {
        return Err(AenError::InvalidData(format!("{} features for {k} observations of width {p}", phi.len())));
    }
    if phi.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(AenError::InvalidData("features and observations must be finite".into()));
    }
    let phi_t = transpose(phi, k, p); // [p, k]
    let s0_phi_t = matmul(&prior.covariance, &phi_t, p, p, k); // [p, k]
    let gram = matmul(phi, &s0_phi_t, k, p, k); // [k, k] = Φ S0 Φᵀ
    let prior_pred = matmul(phi, &prior.mean, k, p, 1); // [k]
    let residual: Vec<f64> = y.iter().zip(&prior_pred).map(|(a, b)| a - b).collect();
    // (log marginal likelihood, prior scale, noise, Cholesky factor, K⁻¹ r)
    type GridPoint = (f64, f64, f64, Vec<f64>, Vec<f64>);
    let mut best: Option<GridPoint> = None;
    for scale in [0.03, 0.1, 0.3, 1.0, 3.0, 10.0] {
        for noise in [0.003, 0.01, 0.03, 0.1, 0.3, 1.0] {
            let mut kk: Vec<f64> = gram.iter().map(|g| g * scale).collect();
            for i in 0..k {
                kk[i * k + i] += noise;
            }
            let Ok(l) = cholesky(&kk, k) else { continue };
            let alpha = cholesky_solve(&l, k, &residual);
            let fit: f64 = residual.iter().zip(&alpha).map(|(r, a)| r * a).sum();
            let log_det: f64 = (0..k).map(|i| l[i * k + i].ln()).sum();
            let lml = -0.5 * fit - log_det;
            if best.as_ref().is_none_or(|b| lml > b.0) {
                best = Some((lml, scale, noise, l, alpha));
            }
        }
    }
    let (_, scale, noise, l, alpha) = best.ok_or_else(|| AenError::Numerical("no positive definite system".into()))?;
    // m = m0 + c S0 Φᵀ α;  S = c S0 − c² S0 Φᵀ K⁻¹ Φ S0.
    let b: Vec<f64> = s0_phi_t.iter().map(|v| v * scale).collect(); // [p, k]
    let mean: Vec<f64> = (0..p)
        .map(|i| prior.mean[i] + (0..k).map(|j| b[i * k + j] * alpha[j]).sum::<f64>())
        .collect();
    // K⁻¹ Bᵀ column by column.
    let b_t = transpose(&b, p, k); // [k, p]
    let mut kinv_bt = vec![0.0; k * p];
    for c in 0..p {
        let col: Vec<f64> = (0..k).map(|r| b_t[r * p + c]).collect();
        for (r, v) in cholesky_solve(&l, k, &col).into_iter().enumerate() {
            kinv_bt[r * p + c] = v;
        }
    }
    let correction = matmul(&b, &kinv_bt, p, k, p);
    let covariance: Vec<f64> =
        prior.covariance.iter().zip(&correction).map(|(s, c)| s * scale - c).collect();
    Ok(LinearHead { mean, covariance: Some(covariance), noise_variance: noise })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bayesian_head_recovers_a_line_and_is_sure_near_data() {
        // y = 2 x − 1 on standardised-ish features, exact data.
        let xs = [-1.0, -0.5, 0.0, 0.5, 1.0];
        let phi: Vec<f64> = xs.iter().flat_map(|&x| [x, 1.0]).collect();
        let y: Vec<f64> = xs.iter().map(|x| 2.0 * x - 1.0).collect();
        let prior = HeadPrior { mean: vec![0.0, 0.0], covariance: vec![4.0, 0.0, 0.0, 4.0] };
        let head = fit_head(&phi, &y, &prior).expect("fits");
        assert!((head.mean[0] - 2.0).abs() < 0.05 && (head.mean[1] + 1.0).abs() < 0.05, "{head:?}");
        let cov = head.covariance.expect("Bayesian");
        assert!(cov[0] < 0.1 && cov[3] < 0.1);
        assert!(fit_head(&phi, &y[..3], &prior).is_err());
        assert!(fit_head(&phi, &[f64::NAN; 5], &prior).is_err());
    }

    #[test]
    fn source_head_prior_spans_the_heads() {
        let prior = HeadPrior::from_heads(&[vec![1.0, 0.0], vec![-1.0, 0.0]], PriorKind::SourceHeads).expect("ok");
        assert_eq!(prior.mean, vec![0.0, 0.0]);
        assert!(prior.covariance[0] > 10.0 * prior.covariance[3]);
        assert!(HeadPrior::from_heads(&[], PriorKind::Isotropic).is_err());
        let centred = HeadPrior::from_heads(&[vec![1.0, 0.0], vec![3.0, 0.0]], PriorKind::SourceMean).expect("ok");
        assert_eq!(centred.mean, vec![2.0, 0.0]);
        assert!((centred.covariance[0] - 1.025).abs() < 1e-9, "{centred:?}");
    }
}
