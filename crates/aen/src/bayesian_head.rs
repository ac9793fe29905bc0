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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        let p = heads
            .first()
            .map(Vec::len)
            .ok_or_else(|| AenError::InvalidData("no source heads".into()))?;
        if heads.iter().any(|h| h.len() != p) {
            return Err(AenError::InvalidData(
                "source heads of different lengths".into(),
            ));
        }
        let count = heads.len() as f64;
        let mean: Vec<f64> = match kind {
            PriorKind::SourceMean => (0..p)
                .map(|i| heads.iter().map(|h| h[i]).sum::<f64>() / count)
                .collect(),
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

/// A fitted head and the log marginal likelihood ("evidence") of the
/// observations under its model, up to the constant `−k/2 · ln 2π` shared by
/// every model of the same observations: compare evidences to weigh models.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadFit {
    /// The posterior head.
    pub head: LinearHead,
    /// `ln p(y | model)` at the chosen prior scale and noise.
    pub log_evidence: f64,
}

/// Fits a [`LinearHead`] to `k` observations: `phi` (`k × p` row-major, the
/// last column all ones for the bias) and standardised `y`, under `prior`,
/// choosing the prior's scale and the noise by marginal likelihood on a grid.
///
/// # Errors
/// As [`fit_head_with_evidence`].
pub fn fit_head(phi: &[f64], y: &[f64], prior: &HeadPrior) -> Result<LinearHead> {
    Ok(fit_head_with_evidence(phi, y, prior)?.head)
}

/// Prior scales and noise variances tried; the pair of highest evidence wins.
const SCALES: [f64; 6] = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0];
const NOISES: [f64; 6] = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0];

/// [`fit_head`] with the evidence of the chosen fit.
///
/// Coordinates with zero prior variance stay at their prior mean (a head
/// that reads only some of the features). The work is done in the `k × k`
/// data space (Woodbury, `O(k³ + k p²)`) or, when fewer coordinates are free
/// than there are observations, in the weight space of the free ones
/// (`O(q³ + k q²)`): both give the same posterior and evidence.
///
/// # Errors
/// [`AenError::InvalidData`] for mismatched sizes or non-finite values;
/// [`AenError::Numerical`] when no grid point gives a positive definite system.
pub fn fit_head_with_evidence(phi: &[f64], y: &[f64], prior: &HeadPrior) -> Result<HeadFit> {
    let k = y.len();
    let p = prior.mean.len();
    if k == 0 || phi.len() != k * p || prior.covariance.len() != p * p {
        return Err(AenError::InvalidData(format!(
            "{} features for {k} observations of width {p}",
            phi.len()
        )));
    }
    if phi
        .iter()
        .chain(y)
        .chain(&prior.mean)
        .chain(&prior.covariance)
        .any(|v| !v.is_finite())
    {
        return Err(AenError::InvalidData(
            "features, observations and prior must be finite".into(),
        ));
    }
    let free: Vec<usize> = (0..p)
        .filter(|&i| prior.covariance[i * p + i] > 0.0)
        .collect();
    if let Some(fit) = (free.len() < k)
        .then(|| fit_in_weight_space(phi, y, prior, &free))
        .flatten()
    {
        return Ok(fit);
    }
    fit_in_data_space(phi, y, prior)
}

/// `y − Φ m0`.
fn prior_residual(phi: &[f64], y: &[f64], prior: &HeadPrior) -> Vec<f64> {
    let p = prior.mean.len();
    let prior_pred = matmul(phi, &prior.mean, y.len(), p, 1);
    y.iter().zip(&prior_pred).map(|(a, b)| a - b).collect()
}

/// The inverse of an `n × n` matrix from its Cholesky factor.
fn inverse_from_cholesky(l: &[f64], n: usize) -> Vec<f64> {
    let mut inverse = vec![0.0; n * n];
    for c in 0..n {
        let mut e = vec![0.0; n];
        e[c] = 1.0;
        for (r, v) in cholesky_solve(l, n, &e).into_iter().enumerate() {
            inverse[r * n + c] = v;
        }
    }
    inverse
}

fn fit_in_data_space(phi: &[f64], y: &[f64], prior: &HeadPrior) -> Result<HeadFit> {
    let k = y.len();
    let p = prior.mean.len();
    let phi_t = transpose(phi, k, p); // [p, k]
    let s0_phi_t = matmul(&prior.covariance, &phi_t, p, p, k); // [p, k]
    let gram = matmul(phi, &s0_phi_t, k, p, k); // [k, k] = Φ S0 Φᵀ
    let residual = prior_residual(phi, y, prior);
    // (log marginal likelihood, prior scale, noise, Cholesky factor, K⁻¹ r)
    type GridPoint = (f64, f64, f64, Vec<f64>, Vec<f64>);
    let mut best: Option<GridPoint> = None;
    for scale in SCALES {
        for noise in NOISES {
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
    let (log_evidence, scale, noise, l, alpha) =
        best.ok_or_else(|| AenError::Numerical("no positive definite system".into()))?;
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
    let covariance: Vec<f64> = prior
        .covariance
        .iter()
        .zip(&correction)
        .map(|(s, c)| s * scale - c)
        .collect();
    Ok(HeadFit {
        head: LinearHead {
            mean,
            covariance: Some(covariance),
            noise_variance: noise,
        },
        log_evidence,
    })
}

/// The weight-space fit over the `free` coordinates; `None` when the prior
/// is not positive definite on them (the data-space fit then decides).
///
/// With `A = ΦᵀΦ/σ² + (c S0)⁻¹`: mean `m0 + A⁻¹Φᵀr/σ²`, covariance `A⁻¹`,
/// `rᵀK⁻¹r = rᵀr/σ² − (Φᵀr/σ²)ᵀ A⁻¹ (Φᵀr/σ²)` and
/// `ln det K = ln det A + q ln c + ln det S0 + k ln σ²`.
fn fit_in_weight_space(
    phi: &[f64],
    y: &[f64],
    prior: &HeadPrior,
    free: &[usize],
) -> Option<HeadFit> {
    let k = y.len();
    let p = prior.mean.len();
    let q = free.len();
    let phi_free: Vec<f64> = (0..k)
        .flat_map(|r| free.iter().map(move |&c| phi[r * p + c]))
        .collect(); // [k, q]
    let s0: Vec<f64> = free
        .iter()
        .flat_map(|&i| free.iter().map(move |&j| prior.covariance[i * p + j]))
        .collect();
    let s0_l = cholesky(&s0, q).ok()?;
    let s0_inverse = inverse_from_cholesky(&s0_l, q);
    let s0_log_det: f64 = 2.0 * (0..q).map(|i| s0_l[i * q + i].ln()).sum::<f64>();
    let residual = prior_residual(phi, y, prior);
    let gram = matmul(&transpose(&phi_free, k, q), &phi_free, q, k, q); // ΦᵀΦ
    let projected = matmul(&transpose(&phi_free, k, q), &residual, q, k, 1); // Φᵀr
    let rr: f64 = residual.iter().map(|r| r * r).sum();
    // (log evidence, noise, Cholesky factor of A, A⁻¹Φᵀr/σ²)
    type GridPoint = (f64, f64, Vec<f64>, Vec<f64>);
    let mut best: Option<GridPoint> = None;
    for scale in SCALES {
        for noise in NOISES {
            let a: Vec<f64> = gram
                .iter()
                .zip(&s0_inverse)
                .map(|(g, s)| g / noise + s / scale)
                .collect();
            let Ok(l) = cholesky(&a, q) else { continue };
            let b: Vec<f64> = projected.iter().map(|v| v / noise).collect();
            let u = cholesky_solve(&l, q, &b);
            let fit = rr / noise - b.iter().zip(&u).map(|(x, y)| x * y).sum::<f64>();
            let log_det = 2.0 * (0..q).map(|i| l[i * q + i].ln()).sum::<f64>()
                + q as f64 * scale.ln()
                + s0_log_det
                + k as f64 * noise.ln();
            let lml = -0.5 * fit - 0.5 * log_det;
            if best.as_ref().is_none_or(|g| lml > g.0) {
                best = Some((lml, noise, l, u));
            }
        }
    }
    let (log_evidence, noise, l, u) = best?;
    let mut mean = prior.mean.clone();
    for (&i, v) in free.iter().zip(&u) {
        mean[i] += v;
    }
    let free_covariance = inverse_from_cholesky(&l, q);
    let mut covariance = vec![0.0; p * p];
    for (a, &i) in free.iter().enumerate() {
        for (b, &j) in free.iter().enumerate() {
            covariance[i * p + j] = free_covariance[a * q + b];
        }
    }
    Some(HeadFit {
        head: LinearHead {
            mean,
            covariance: Some(covariance),
            noise_variance: noise,
        },
        log_evidence,
    })
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
        let prior = HeadPrior {
            mean: vec![0.0, 0.0],
            covariance: vec![4.0, 0.0, 0.0, 4.0],
        };
        let head = fit_head(&phi, &y, &prior).expect("fits");
        assert!(
            (head.mean[0] - 2.0).abs() < 0.05 && (head.mean[1] + 1.0).abs() < 0.05,
            "{head:?}"
        );
        let cov = head.covariance.expect("Bayesian");
        assert!(cov[0] < 0.1 && cov[3] < 0.1);
        assert!(fit_head(&phi, &y[..3], &prior).is_err());
        assert!(fit_head(&phi, &[f64::NAN; 5], &prior).is_err());
    }

    #[test]
    fn source_head_prior_spans_the_heads() {
        let prior =
            HeadPrior::from_heads(&[vec![1.0, 0.0], vec![-1.0, 0.0]], PriorKind::SourceHeads)
                .expect("ok");
        assert_eq!(prior.mean, vec![0.0, 0.0]);
        assert!(prior.covariance[0] > 10.0 * prior.covariance[3]);
        assert!(HeadPrior::from_heads(&[], PriorKind::Isotropic).is_err());
        let centred =
            HeadPrior::from_heads(&[vec![1.0, 0.0], vec![3.0, 0.0]], PriorKind::SourceMean)
                .expect("ok");
        assert_eq!(centred.mean, vec![2.0, 0.0]);
        assert!((centred.covariance[0] - 1.025).abs() < 1e-9, "{centred:?}");
    }

    #[test]
    fn weight_space_and_data_space_fits_agree() {
        // Three features, the second fixed by the prior (zero variance): 6 observations.
        let rows = [
            [0.3, 1.0, -0.2],
            [-1.1, 0.4, 0.7],
            [0.8, -0.3, 0.1],
            [0.0, 0.9, -1.4],
            [1.5, 0.2, 0.6],
            [-0.6, -0.8, 0.2],
        ];
        let phi: Vec<f64> = rows
            .iter()
            .flat_map(|r| r.iter().copied().chain(std::iter::once(1.0)))
            .collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| 0.9 * r[0] - 0.4 * r[2] + 0.3 + 0.05 * r[1])
            .collect();
        let mut covariance = vec![0.0; 16];
        for (i, v) in [(0, 1.0), (2, 0.5), (3, 1.0)] {
            covariance[i * 4 + i] = v;
        }
        covariance[2] = 0.2;
        covariance[8] = 0.2;
        let prior = HeadPrior {
            mean: vec![0.1, 0.5, 0.0, 0.0],
            covariance,
        };
        let data = fit_in_data_space(&phi, &y, &prior).expect("fits");
        let weight = fit_in_weight_space(&phi, &y, &prior, &[0, 2, 3]).expect("fits");
        assert!(
            (data.log_evidence - weight.log_evidence).abs() < 1e-8,
            "{data:?} {weight:?}"
        );
        assert_eq!(data.head.noise_variance, weight.head.noise_variance);
        for (a, b) in data.head.mean.iter().zip(&weight.head.mean) {
            assert!((a - b).abs() < 1e-8, "{data:?} {weight:?}");
        }
        let (ca, cb) = (
            data.head.covariance.clone().expect("Bayesian"),
            weight.head.covariance.clone().expect("Bayesian"),
        );
        for (a, b) in ca.iter().zip(&cb) {
            assert!((a - b).abs() < 1e-8, "{ca:?} {cb:?}");
        }
        assert_eq!(
            weight.head.mean[1], 0.5,
            "a fixed coordinate keeps its prior mean"
        );
        // The public entry point takes the weight-space path here (3 free < 6 observations).
        assert_eq!(
            fit_head_with_evidence(&phi, &y, &prior).expect("fits"),
            weight
        );
    }

    #[test]
    fn evidence_prefers_the_model_that_explains_the_data() {
        let xs = [-1.0, -0.4, 0.1, 0.5, 0.9, 1.3, -0.7, 0.2];
        let noise = [0.3, -0.5, 0.8, -0.2, 0.1, -0.9, 0.6, 0.4];
        // Features: [x, unrelated, 1]; y follows x.
        let phi: Vec<f64> = xs
            .iter()
            .zip(&noise)
            .flat_map(|(&x, &z)| [x, z, 1.0])
            .collect();
        let y: Vec<f64> = xs.iter().map(|x| 1.5 * x).collect();
        let reads = |i: usize| {
            let mut covariance = vec![0.0; 9];
            covariance[i * 3 + i] = 1.0;
            covariance[8] = 1.0;
            HeadPrior {
                mean: vec![0.0; 3],
                covariance,
            }
        };
        let right = fit_head_with_evidence(&phi, &y, &reads(0)).expect("fits");
        let wrong = fit_head_with_evidence(&phi, &y, &reads(1)).expect("fits");
        assert!(
            right.log_evidence > wrong.log_evidence + 5.0,
            "{right:?} {wrong:?}"
        );
    }
}
