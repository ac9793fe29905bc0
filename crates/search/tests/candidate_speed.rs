//! A candidate's speed against a reference cell's: time-matched training
//! (a cheaper cell trains more steps) and the speed-weighted score (a
//! cheaper cell scores more than its accuracy).

use metanas_search::{
    Evaluator, Measurement, NetworkSize, REFERENCE_STEP_SECONDS, STEP_SECONDS, SpeedWeights,
    TrainingEvaluator, VALIDATION_ACCURACY,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};

const STEPS: usize = 20;
const LARGEST: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
/// No convolution in the cell: only the stem and the reduction blocks convolve.
const SKIPS: &str = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|";

mod common;

/// The size at which both tests time the paces.
const PACE_SIZE: NetworkSize = NetworkSize {
    channels: 8,
    cells_per_stage: 1,
};

fn evaluator() -> TrainingEvaluator<Nb201Space> {
    common::toy_evaluator(96, [1, 16, 16], 8, STEPS, 16)
}

fn cell(text: &str) -> Nb201Cell {
    Nb201Space.parse(text).expect("cell")
}

/// A recorded detail of `measurement`, which must be there.
fn detail(measurement: &Measurement, name: &str) -> f64 {
    measurement.details.get(name).copied().expect(name)
}

/// Panics unless the evaluator's description (its part of the search key)
/// contains `text`.
fn assert_describes(evaluator: &TrainingEvaluator<Nb201Space>, text: &str) {
    let description = evaluator.describe();
    assert!(description.contains(text), "{description}");
}

/// The candidate's and the reference's recorded step times, checking that
/// the candidate (no convolution in its cell) is the faster.
fn faster_than_the_reference(measurement: &Measurement) -> (f64, f64) {
    let pace = detail(measurement, STEP_SECONDS);
    let reference_pace = detail(measurement, REFERENCE_STEP_SECONDS);
    assert!(
        pace > 0.0 && reference_pace > pace,
        "{pace} vs {reference_pace}"
    );
    (pace, reference_pace)
}

#[test]
fn a_cell_without_convolutions_trains_more_steps_than_the_largest_reference() {
    let mut evaluator =
        evaluator().with_time_matched_steps(cell(LARGEST), "the largest cell", PACE_SIZE);
    assert_describes(&evaluator, "of the largest cell's time at C=8 N=1");
    let measurement = evaluator.evaluate(&cell(SKIPS), 0).expect("trained");
    let (pace, reference_pace) = faster_than_the_reference(&measurement);
    let steps = detail(&measurement, "steps") as usize;
    assert_eq!(
        steps,
        metanas_search::time_matched_steps(STEPS, reference_pace, pace)
    );
    // The cell's convolutions are most of the largest network's work.
    assert!(steps > STEPS, "{steps} steps");
    assert!(measurement.objective.is_finite());
}

#[test]
fn without_time_matching_every_candidate_trains_the_configured_steps() {
    let mut evaluator = evaluator();
    let measurement = evaluator.evaluate(&cell(SKIPS), 0).expect("trained");
    assert_eq!(measurement.details.get("steps"), Some(&(STEPS as f64)));
    assert!(!measurement.details.contains_key(STEP_SECONDS));
}

#[test]
fn the_speed_weighted_score_is_the_accuracy_weighed_by_the_measured_paces() {
    let skips = cell(SKIPS);
    let weight = SpeedWeights::symmetric(metanas_search::MNASNET_SPEED_WEIGHT);
    let mut weighted =
        evaluator().with_speed_weighted_score(cell(LARGEST), "the largest cell", PACE_SIZE, weight);
    assert_describes(
        &weighted,
        "scored as accuracy × (step time / the largest cell's at C=8 N=1)^-0.07",
    );
    let measurement = weighted.evaluate(&skips, 0).expect("trained");
    let (pace, reference_pace) = faster_than_the_reference(&measurement);
    // The candidates still train the configured steps.
    assert_eq!(detail(&measurement, "steps") as usize, STEPS);
    let accuracy = detail(&measurement, VALIDATION_ACCURACY);
    assert!(accuracy > 0.0, "{accuracy}");
    let expected = metanas_search::speed_weighted_score(accuracy, reference_pace, pace, weight);
    assert_eq!(measurement.objective, expected);
    // Faster than the reference: the score is above the accuracy.
    assert!(measurement.objective > accuracy, "{measurement:?}");

    // The same candidate, seed and steps without the weight: the accuracy is
    // the same (the paces are timed on networks of their own), the score is it.
    let mut plain = evaluator();
    let unweighted = plain.evaluate(&skips, 0).expect("trained");
    assert_eq!(unweighted.objective, accuracy);
    assert_eq!(unweighted.details.get(VALIDATION_ACCURACY), Some(&accuracy));
}

#[test]
fn without_a_speed_bonus_only_a_slower_candidate_scores_below_its_accuracy() {
    let weights = SpeedWeights::slower_only(metanas_search::MNASNET_SPEED_WEIGHT);
    let mut against_largest = evaluator().with_speed_weighted_score(
        cell(LARGEST),
        "the largest cell",
        PACE_SIZE,
        weights,
    );
    assert_describes(
        &against_largest,
        "scored as accuracy × max(1, step time / the largest cell's at C=8 N=1)^-0.07",
    );
    let faster = against_largest.evaluate(&cell(SKIPS), 0).expect("trained");
    faster_than_the_reference(&faster);
    assert_eq!(faster.objective, detail(&faster, VALIDATION_ACCURACY));

    // The other way round: the largest cell against the cell of skips.
    let mut against_skips =
        evaluator().with_speed_weighted_score(cell(SKIPS), "the skips cell", PACE_SIZE, weights);
    let slower = against_skips.evaluate(&cell(LARGEST), 0).expect("trained");
    let (pace, reference_pace) = (
        detail(&slower, STEP_SECONDS),
        detail(&slower, REFERENCE_STEP_SECONDS),
    );
    assert!(pace > reference_pace, "{pace} vs {reference_pace}");
    let accuracy = detail(&slower, VALIDATION_ACCURACY);
    assert_eq!(
        slower.objective,
        metanas_search::speed_weighted_score(accuracy, reference_pace, pace, weights)
    );
    assert!(accuracy > 0.0, "{accuracy}");
    assert!(slower.objective < accuracy, "{slower:?}");
}
