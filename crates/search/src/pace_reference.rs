//! A candidate's speed, measured against a reference cell's.
//!
//! Under a time-budgeted final stage a cell whose steps are twice as fast
//! trains twice the epochs. A search can take that into account in two ways
//! ([`SpeedUse`]): train each candidate for the time the reference's steps
//! take, or weigh each candidate's validation accuracy by its speed. Both
//! time a few steps of the candidate and of the reference side by side.

/// Steps timed to measure a network's pace, after one untimed step (the
/// first step of a network allocates its buffers).
pub const PACE_PROBE_STEPS: usize = 6;

/// What a search does with a candidate's measured speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SpeedUse {
    /// The candidate trains as long as the configured steps take the
    /// reference ([`crate::time_matched_steps`]).
    TimeMatchedSteps,
    /// The candidate trains the configured steps, and its score is its
    /// validation accuracy weighed by its speed with these weights
    /// ([`crate::speed_weighted_score`]).
    WeightedScore(crate::SpeedWeights),
}

/// The cell a candidate's speed is measured against, and what the measure is for.
#[derive(Debug, Clone)]
pub(crate) struct PaceReference<A> {
    /// The cell whose pace is the unit.
    pub reference: A,
    /// How the search key names it.
    pub label: String,
    /// The network size at which paces are timed (the final stage's, where
    /// the time budget applies: at a smaller size fixed costs weigh more and
    /// the cells' paces differ less).
    pub pace_size: crate::NetworkSize,
    /// What the pace changes.
    pub speed_use: SpeedUse,
}

impl<A> PaceReference<A> {
    /// How the evaluator's description (and so the search key) names this use.
    pub fn describe(&self) -> String {
        let size = format!(
            "C={} N={}",
            self.pace_size.channels, self.pace_size.cells_per_stage
        );
        match self.speed_use {
            SpeedUse::TimeMatchedSteps => format!(" of {}'s time at {size}", self.label),
            SpeedUse::WeightedScore(weights) => format!(
                ", scored as {}",
                weights.formula(&format!("step time / {}'s at {size}", self.label))
            ),
        }
    }
}

/// How many times the reference's step time a candidate's step takes
/// (`candidate / reference`), or `None` when either is not a positive
/// number (a clock that did not move).
pub(crate) fn pace_ratio(reference_step_seconds: f64, candidate_step_seconds: f64) -> Option<f64> {
    let valid = |s: f64| s.is_finite() && s > 0.0;
    (valid(reference_step_seconds) && valid(candidate_step_seconds))
        .then(|| candidate_step_seconds / reference_step_seconds)
}

/// The median of `values` (NaN when empty).
pub(crate) fn median(values: &[f32]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_robust_to_one_slow_step() {
        assert_eq!(median(&[0.1, 0.1, 5.0]), f64::from(0.1f32));
        assert_eq!(median(&[1.0, 3.0]), 2.0);
        assert!(median(&[]).is_nan());
    }
}
