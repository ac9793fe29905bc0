//! Normal scores (a Gaussian copula transform): each value replaced by the
//! standard normal quantile of its rank. Robust to outliers and to monotone
//! non-linear relations between tasks (Salinas, Shen & Perrone, "A
//! quantile-based approach for hyperparameter transfer learning", ICML 2020).

use crate::error::{AenError, Result};
use crate::ranking_metrics::average_ranks;

/// `Φ⁻¹((r − ½) / n)` for each value's rank `r` ([`average_ranks`]: from 1,
/// ties share their average rank), in the values' order.
///
/// # Errors
/// [`AenError::InvalidData`] when `values` is empty or holds a non-finite value.
pub fn normal_scores(values: &[f64]) -> Result<Vec<f64>> {
    if values.is_empty() {
        return Err(AenError::InvalidData("no values to rank".into()));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(AenError::InvalidData(format!(
            "value {i} is not finite ({})",
            values[i]
        )));
    }
    let n = values.len() as f64;
    Ok(average_ranks(values)
        .into_iter()
        .map(|rank| inverse_normal_cdf((rank - 0.5) / n))
        .collect())
}

/// The standard normal quantile function for `p` in (0, 1) (Acklam's
/// rational approximation, relative error below 1.2e-9).
pub(crate) fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_known_values() {
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959963984540054),
            (0.01, -2.326347874040841),
            (0.9999, 3.719016485455709),
        ] {
            assert!(
                (inverse_normal_cdf(p) - z).abs() < 1e-8,
                "Φ⁻¹({p}) = {}",
                inverse_normal_cdf(p)
            );
        }
    }

    #[test]
    fn scores_follow_ranks_share_ties_and_ignore_scale() {
        let s = normal_scores(&[10.0, -3.0, 10.0, 1e6]).expect("finite");
        assert!(s[1] < s[0] && s[0] == s[2] && s[2] < s[3], "{s:?}");
        assert!((s[1] + s[3]).abs() < 1e-12, "symmetric: {s:?}");
        assert!(normal_scores(&[]).is_err());
        assert!(normal_scores(&[1.0, f64::NAN]).is_err());
    }
}
