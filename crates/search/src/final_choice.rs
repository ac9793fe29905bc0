//! Which finished trial a search hands to its final stage.

use crate::error::{Result, SearchError};
use crate::measurement::Trial;
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
}

impl FinalChoice {
    /// The command-line names, for messages.
    pub const NAMES: &'static str = "best, cheapest-within-error";

    /// The index in `trials` of the trial this rule picks (`None` when no
    /// trial finished).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] for [`FinalChoice::CheapestWithinError`]
    /// on trials that are not accuracies of real training (the objective is
    /// minimised, or a finished trial lacks `validation_examples` or `flops`,
    /// or its accuracy is outside 0–100 %).
    pub fn choose(self, trials: &[Trial], objective: Objective) -> Result<Option<usize>> {
        let finished = trials
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.measurement().map(|m| (i, m)));
        let best = finished
            .clone()
            .fold(None, |best: Option<(usize, f64)>, (i, m)| match best {
                Some((_, b)) if !objective.better(m.objective, b) => best,
                _ => Some((i, m.objective)),
            });
        let Some((best_index, best_objective)) = best else {
            return Ok(None);
        };
        match self {
            Self::Best => Ok(Some(best_index)),
            Self::CheapestWithinError => {
                if objective != Objective::Maximize {
                    return Err(needs_accuracy("the objective is minimised"));
                }
                let detail = |i: usize, key: &str| -> Result<f64> {
                    trials[i]
                        .measurement()
                        .and_then(|m| m.details.get(key).copied())
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| {
                            needs_accuracy(&format!(
                                "trial {} (`{}`) records no `{key}`",
                                i + 1,
                                trials[i].architecture
                            ))
                        })
                };
                let examples = detail(best_index, VALIDATION_EXAMPLES)?;
                if !(0.0..=100.0).contains(&best_objective) || examples < 1.0 {
                    return Err(needs_accuracy(&format!(
                        "the best objective {best_objective} is not an accuracy in % over {examples} images"
                    )));
                }
                let margin = standard_error_points(best_objective, examples);
                let mut chosen: Option<(usize, f64, f64)> = None;
                for (i, m) in finished {
                    if m.objective < best_objective - margin {
                        continue;
                    }
                    let flops = detail(i, FLOPS)?;
                    let cheaper = match chosen {
                        None => true,
                        Some((_, f, o)) => flops < f || (flops == f && m.objective > o),
                    };
                    if cheaper {
                        chosen = Some((i, flops, m.objective));
                    }
                }
                Ok(chosen.map(|(i, _, _)| i))
            }
        }
    }
}

/// One standard error, in percentage points, of an accuracy of `accuracy`
/// percent measured on `examples` images.
pub fn standard_error_points(accuracy: f64, examples: f64) -> f64 {
    let p = (accuracy / 100.0).clamp(0.0, 1.0);
    100.0 * (p * (1.0 - p) / examples).sqrt()
}

fn needs_accuracy(why: &str) -> SearchError {
    SearchError::InvalidConfig(format!(
        "--final-choice cheapest-within-error needs validation accuracies of real training \
         (an image task): {why}; use --final-choice best"
    ))
}

impl std::fmt::Display for FinalChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Best => "best",
            Self::CheapestWithinError => "cheapest-within-error",
        })
    }
}

impl FromStr for FinalChoice {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "best" => Ok(Self::Best),
            "cheapest-within-error" => Ok(Self::CheapestWithinError),
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
        assert!((standard_error_points(78.0, 2000.0) - 0.9263).abs() < 1e-3);
        assert_eq!(standard_error_points(100.0, 50.0), 0.0);
    }

    #[test]
    fn best_takes_the_best_objective_either_way() {
        let trials = vec![trial(0, 77.0, 1e6), failed(1), trial(2, 78.0, 5e6)];
        assert_eq!(
            FinalChoice::Best
                .choose(&trials, Objective::Maximize)
                .expect("chosen"),
            Some(2)
        );
        assert_eq!(
            FinalChoice::Best
                .choose(&trials, Objective::Minimize)
                .expect("chosen"),
            Some(0)
        );
        assert_eq!(
            FinalChoice::Best
                .choose(&[failed(0)], Objective::Maximize)
                .expect("chosen"),
            None
        );
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
        let chosen = FinalChoice::CheapestWithinError.choose(&trials, Objective::Maximize);
        // 1 and 4 tie on FLOPs; 4 has the better accuracy.
        assert_eq!(chosen.expect("chosen"), Some(4));
        // The best alone within its error: the best.
        let alone = vec![trial(0, 78.0, 9e6), trial(1, 70.0, 1e6)];
        let chosen = FinalChoice::CheapestWithinError.choose(&alone, Objective::Maximize);
        assert_eq!(chosen.expect("chosen"), Some(0));
    }

    #[test]
    fn the_error_rule_refuses_trials_that_are_not_accuracies_of_training() {
        let rule = FinalChoice::CheapestWithinError;
        let trials = vec![trial(0, 78.0, 9e6)];
        let minimised = rule
            .choose(&trials, Objective::Minimize)
            .expect_err("refused");
        assert!(
            minimised.to_string().contains("--final-choice best"),
            "{minimised}"
        );
        let table = vec![Trial {
            outcome: TrialOutcome::Finished(Measurement::of(91.0)),
            ..trial(0, 0.0, 0.0)
        }];
        let lookup = rule
            .choose(&table, Objective::Maximize)
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
        for rule in [FinalChoice::Best, FinalChoice::CheapestWithinError] {
            assert_eq!(
                rule.to_string().parse::<FinalChoice>().expect("known"),
                rule
            );
        }
    }
}
