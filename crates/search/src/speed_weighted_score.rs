//! A candidate's score when the final stage has a time budget: its
//! validation accuracy weighed by its speed.
//!
//! Candidates train for equal steps, so their validation accuracies say
//! nothing of how many epochs each would get under `--final-time`, where a
//! cell whose steps are twice as fast trains twice the epochs. Training them
//! for equal time instead ranks the smallest networks first
//! (`docs/decisions/0017-candidates-train-equal-steps.md`). This score keeps
//! the equal-steps accuracy and multiplies it by a soft speed term, the form
//! of MnasNet's latency-aware objective (Tan et al., 2019, "MnasNet:
//! Platform-Aware Neural Architecture Search for Mobile", eq. 2:
//! `ACC × (LAT / T)^w`, with `w = −0.07` there), the step time measured at
//! the final stage's size and the target `T` a reference cell's step time.

use crate::pace_reference::pace_ratio;

/// The weight of [`speed_weighted_score`] that MnasNet uses (`w = −0.07`,
/// its soft constraint): a network whose steps take twice as long as the
/// reference's scores `2^−0.07 = 0.953` of its accuracy, one twice as fast
/// `1.050` of it.
pub const MNASNET_SPEED_WEIGHT: f64 = 0.07;

/// `accuracy × (candidate_step_seconds / reference_step_seconds)^−weight`.
/// A timing that is not a positive number (a clock that did not move), or a
/// weight of 0, leaves `accuracy` as it is.
pub fn speed_weighted_score(
    accuracy: f64,
    reference_step_seconds: f64,
    candidate_step_seconds: f64,
    weight: f64,
) -> f64 {
    match pace_ratio(reference_step_seconds, candidate_step_seconds) {
        Some(ratio) if weight != 0.0 => accuracy * ratio.powf(-weight),
        _ => accuracy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slower_candidate_loses_what_a_faster_one_gains() {
        let w = MNASNET_SPEED_WEIGHT;
        assert_eq!(speed_weighted_score(80.0, 0.1, 0.1, w), 80.0);
        let slower = speed_weighted_score(80.0, 0.1, 0.2, w);
        let faster = speed_weighted_score(80.0, 0.2, 0.1, w);
        assert!((slower - 80.0 * 0.5f64.powf(w)).abs() < 1e-12, "{slower}");
        assert!((slower * faster - 80.0 * 80.0).abs() < 1e-9);
        // Twice the step time costs 4.7 % of the accuracy at w = 0.07.
        assert!((slower / 80.0 - 0.9526).abs() < 1e-4, "{slower}");
    }

    #[test]
    fn a_heavier_weight_moves_the_score_more() {
        let light = speed_weighted_score(80.0, 0.1, 0.3, 0.05);
        let heavy = speed_weighted_score(80.0, 0.1, 0.3, 0.2);
        assert!(heavy < light && light < 80.0, "{heavy} {light}");
    }

    #[test]
    fn no_weight_or_an_unusable_timing_keeps_the_accuracy() {
        assert_eq!(speed_weighted_score(80.0, 0.1, 0.3, 0.0), 80.0);
        assert_eq!(speed_weighted_score(80.0, 0.0, 0.3, 0.07), 80.0);
        assert_eq!(speed_weighted_score(80.0, 0.1, f64::NAN, 0.07), 80.0);
        assert_eq!(speed_weighted_score(80.0, f64::INFINITY, 0.1, 0.07), 80.0);
    }
}
