//! Measures of a finished search for comparisons: best-so-far curves, regret,
//! queries to reach a target.

use crate::measurement::Trial;
use metanas_data::Objective;

/// After each query, the report metric (e.g. test accuracy) of the trial that
/// is best so far by the objective (e.g. validation accuracy): NAS-Bench-201's
/// protocol. `None` until a trial with a report has finished.
pub fn best_report_curve(trials: &[Trial], objective: Objective) -> Vec<Option<f64>> {
    let mut best: Option<(f64, Option<f64>)> = None;
    trials
        .iter()
        .map(|t| {
            if let Some(m) = t.measurement()
                && best.is_none_or(|(b, _)| objective.better(m.objective, b))
            {
                best = Some((m.objective, m.report));
            }
            best.and_then(|(_, r)| r)
        })
        .collect()
}

/// After each query, the best report metric among all cells queried so far
/// (the look-up protocol of transfer NAS papers: a user who evaluates the
/// queried cells fully keeps the best). `None` until a report exists.
pub fn best_report_seen_curve(trials: &[Trial], objective: Objective) -> Vec<Option<f64>> {
    let mut best: Option<f64> = None;
    trials
        .iter()
        .map(|t| {
            if let Some(r) = t.measurement().and_then(|m| m.report)
                && best.is_none_or(|b| objective.better(r, b))
            {
                best = Some(r);
            }
            best
        })
        .collect()
}

/// The first query (1-based) after which the best-so-far report reaches
/// `target` (within `tolerance`); `None` if never.
pub fn queries_to_reach(
    curve: &[Option<f64>],
    target: f64,
    objective: Objective,
    tolerance: f64,
) -> Option<usize> {
    curve
        .iter()
        .position(|r| {
            r.is_some_and(|r| match objective {
                Objective::Maximize => r >= target - tolerance,
                Objective::Minimize => r <= target + tolerance,
            })
        })
        .map(|i| i + 1)
}

/// `|optimum − best-so-far report|` after `queries` queries (the last value
/// if the search was shorter); `None` before any report.
pub fn regret_at(curve: &[Option<f64>], queries: usize, optimum: f64) -> Option<f64> {
    let i = queries.min(curve.len()).checked_sub(1)?;
    curve[i].map(|r| (optimum - r).abs())
}

/// The first query (1-based) that evaluated the cell whose canonical hash
/// is `canonical_hash` (or one isomorphic to it), e.g. the space's best cell
/// by the objective; `None` if the search never did.
pub fn queries_to_evaluate(trials: &[Trial], canonical_hash: &str) -> Option<usize> {
    trials
        .iter()
        .position(|t| t.canonical_hash == canonical_hash && t.measurement().is_some())
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::{Measurement, TrialOutcome};

    fn trial(i: usize, objective: f64, report: f64) -> Trial {
        Trial {
            index: i,
            architecture: String::new(),
            canonical_hash: String::new(),
            outcome: TrialOutcome::Finished(Measurement {
                report: Some(report),
                ..Measurement::of(objective)
            }),
            seconds: 0.0,
        }
    }

    #[test]
    fn curve_follows_the_objective_not_the_report() {
        // The second trial has the best report but a worse objective: not chosen.
        let trials = [
            trial(0, 50.0, 60.0),
            trial(1, 40.0, 99.0),
            trial(2, 70.0, 65.0),
        ];
        let curve = best_report_curve(&trials, Objective::Maximize);
        assert_eq!(curve, vec![Some(60.0), Some(60.0), Some(65.0)]);
        assert_eq!(
            queries_to_reach(&curve, 65.0, Objective::Maximize, 1e-9),
            Some(3)
        );
        assert_eq!(
            queries_to_reach(&curve, 99.0, Objective::Maximize, 1e-9),
            None
        );
        assert_eq!(regret_at(&curve, 1, 70.0), Some(10.0));
        assert_eq!(regret_at(&curve, 10, 70.0), Some(5.0));
        let seen = best_report_seen_curve(&trials, Objective::Maximize);
        assert_eq!(seen, vec![Some(60.0), Some(99.0), Some(99.0)]);
    }

    #[test]
    fn queries_to_evaluate_a_cell_count_from_one() {
        let mut trials = vec![trial(0, 1.0, 1.0), trial(1, 2.0, 2.0), trial(2, 3.0, 3.0)];
        trials[1].canonical_hash = "b".into();
        trials[2].canonical_hash = "c".into();
        assert_eq!(queries_to_evaluate(&trials, "b"), Some(2));
        assert_eq!(queries_to_evaluate(&trials, "z"), None);
        trials[1].outcome = TrialOutcome::Failed {
            error: "diverged".into(),
        };
        assert_eq!(queries_to_evaluate(&trials, "b"), None);
    }
}
