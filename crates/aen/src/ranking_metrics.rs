//! Ranking metrics of a predictor: Kendall τ-b, Spearman ρ, precision of the top-k.
//!
//! All take `predicted` and `truth` as plain slices, larger meaning better
//! (negate both for a metric to minimise: the rank correlations do not change).

use crate::error::{AenError, Result};
use std::cmp::Ordering;

fn check(predicted: &[f64], truth: &[f64]) -> Result<()> {
    if predicted.len() != truth.len() {
        return Err(AenError::InvalidData(format!(
            "{} predictions for {} true values",
            predicted.len(),
            truth.len()
        )));
    }
    if predicted.len() < 2 {
        return Err(AenError::InvalidData(
            "a rank correlation needs at least 2 values".into(),
        ));
    }
    if predicted.iter().chain(truth).any(|v| !v.is_finite()) {
        return Err(AenError::InvalidData("values must be finite".into()));
    }
    Ok(())
}

/// Kendall's τ-b (ties handled as scipy's `kendalltau` does):
/// `(C − D) / sqrt((n0 − n1)(n0 − n2))`. `O(n²)`; 0 when either side is constant.
///
/// # Errors
/// [`AenError::InvalidData`] for slices of different lengths, fewer than 2
/// values, or non-finite values.
pub fn kendall_tau(predicted: &[f64], truth: &[f64]) -> Result<f64> {
    check(predicted, truth)?;
    let n = predicted.len();
    let (mut concordant, mut discordant, mut ties_p, mut ties_t) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        let (pi, ti) = (predicted[i], truth[i]);
        for j in (i + 1)..n {
            let dp = predicted[j] - pi;
            let dt = truth[j] - ti;
            if dp == 0.0 && dt == 0.0 {
                ties_p += 1;
                ties_t += 1;
            } else if dp == 0.0 {
                ties_p += 1;
            } else if dt == 0.0 {
                ties_t += 1;
            } else if (dp > 0.0) == (dt > 0.0) {
                concordant += 1;
            } else {
                discordant += 1;
            }
        }
    }
    let n0 = (n * (n - 1) / 2) as i64;
    let denominator = (((n0 - ties_p) as f64) * ((n0 - ties_t) as f64)).sqrt();
    Ok(if denominator > 0.0 {
        (concordant - discordant) as f64 / denominator
    } else {
        0.0
    })
}

/// Ranks from 1, ties sharing their average rank.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share rank mean(start+1..=end).
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson's correlation; 0 when either side is constant.
pub(crate) fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx > 0.0 && syy > 0.0 {
        sxy / (sxx * syy).sqrt()
    } else {
        0.0
    }
}

/// Spearman's ρ: Pearson's correlation of the average ranks; 0 when either side is constant.
///
/// # Errors
/// As [`kendall_tau`].
pub fn spearman_rho(predicted: &[f64], truth: &[f64]) -> Result<f64> {
    check(predicted, truth)?;
    Ok(pearson(&average_ranks(predicted), &average_ranks(truth)))
}

/// Indices of the `k` largest values (ties broken by position).
pub fn top_k_indices(values: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        values[b]
            .partial_cmp(&values[a])
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(&b))
    });
    order.truncate(k);
    order
}

/// `|top-k predicted ∩ top-k true| / k`.
///
/// # Errors
/// As [`kendall_tau`], and when `k` is 0 or more than the number of values.
pub fn precision_at_k(predicted: &[f64], truth: &[f64], k: usize) -> Result<f64> {
    check(predicted, truth)?;
    if k == 0 || k > predicted.len() {
        return Err(AenError::InvalidData(format!(
            "k = {k} must be in 1..={}",
            predicted.len()
        )));
    }
    let true_top: std::collections::HashSet<usize> = top_k_indices(truth, k).into_iter().collect();
    let hits = top_k_indices(predicted, k)
        .iter()
        .filter(|i| true_top.contains(i))
        .count();
    Ok(hits as f64 / k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed by hand; scipy agrees:
    // >>> from scipy.stats import kendalltau, spearmanr
    // >>> kendalltau([1,2,3,4,5],[3,1,2,5,4])[0], spearmanr([1,2,3,4,5],[3,1,2,5,4])[0]
    // (0.4, 0.6)
    // >>> kendalltau([1,2,2,3],[1,2,3,3])[0], spearmanr([1,2,2,3],[1,2,3,3])[0]
    // (0.8, 0.8333333333333334)
    #[test]
    fn kendall_and_spearman_match_hand_computed_values() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        let (x, y) = ([1.0, 2.0, 3.0, 4.0, 5.0], [3.0, 1.0, 2.0, 5.0, 4.0]);
        // C = 7, D = 3: τ = 4 / 10.
        assert!(close(kendall_tau(&x, &y).expect("valid"), 0.4));
        // Σd² = 8: ρ = 1 − 6·8 / (5·24).
        assert!(close(spearman_rho(&x, &y).expect("valid"), 0.6));
        let (x, y) = ([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 3.0]);
        // C = 4, D = 0, one tie on each side: τ_b = 4 / sqrt(5·5).
        assert!(close(kendall_tau(&x, &y).expect("valid"), 0.8));
        // Ranks [1, 2.5, 2.5, 4] and [1, 2, 3.5, 3.5]: 3.75 / 4.5.
        assert!(close(spearman_rho(&x, &y).expect("valid"), 3.75 / 4.5));
        assert!(close(kendall_tau(&x, &x).expect("valid"), 1.0));
        let reversed: Vec<f64> = x.iter().map(|v| -v).collect();
        assert!(close(spearman_rho(&x, &reversed).expect("valid"), -1.0));
    }

    #[test]
    fn precision_at_k_counts_the_shared_top() {
        let predicted = [0.9, 0.1, 0.8, 0.3];
        let truth = [1.0, 4.0, 3.0, 2.0];
        assert_eq!(precision_at_k(&predicted, &truth, 2).expect("valid"), 0.5);
        assert_eq!(precision_at_k(&predicted, &truth, 4).expect("valid"), 1.0);
        assert!(precision_at_k(&predicted, &truth, 0).is_err());
        assert!(precision_at_k(&predicted, &truth, 5).is_err());
    }

    #[test]
    fn metrics_reject_bad_input() {
        assert!(kendall_tau(&[1.0, 2.0], &[1.0]).is_err());
        assert!(kendall_tau(&[1.0], &[1.0]).is_err());
        assert!(spearman_rho(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
        assert_eq!(
            kendall_tau(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).expect("valid"),
            0.0
        );
    }
}
