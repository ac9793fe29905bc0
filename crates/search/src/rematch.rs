//! A rematch: the starting cell and the candidate that beat it, trained again
//! with fresh seeds, so that one unlucky training run of either does not
//! decide what the final stage trains.

use crate::error::{Result, SearchError};
use crate::evaluator::Evaluator;
use crate::final_choice::accuracy_standard_error;
use metanas_space::SearchSpace;
use serde::Serialize;

/// Where the rematch's seeds start: `seed · 1,000,003 + REMATCH_SEED_OFFSET + r`
/// for repeat `r`, seeds that no trial of a search of fewer than a million
/// queries uses (the searcher seeds trial `i` with `seed · 1,000,003 + i`).
pub const REMATCH_SEED_OFFSET: u64 = 1_000_000;

/// The validation accuracies (%) of a starting cell and of the candidate that
/// beat it in the search, each the search's own trial first, then the
/// repeats. Both cells train with the same seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rematch {
    /// The starting cell's accuracies.
    pub start: Vec<f64>,
    /// The challenger's accuracies.
    pub challenger: Vec<f64>,
    /// The starting cell's repeats that failed (diverged, or any other error
    /// of the evaluator): they add no accuracy.
    pub start_failures: usize,
    /// The challenger's repeats that failed: one is enough for it to lose.
    pub challenger_failures: usize,
}

impl Rematch {
    /// Trains `start` and `challenger` (each with its accuracy in the
    /// search) `repeats` more times with `evaluator`, repeat `r` of both with
    /// the seed `seed · 1,000,003 + REMATCH_SEED_OFFSET + r`. A repeat that
    /// fails adds no accuracy and is counted.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] when an accuracy is not finite.
    pub fn run<S: SearchSpace>(
        evaluator: &mut dyn Evaluator<S>,
        start: (&S::Arch, f64),
        challenger: (&S::Arch, f64),
        repeats: usize,
        seed: u64,
    ) -> Result<Self> {
        if !(start.1.is_finite() && challenger.1.is_finite()) {
            return Err(SearchError::InvalidConfig(format!(
                "a rematch needs the search's accuracies of both cells, got {} and {}",
                start.1, challenger.1
            )));
        }
        let mut rematch = Self {
            start: vec![start.1],
            challenger: vec![challenger.1],
            start_failures: 0,
            challenger_failures: 0,
        };
        for r in 0..repeats as u64 {
            let seed = seed
                .wrapping_mul(1_000_003)
                .wrapping_add(REMATCH_SEED_OFFSET + r);
            for (arch, scores, failures) in [
                (start.0, &mut rematch.start, &mut rematch.start_failures),
                (
                    challenger.0,
                    &mut rematch.challenger,
                    &mut rematch.challenger_failures,
                ),
            ] {
                match evaluator.evaluate(arch, seed) {
                    Ok(measured) if measured.objective.is_finite() => {
                        scores.push(measured.objective);
                    }
                    _ => *failures += 1,
                }
            }
        }
        Ok(rematch)
    }

    /// The mean of the challenger's accuracies minus the starting cell's.
    pub fn difference(&self) -> f64 {
        mean(&self.challenger) - mean(&self.start)
    }

    /// One standard error of [`Self::difference`] (points):
    /// `√(v_s/k_s + v_c/k_c)`, each cell's variance its runs' sample variance,
    /// but never below the binomial variance of one accuracy on `examples`
    /// validation images (what re-drawing the images alone would give; with
    /// a single run, that is the variance).
    pub fn standard_error(&self, examples: f64) -> f64 {
        let variance_of_mean = |scores: &[f64]| {
            let floor = (100.0 * accuracy_standard_error(mean(scores) / 100.0, examples)).powi(2);
            sample_variance(scores).max(floor) / scores.len() as f64
        };
        (variance_of_mean(&self.start) + variance_of_mean(&self.challenger)).sqrt()
    }

    /// Whether the challenger's mean beats the starting cell's by more than
    /// one standard error of the difference, with none of its repeats failed
    /// (a cell that diverges on a fresh seed is no safe pick for the final
    /// stage, whatever its mean over the runs that finished).
    pub fn challenger_wins(&self, examples: f64) -> bool {
        self.challenger_failures == 0 && self.difference() > self.standard_error(examples)
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance (n − 1 in the denominator); 0 for fewer than two values.
fn sample_variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::Measurement;
    use metanas_data::Objective;
    use metanas_space::nb201::{Nb201Cell, Nb201Space};

    /// Scores a cell by its number of 3×3 convolutions plus the seed's last digit / 10.
    struct Counting {
        seeds: Vec<u64>,
    }

    impl Evaluator<Nb201Space> for Counting {
        fn describe(&self) -> String {
            "counting".into()
        }
        fn objective(&self) -> Objective {
            Objective::Maximize
        }
        fn evaluate(&mut self, arch: &Nb201Cell, seed: u64) -> Result<Measurement> {
            self.seeds.push(seed);
            let convs = Nb201Space.format(arch).matches("nor_conv_3x3").count();
            if convs == 0 {
                return Err(SearchError::InvalidConfig("diverged".into()));
            }
            Ok(Measurement::of(
                70.0 + convs as f64 + (seed % 10) as f64 / 10.0,
            ))
        }
    }

    fn cell(text: &str) -> Nb201Cell {
        Nb201Space.parse(text).expect("a cell")
    }

    #[test]
    fn both_cells_train_again_with_the_same_fresh_seeds() {
        let start =
            cell("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|");
        let challenger =
            cell("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|");
        let mut evaluator = Counting { seeds: Vec::new() };
        let rematch =
            Rematch::run(&mut evaluator, (&start, 71.0), (&challenger, 75.0), 2, 3).expect("runs");
        let first = 3u64 * 1_000_003 + REMATCH_SEED_OFFSET;
        assert_eq!(evaluator.seeds, [first, first, first + 1, first + 1]);
        let tenth = |s: u64| (s % 10) as f64 / 10.0;
        assert_eq!(
            rematch.start,
            [71.0, 72.0 + tenth(first), 72.0 + tenth(first + 1)]
        );
        assert_eq!(
            rematch.challenger,
            [75.0, 73.0 + tenth(first), 73.0 + tenth(first + 1)]
        );
        assert_eq!(
            (rematch.start_failures, rematch.challenger_failures),
            (0, 0)
        );
        // A failed repeat adds no accuracy, is counted, and loses the
        // challenger the rematch whatever its mean (75 against 72.1).
        let none = cell("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
        let rematch =
            Rematch::run(&mut evaluator, (&start, 71.0), (&none, 75.0), 2, 3).expect("runs");
        assert_eq!(rematch.challenger, [75.0]);
        assert_eq!(rematch.start.len(), 3);
        assert_eq!(
            (rematch.start_failures, rematch.challenger_failures),
            (0, 2)
        );
        assert!(rematch.difference() > rematch.standard_error(1e9));
        assert!(!rematch.challenger_wins(1e9));
        // The starting cell's failures only count: the challenger can still win.
        let rematch =
            Rematch::run(&mut evaluator, (&none, 60.0), (&start, 75.0), 2, 3).expect("runs");
        assert_eq!(
            (rematch.start_failures, rematch.challenger_failures),
            (2, 0)
        );
        assert!(rematch.challenger_wins(2000.0));
        assert!(Rematch::run(&mut evaluator, (&start, f64::NAN), (&none, 75.0), 1, 0).is_err());
    }

    #[test]
    fn the_challenger_wins_by_more_than_one_standard_error_of_the_means() {
        // Means 77 and 76 over three runs each; sample variances 1 and 1:
        // √(1/3 + 1/3) = 0.816 < 1.0, so the challenger wins.
        let close = Rematch {
            start: vec![75.0, 76.0, 77.0],
            challenger: vec![76.0, 77.0, 78.0],
            start_failures: 0,
            challenger_failures: 0,
        };
        assert!((close.difference() - 1.0).abs() < 1e-12);
        assert!((close.standard_error(1e9) - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!(close.challenger_wins(1e9));
        // On 2,000 validation images the binomial floor (0.95² ≈ 0.91 at
        // 76 %) is below the sample variance: the same error.
        assert!((close.standard_error(2000.0) - close.standard_error(1e9)).abs() < 1e-12);
        // On 200 images it is not (3.0² at 76 %): the challenger no longer wins.
        assert!(!close.challenger_wins(200.0));
        // One unlucky run of the starting cell: its spread counts.
        let unlucky = Rematch {
            start: vec![73.2, 77.0, 77.2],
            challenger: vec![77.9, 76.4, 77.0],
            start_failures: 0,
            challenger_failures: 0,
        };
        assert!(unlucky.difference() > 0.0);
        assert!(!unlucky.challenger_wins(2000.0));
        // A single run each: the binomial error of each accuracy alone.
        let single = Rematch {
            start: vec![77.0],
            challenger: vec![78.0],
            start_failures: 0,
            challenger_failures: 0,
        };
        let binomial = 100.0 * accuracy_standard_error(0.77, 2000.0);
        assert!(single.standard_error(2000.0) >= binomial * 2f64.sqrt() * 0.99);
    }
}
