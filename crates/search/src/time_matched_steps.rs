//! How long each candidate trains: the same steps, or the same time.
//!
//! A final stage with a time budget gives a cell whose steps are twice as
//! fast twice the epochs, so its speed is part of the accuracy it reaches.
//! Candidates trained for equal steps are ranked without that part; trained
//! for equal time, their speed enters the ranking. At a horizon of a few
//! hundred steps that favours the smallest networks, which learn the most per
//! second early on, whatever they reach after many epochs: measured in
//! `docs/decisions/0017-candidates-train-equal-steps.md`.

use crate::pace_reference::pace_ratio;

/// The steps that give a candidate the time `base` steps of the reference
/// take: `base × reference / candidate` (seconds per step), kept within
/// `[base / 4, 4 × base]` and rounded to a twentieth of `base`, so that
/// timing jitter of a few percent moves few candidates' counts. A pace that
/// is not a positive number (a clock that did not move) gives `base`.
pub fn time_matched_steps(
    base: usize,
    reference_step_seconds: f64,
    candidate_step_seconds: f64,
) -> usize {
    let ratio = pace_ratio(reference_step_seconds, candidate_step_seconds);
    let Some(ratio) = ratio.filter(|_| base > 0) else {
        return base;
    };
    let grain = (base / 20).max(1) as f64;
    let matched = base as f64 / ratio;
    let lowest = (base / 4).max(1) as f64;
    let highest = (4 * base) as f64;
    let rounded = (matched.clamp(lowest, highest) / grain).round() * grain;
    rounded.clamp(lowest, highest) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faster_candidate_gets_more_steps_and_a_slower_one_fewer() {
        assert_eq!(time_matched_steps(100, 0.1, 0.1), 100);
        assert_eq!(time_matched_steps(100, 0.1, 0.05), 200);
        assert_eq!(time_matched_steps(100, 0.1, 0.2), 50);
        // Rounded to a twentieth of the base: 100 × 0.1 / 0.0731 = 136.8.
        assert_eq!(time_matched_steps(100, 0.1, 0.0731), 135);
    }

    #[test]
    fn the_steps_stay_within_a_quarter_and_four_times_the_base() {
        assert_eq!(time_matched_steps(100, 1.0, 0.001), 400);
        assert_eq!(time_matched_steps(100, 0.001, 1.0), 25);
        assert_eq!(time_matched_steps(3, 0.001, 1.0), 1);
    }

    #[test]
    fn an_unusable_timing_keeps_the_base() {
        assert_eq!(time_matched_steps(100, 0.0, 0.1), 100);
        assert_eq!(time_matched_steps(100, 0.1, f64::NAN), 100);
        assert_eq!(time_matched_steps(100, f64::INFINITY, 0.1), 100);
        assert_eq!(time_matched_steps(0, 0.1, 0.2), 0);
    }
}
