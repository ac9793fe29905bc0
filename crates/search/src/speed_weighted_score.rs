//! A candidate's score when the final stage has a time budget: its
//! validation accuracy weighed by its speed.
//!
//! Candidates train for equal steps, so their validation accuracies say
//! nothing of how many epochs each would get under `--final-time`, where a
//! cell whose steps are twice as fast trains twice the epochs. Training them
//! for equal time instead ranks the smallest networks first
//! (`docs/decisions/0017-candidates-train-equal-steps.md`). This score keeps
//! the equal-steps accuracy and multiplies it by a speed term, the form of
//! MnasNet's latency-aware objective (Tan et al., 2019, "MnasNet:
//! Platform-Aware Neural Architecture Search for Mobile", eq. 2:
//! `ACC × (LAT / T)^w` with `w = α` when `LAT ≤ T` and `w = β` otherwise;
//! `α = β = −0.07` is its soft constraint), the step time measured at the
//! final stage's size and the target `T` a reference cell's step time.

use crate::pace_reference::pace_ratio;

/// The weight of [`speed_weighted_score`] that MnasNet uses (`w = −0.07`,
/// its soft constraint): a network whose steps take twice as long as the
/// reference's scores `2^−0.07 = 0.953` of its accuracy, one twice as fast
/// `1.050` of it.
pub const MNASNET_SPEED_WEIGHT: f64 = 0.07;

/// How much speed counts in [`speed_weighted_score`], on each side of the
/// reference: MnasNet's `−α` for a candidate whose steps take at most the
/// reference's time, `−β` for a slower one. Both should be finite and
/// non-negative (the caller's to check: `cargo xtask search` refuses others).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedWeights {
    /// The weight when the candidate's steps are as fast as the reference's
    /// or faster: the gain it gets for the epochs it would train beyond the
    /// reference's.
    pub faster: f64,
    /// The weight when its steps are slower: the loss for the epochs it
    /// would not train.
    pub slower: f64,
}

impl SpeedWeights {
    /// The same weight on both sides (MnasNet's soft constraint).
    pub fn symmetric(weight: f64) -> Self {
        Self {
            faster: weight,
            slower: weight,
        }
    }

    /// A slower candidate loses by `weight`, a faster one gains nothing:
    /// among the candidates at least as fast as the reference the score is
    /// the accuracy alone (MnasNet's `α = 0`).
    pub fn slower_only(weight: f64) -> Self {
        Self {
            faster: 0.0,
            slower: weight,
        }
    }

    /// How a description (and a search key) writes the score, with `ratio`
    /// standing for the step time over the reference's.
    pub fn formula(&self, ratio: &str) -> String {
        if self.faster == self.slower {
            format!("accuracy × ({ratio})^-{}", self.slower)
        } else if self.faster == 0.0 {
            format!("accuracy × max(1, {ratio})^-{}", self.slower)
        } else {
            format!(
                "accuracy × ({ratio})^-{} when slower, ^-{} when faster",
                self.slower, self.faster
            )
        }
    }
}

/// `accuracy × (candidate_step_seconds / reference_step_seconds)^−w`, with
/// `w` the weight of the side of the reference the candidate is on. A timing
/// that is not a positive number (a clock that did not move), or a weight of
/// 0 on the candidate's side, leaves `accuracy` as it is.
pub fn speed_weighted_score(
    accuracy: f64,
    reference_step_seconds: f64,
    candidate_step_seconds: f64,
    weights: SpeedWeights,
) -> f64 {
    let Some(ratio) = pace_ratio(reference_step_seconds, candidate_step_seconds) else {
        return accuracy;
    };
    let weight = if ratio <= 1.0 {
        weights.faster
    } else {
        weights.slower
    };
    if weight == 0.0 {
        accuracy
    } else {
        accuracy * ratio.powf(-weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slower_candidate_loses_what_a_faster_one_gains() {
        let w = SpeedWeights::symmetric(MNASNET_SPEED_WEIGHT);
        assert_eq!(speed_weighted_score(80.0, 0.1, 0.1, w), 80.0);
        let slower = speed_weighted_score(80.0, 0.1, 0.2, w);
        let faster = speed_weighted_score(80.0, 0.2, 0.1, w);
        assert!(
            (slower - 80.0 * 0.5f64.powf(MNASNET_SPEED_WEIGHT)).abs() < 1e-12,
            "{slower}"
        );
        assert!((slower * faster - 80.0 * 80.0).abs() < 1e-9);
        // Twice the step time costs 4.7 % of the accuracy at w = 0.07.
        assert!((slower / 80.0 - 0.9526).abs() < 1e-4, "{slower}");
    }

    #[test]
    fn slower_only_weights_leave_a_faster_candidate_its_accuracy() {
        let both = SpeedWeights::symmetric(MNASNET_SPEED_WEIGHT);
        let slower_only = SpeedWeights::slower_only(MNASNET_SPEED_WEIGHT);
        assert_eq!(speed_weighted_score(80.0, 0.2, 0.1, slower_only), 80.0);
        assert_eq!(speed_weighted_score(80.0, 0.1, 0.1, slower_only), 80.0);
        assert_eq!(
            speed_weighted_score(80.0, 0.1, 0.2, slower_only),
            speed_weighted_score(80.0, 0.1, 0.2, both)
        );
        // A less accurate candidate at half the step time: above the
        // reference's 80 with the bonus, below it without.
        assert!(speed_weighted_score(78.0, 0.2, 0.1, both) > 80.0);
        assert_eq!(speed_weighted_score(78.0, 0.2, 0.1, slower_only), 78.0);
    }

    #[test]
    fn a_heavier_weight_moves_the_score_more() {
        let light = speed_weighted_score(80.0, 0.1, 0.3, SpeedWeights::symmetric(0.05));
        let heavy = speed_weighted_score(80.0, 0.1, 0.3, SpeedWeights::symmetric(0.2));
        assert!(heavy < light && light < 80.0, "{heavy} {light}");
    }

    #[test]
    fn no_weight_or_an_unusable_timing_keeps_the_accuracy() {
        let w = SpeedWeights::symmetric(0.07);
        assert_eq!(
            speed_weighted_score(80.0, 0.1, 0.3, SpeedWeights::symmetric(0.0)),
            80.0
        );
        assert_eq!(speed_weighted_score(80.0, 0.0, 0.3, w), 80.0);
        assert_eq!(speed_weighted_score(80.0, 0.1, f64::NAN, w), 80.0);
        assert_eq!(speed_weighted_score(80.0, f64::INFINITY, 0.1, w), 80.0);
    }

    #[test]
    fn the_formula_names_the_sides_that_count() {
        let ratio = "r";
        assert_eq!(
            SpeedWeights::symmetric(0.07).formula(ratio),
            "accuracy × (r)^-0.07"
        );
        assert_eq!(
            SpeedWeights::slower_only(0.07).formula(ratio),
            "accuracy × max(1, r)^-0.07"
        );
        let uneven = SpeedWeights {
            faster: 0.02,
            slower: 0.07,
        };
        assert_eq!(
            uneven.formula(ratio),
            "accuracy × (r)^-0.07 when slower, ^-0.02 when faster"
        );
    }
}
