//! The summary statistics every harness prints: one definition of each.

/// Mean and sample standard deviation (n − 1) of `values`; `(NaN, 0)` for
/// none, standard deviation 0 for one.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd =
        (values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    if values.is_empty() {
        (f64::NAN, 0.0)
    } else {
        (mean, sd)
    }
}

/// Median of the finite `values` (the mean of the two middle ones for an even
/// count); NaN when none is finite.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    middle(&v)
}

/// Median number of queries to reach a target; `None` counts as +∞ (a run
/// that never reached it), so the result is `None` when half or more never did.
pub fn median_reach(values: &[Option<usize>]) -> Option<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .map(|x| x.map_or(f64::INFINITY, |q| q as f64))
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = middle(&v);
    m.is_finite().then_some(m)
}

/// The middle of sorted, non-empty `v`.
fn middle(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_small_samples() {
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        assert!((sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd(&[7.0]), (7.0, 0.0));
        assert!(mean_sd(&[]).0.is_nan());

        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[f64::NAN, 5.0]), 5.0);
        assert!(median(&[]).is_nan());

        assert_eq!(median_reach(&[Some(3), None, Some(5)]), Some(5.0));
        assert_eq!(median_reach(&[Some(3), None, None]), None);
        assert_eq!(median_reach(&[Some(2), Some(4)]), Some(3.0));
        assert_eq!(median_reach(&[]), None);
    }
}
