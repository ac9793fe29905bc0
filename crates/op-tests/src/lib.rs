//! # metanas-op-tests
//!
//! Checks shared by the tests of metanas's ops (`metanas-conv`,
//! `metanas-norm`, `metanas-pool`), each of which compares its op with Burn's
//! on many shapes: a test runs the op and the reference, flattens each result
//! (values, gradients, statistics) into a named list, and hands both lists to
//! [`assert_within_relative_tolerance`]; [`assert_same_bits_on_one_and_three_threads`]
//! checks that a kernel that shares its work among rayon's threads gives the
//! same bits whatever their number. A dev-dependency only.

use std::fmt::Debug;

/// The tolerance the ops' tests give [`assert_within_relative_tolerance`]
/// unless their op allows a stricter one: sums of tens of thousands of
/// products taken in another order differ in their last bits, so results are
/// compared relative to their scale.
pub const RELATIVE_TOLERANCE: f32 = 1e-4;

/// A result's name and its values, flattened.
pub type NamedResult<N> = (N, Vec<f32>);

/// The largest elementwise difference between `ours` and `reference`, over
/// the largest magnitude in `reference` (at least `1e-12`, so an all-zero
/// reference compares differences with `1e-12`). Lengths must match.
pub fn largest_relative_difference(ours: &[f32], reference: &[f32]) -> f32 {
    let scale = reference
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-12);
    let difference = ours
        .iter()
        .zip(reference)
        .fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
    difference / scale
}

/// Panics unless `ours` and `reference` hold the same results, in the same
/// order and of the same lengths, and each of `ours` is within `tolerance`
/// of the reference's ([`largest_relative_difference`]). `case` is printed
/// with a failure.
pub fn assert_within_relative_tolerance<N: AsRef<str>>(
    ours: &[NamedResult<N>],
    reference: &[NamedResult<N>],
    tolerance: f32,
    case: impl Debug,
) {
    assert_eq!(ours.len(), reference.len(), "results of {case:?}");
    for ((what, a), (theirs, b)) in ours.iter().zip(reference) {
        let what = what.as_ref();
        assert_eq!(what, theirs.as_ref(), "result order of {case:?}");
        assert_eq!(a.len(), b.len(), "{what} length, {case:?}");
        let relative = largest_relative_difference(a, b);
        assert!(
            relative <= tolerance,
            "{what} differs by {relative} of its scale for {case:?}"
        );
    }
}

/// Runs `run` on a rayon pool of one thread and on one of three, and panics
/// unless every result is the same bits in both. `case` is printed with a
/// failure.
pub fn assert_same_bits_on_one_and_three_threads<N: AsRef<str> + Send>(
    run: impl Fn() -> Vec<NamedResult<N>> + Sync,
    case: impl Debug,
) {
    let on = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
            .install(&run)
    };
    let (one, three) = (on(1), on(3));
    assert_eq!(one.len(), three.len(), "results of {case:?}");
    for ((what, a), (_, b)) in one.iter().zip(&three) {
        assert!(
            a.len() == b.len() && a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{} differs between 1 and 3 threads for {case:?}",
            what.as_ref()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_is_relative_to_the_reference_scale() {
        assert_eq!(largest_relative_difference(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert_eq!(largest_relative_difference(&[1.0, 3.0], &[1.0, 4.0]), 0.25);
        assert_eq!(largest_relative_difference(&[0.0], &[0.0]), 0.0);
    }

    #[test]
    fn results_within_the_tolerance_pass() {
        let reference = vec![("output", vec![1000.0, -2.0])];
        let ours = vec![("output", vec![1000.05, -2.05])];
        assert_within_relative_tolerance(&ours, &reference, RELATIVE_TOLERANCE, "a case");
    }

    #[test]
    #[should_panic(expected = "gradient differs by")]
    fn a_result_outside_the_tolerance_fails() {
        let reference = vec![("output", vec![1.0]), ("gradient", vec![1.0, 2.0])];
        let ours = vec![("output", vec![1.0]), ("gradient", vec![1.0, 2.01])];
        assert_within_relative_tolerance(&ours, &reference, RELATIVE_TOLERANCE, "a case");
    }

    #[test]
    #[should_panic(expected = "length")]
    fn results_of_other_lengths_fail() {
        assert_within_relative_tolerance(
            &[("x", vec![1.0])],
            &[("x", vec![1.0, 2.0])],
            RELATIVE_TOLERANCE,
            (),
        );
    }

    #[test]
    fn a_sum_in_a_fixed_order_is_the_same_bits_on_any_pool() {
        assert_same_bits_on_one_and_three_threads(
            || vec![("sum", vec![(0..1000).map(|i| i as f32 * 0.1).sum::<f32>()])],
            "a sum",
        );
    }

    #[test]
    #[should_panic(expected = "threads differs between 1 and 3 threads")]
    fn a_result_that_follows_the_thread_count_fails() {
        assert_same_bits_on_one_and_three_threads(
            || vec![("threads", vec![rayon::current_num_threads() as f32])],
            "the pool's size",
        );
    }
}
