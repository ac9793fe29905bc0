//! Which finished trial a search hands to its final stage.

use crate::error::{Result, SearchError};
use crate::measurement::Trial;
use crate::searcher::SearchOutcome;
use metanas_data::Objective;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Detail key of a trial's validation-set size (real training).
pub const VALIDATION_EXAMPLES: &str = "validation_examples";
/// Detail key of a trial's FLOPs per image (real training).
pub const FLOPS: &str = "flops";

/// The rule that picks the search's result among its finished trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinalChoice {
    /// The trial with the best objective.
    #[default]
    Best,
    /// The one-standard-error rule: among the trials whose validation
    /// accuracy is within one standard error of the best
    /// (`100·√(p(1−p)/n)` points, `p` the best accuracy, `n` its validation
    /// images), the one with the fewest FLOPs (ties: the better objective,
    /// then the earlier query). For accuracy trials of real training, whose
    /// measurements record `validation_examples` and `flops`. Under a
    /// final-stage time budget the cheaper network trains more epochs.
    CheapestWithinError,
    /// The starting cell (see [`crate::StartingCells`]) unless a candidate
    /// beats it by more than one standard error: when the best starting
    /// cell's validation accuracy is within one standard error of the best
    /// (as for [`FinalChoice::CheapestWithinError`]), that starting cell;
    /// otherwise the best. A design the user trusts is kept unless the
    /// search measured something clearly better. Without a finished starting
    /// cell: the best. One training run of either cell is noisy (the same
    /// cell's 100-step accuracy moves by points from seed to seed): a caller
    /// can confirm a win with a [`crate::Rematch`] before it hands the best
    /// to the final stage.
    StartWithinError,
}

impl FinalChoice {
    /// The command-line names, for messages.
    pub const NAMES: &'static str = "best, cheapest-within-error, start-within-error";

    /// The index in `outcome.trials` of the finished trial with the highest
    /// objective among the starting cells (`starting`: their canonical
    /// hashes), if any.
    pub fn best_starting_trial(outcome: &SearchOutcome, starting: &[String]) -> Option<usize> {
        outcome
            .trials
            .iter()
            .enumerate()
            .filter(|(_, t)| starting.contains(&t.canonical_hash))
            .filter_map(|(i, t)| t.objective().map(|o| (i, o)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// The index in `outcome.trials` of the trial this rule picks (`None`
    /// when no trial finished). `objective` is the search's direction;
    /// `starting` the canonical hashes of the search's starting cells (read
    /// by [`FinalChoice::StartWithinError`] only).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] for [`FinalChoice::CheapestWithinError`],
    /// and for [`FinalChoice::StartWithinError`] when a starting cell
    /// finished, on trials that are not accuracies of real training (the
    /// objective is minimised, or the best trial lacks `validation_examples`,
    /// or its accuracy is outside 0–100 %, or, for the cheapest, a trial
    /// within the margin lacks `flops`).
    pub fn choose(
        self,
        outcome: &SearchOutcome,
        objective: Objective,
        starting: &[String],
    ) -> Result<Option<usize>> {
        let Some(best) = outcome.best_trial() else {
            return Ok(None);
        };
        let start = Self::best_starting_trial(outcome, starting);
        if self == Self::Best || (self == Self::StartWithinError && start.is_none()) {
            return Ok(outcome.best);
        }
        if objective != Objective::Maximize {
            return Err(needs_accuracy("the objective is minimised"));
        }
        let detail = |trial: &Trial, key: &str| -> Result<f64> {
            trial
                .detail(key)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    needs_accuracy(&format!(
                        "trial {} (`{}`) records no `{key}`",
                        trial.index + 1,
                        trial.architecture
                    ))
                })
        };
        let best_objective = best.objective().unwrap_or(f64::NAN);
        let examples = detail(best, VALIDATION_EXAMPLES)?;
        if !(0.0..=100.0).contains(&best_objective) || examples < 1.0 {
            return Err(needs_accuracy(&format!(
                "the best objective {best_objective} is not an accuracy in % over {examples} images"
            )));
        }
        let margin = 100.0 * accuracy_standard_error(best_objective / 100.0, examples);
        if self == Self::StartWithinError {
            return Ok(match start {
                Some(i)
                    if outcome.trials[i]
                        .objective()
                        .is_some_and(|a| a >= best_objective - margin) =>
                {
                    Some(i)
                }
                _ => outcome.best,
            });
        }
        let mut chosen: Option<(usize, f64, f64)> = None;
        for (i, trial) in outcome.trials.iter().enumerate() {
            let Some(accuracy) = trial.objective() else {
                continue;
            };
            if accuracy < best_objective - margin {
                continue;
            }
            let flops = detail(trial, FLOPS)?;
            let cheaper = match chosen {
                None => true,
                Some((_, f, o)) => flops < f || (flops == f && accuracy > o),
            };
            if cheaper {
                chosen = Some((i, flops, accuracy));
            }
        }
        Ok(chosen.map(|(i, _, _)| i))
    }
}

/// One standard error, `√(p(1−p)/n)`, of an accuracy `p` (a fraction)
/// measured on `examples` images.
pub fn accuracy_standard_error(accuracy: f64, examples: f64) -> f64 {
    let p = accuracy.clamp(0.0, 1.0);
    (p * (1.0 - p) / examples).sqrt()
}

fn needs_accuracy(why: &str) -> SearchError {
    SearchError::InvalidConfig(format!(
        "--final-choice cheapest-within-error and start-within-error need validation \
         accuracies of real training (an image task): {why}; use --final-choice best"
    ))
}

impl std::fmt::Display for FinalChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Best => "best",
            Self::CheapestWithinError => "cheapest-within-error",
            Self::StartWithinError => "start-within-error",
        })
    }
}

impl FromStr for FinalChoice {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "best" => Ok(Self::Best),
            "cheapest-within-error" => Ok(Self::CheapestWithinError),
            "start-within-error" => Ok(Self::StartWithinError),
            other => Err(SearchError::InvalidConfig(format!(
                "unknown final choice `{other}`; expected one of: {}",
                Self::NAMES
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::{Measurement, TrialOutcome};
    use crate::searcher::StopReason;

    fn trial(index: usize, accuracy: f64, flops: f64) -> Trial {
        let mut m = Measurement::of(accuracy);
        m.details.insert(VALIDATION_EXAMPLES.into(), 2000.0);
        m.details.insert(FLOPS.into(), flops);
        Trial {
            index,
            architecture: format!("cell{index}"),
            canonical_hash: format!("{index:x}"),
            outcome: TrialOutcome::Finished(m),
            seconds: 1.0,
        }
    }

    /// A search that ended with `trials`, the searcher's best at `best`.
    fn searched(trials: Vec<Trial>, best: Option<usize>) -> SearchOutcome {
        SearchOutcome {
            trials,
            best,
            replayed: 0,
            free_repeats: 0,
            stop: StopReason::QueryBudget,
        }
    }

    fn failed(index: usize) -> Trial {
        Trial {
            outcome: TrialOutcome::Failed {
                error: "diverged".into(),
            },
            ..trial(index, 0.0, 0.0)
        }
    }

    #[test]
    fn the_standard_error_of_an_accuracy_is_binomial() {
        // √(0.78·0.22/2000) = 0.926 %.
        assert!((accuracy_standard_error(0.78, 2000.0) - 0.009263).abs() < 1e-5);
        assert_eq!(accuracy_standard_error(1.0, 50.0), 0.0);
    }

    #[test]
    fn best_takes_the_searchers_best_either_way() {
        let trials = vec![trial(0, 77.0, 1e6), failed(1), trial(2, 78.0, 5e6)];
        for objective in [Objective::Maximize, Objective::Minimize] {
            let outcome = searched(trials.clone(), Some(2));
            assert_eq!(
                FinalChoice::Best
                    .choose(&outcome, objective, &[])
                    .expect("chosen"),
                Some(2)
            );
        }
        for rule in [FinalChoice::Best, FinalChoice::CheapestWithinError] {
            let outcome = searched(vec![failed(0)], None);
            assert_eq!(
                rule.choose(&outcome, Objective::Maximize, &[])
                    .expect("chosen"),
                None
            );
        }
    }

    #[test]
    fn the_cheapest_within_one_standard_error_is_chosen() {
        // Best 78.0 % on 2000 images: one standard error is 0.93 points, so
        // 77.2 % is within it and 76.9 % is not.
        let trials = vec![
            trial(0, 78.0, 9e6),
            trial(1, 77.2, 4e6),
            trial(2, 76.9, 1e6),
            failed(3),
            trial(4, 77.5, 4e6),
        ];
        let outcome = searched(trials, Some(0));
        let chosen = FinalChoice::CheapestWithinError.choose(&outcome, Objective::Maximize, &[]);
        // 1 and 4 tie on FLOPs; 4 has the better accuracy.
        assert_eq!(chosen.expect("chosen"), Some(4));
        // The best alone within its error: the best.
        let alone = vec![trial(0, 78.0, 9e6), trial(1, 70.0, 1e6)];
        let outcome = searched(alone, Some(0));
        let chosen = FinalChoice::CheapestWithinError.choose(&outcome, Objective::Maximize, &[]);
        assert_eq!(chosen.expect("chosen"), Some(0));
    }

    #[test]
    fn the_starting_cell_is_kept_unless_beaten_by_more_than_one_standard_error() {
        // Best 78.0 % on 2000 images: one standard error is 0.93 points.
        let rule = FinalChoice::StartWithinError;
        let trials = vec![
            trial(0, 77.2, 4e6),
            trial(1, 78.0, 9e6),
            trial(2, 76.0, 1e6),
        ];
        let outcome = searched(trials, Some(1));
        let start = |i: usize| vec![format!("{i:x}")];
        let chosen = |starting: &[String]| {
            rule.choose(&outcome, Objective::Maximize, starting)
                .expect("chosen")
        };
        // Query 1 is 0.8 points below the best: within one standard error.
        assert_eq!(chosen(&start(0)), Some(0));
        // Query 3 is 2.0 points below: beaten, so the best.
        assert_eq!(chosen(&start(2)), Some(1));
        // The better of two starting cells; the best itself when it is one.
        assert_eq!(chosen(&[start(2), start(0)].concat()), Some(0));
        assert_eq!(chosen(&start(1)), Some(1));
        // No starting cell among the trials (or none finished): the best.
        assert_eq!(chosen(&[]), Some(1));
        assert_eq!(
            FinalChoice::best_starting_trial(&outcome, &[start(2), start(0)].concat()),
            Some(0)
        );
        let minimised = rule
            .choose(&outcome, Objective::Minimize, &start(0))
            .expect_err("refused");
        assert!(
            minimised.to_string().contains("start-within-error"),
            "{minimised}"
        );
        let failed_start = searched(vec![failed(0), trial(1, 78.0, 9e6)], Some(1));
        assert_eq!(
            rule.choose(&failed_start, Objective::Maximize, &start(0))
                .expect("chosen"),
            Some(1)
        );
    }

    #[test]
    fn the_error_rule_refuses_trials_that_are_not_accuracies_of_training() {
        let rule = FinalChoice::CheapestWithinError;
        let outcome = searched(vec![trial(0, 78.0, 9e6)], Some(0));
        let minimised = rule
            .choose(&outcome, Objective::Minimize, &[])
            .expect_err("refused");
        assert!(
            minimised.to_string().contains("--final-choice best"),
            "{minimised}"
        );
        let table = searched(
            vec![Trial {
                outcome: TrialOutcome::Finished(Measurement::of(91.0)),
                ..trial(0, 0.0, 0.0)
            }],
            Some(0),
        );
        let lookup = rule
            .choose(&table, Objective::Maximize, &[])
            .expect_err("refused");
        assert!(
            lookup.to_string().contains("validation_examples"),
            "{lookup}"
        );
    }

    #[test]
    fn names_parse_and_unknown_ones_are_listed() {
        assert_eq!(
            "best".parse::<FinalChoice>().expect("known"),
            FinalChoice::Best
        );
        assert_eq!(
            "cheapest-within-error"
                .parse::<FinalChoice>()
                .expect("known"),
            FinalChoice::CheapestWithinError
        );
        let error = "cheapest"
            .parse::<FinalChoice>()
            .expect_err("refused")
            .to_string();
        assert!(error.contains(FinalChoice::NAMES), "{error}");
        for rule in [
            FinalChoice::Best,
            FinalChoice::CheapestWithinError,
            FinalChoice::StartWithinError,
        ] {
            assert_eq!(
                rule.to_string().parse::<FinalChoice>().expect("known"),
                rule
            );
        }
    }
}
