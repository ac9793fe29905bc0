//! Which checkpoint of final training is kept: the rule, and the running choice
//! it makes at each validated epoch end.

use crate::error::SearchError;
use metanas_net::Evaluation;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which validated checkpoint final training keeps (and tests).
///
/// On a split of 1,000 images the validation accuracy moves in 0.1-point
/// steps and the last epochs of a cosine schedule differ by a few images, so
/// choosing by it, or by the validation loss, sometimes keeps an epoch well
/// before the end, still at a high learning rate (`cargo xtask
/// bench-final-keep` scores each rule's checkpoint of the same runs on the
/// test split; docs/BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointRule {
    /// The last step (the default): the end of the cosine schedule, where the
    /// learning rate has decayed to zero. The validation split is reported.
    #[default]
    Last,
    /// The lowest validation loss, the earlier on ties.
    ValidationLoss,
    /// The highest validation accuracy, the earlier on ties.
    ValidationAccuracy,
}

impl CheckpointRule {
    /// Whether a checkpoint scored `candidate` replaces one scored `kept`.
    fn prefers(self, candidate: &Evaluation, kept: &Evaluation) -> bool {
        match self {
            Self::ValidationLoss => candidate.loss < kept.loss,
            Self::ValidationAccuracy => candidate.accuracy > kept.accuracy,
            Self::Last => true,
        }
    }
}

impl FromStr for CheckpointRule {
    type Err = SearchError;

    fn from_str(s: &str) -> crate::error::Result<Self> {
        match s {
            "loss" => Ok(Self::ValidationLoss),
            "accuracy" => Ok(Self::ValidationAccuracy),
            "last" => Ok(Self::Last),
            other => Err(SearchError::InvalidConfig(format!(
                "checkpoint rule `{other}`: expected loss, accuracy or last"
            ))),
        }
    }
}

impl fmt::Display for CheckpointRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ValidationLoss => "loss",
            Self::ValidationAccuracy => "accuracy",
            Self::Last => "last",
        })
    }
}

/// The checkpoint kept so far under a [`CheckpointRule`]: the model (or
/// whatever stands for it), its validation and the step after which it was
/// taken. Offer the checkpoints in the order of their steps.
#[derive(Debug)]
pub struct KeptCheckpoint<M> {
    rule: CheckpointRule,
    kept: Option<(M, Evaluation, usize)>,
}

impl<M> KeptCheckpoint<M> {
    /// Nothing kept yet.
    pub fn new(rule: CheckpointRule) -> Self {
        Self { rule, kept: None }
    }

    /// Offers the model after `step`, scored `evaluation`; `model` is called only when kept.
    pub fn offer(&mut self, evaluation: Evaluation, step: usize, model: impl FnOnce() -> M) {
        if self
            .kept
            .as_ref()
            .is_none_or(|(_, kept, _)| self.rule.prefers(&evaluation, kept))
        {
            self.kept = Some((model(), evaluation, step));
        }
    }

    /// The kept model, its validation and its step; none when nothing was offered.
    pub fn into_inner(self) -> Option<(M, Evaluation, usize)> {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validations after steps 10–50: accuracy peaks early (0.8 at 20, tied at
    /// 40), the loss keeps falling to step 40 and rises at 50.
    const RUN: [(usize, f64, f64); 5] = [
        (10, 0.9, 0.5),
        (20, 0.5, 0.8),
        (30, 0.45, 0.7),
        (40, 0.4, 0.8),
        (50, 0.42, 0.79),
    ];

    fn kept_step(rule: CheckpointRule) -> usize {
        let mut kept = KeptCheckpoint::new(rule);
        for (step, loss, accuracy) in RUN {
            let evaluation = Evaluation {
                loss,
                accuracy,
                examples: 10,
            };
            kept.offer(evaluation, step, || step);
        }
        let (model, evaluation, step) = kept.into_inner().expect("kept one");
        assert_eq!(model, step, "the model offered with its step");
        let offered = RUN.iter().find(|r| r.0 == step).expect("offered");
        assert_eq!(
            (evaluation.loss, evaluation.accuracy),
            (offered.1, offered.2)
        );
        step
    }

    #[test]
    fn each_rule_keeps_its_checkpoint() {
        assert_eq!(kept_step(CheckpointRule::ValidationLoss), 40);
        assert_eq!(
            kept_step(CheckpointRule::ValidationAccuracy),
            20,
            "the earlier of the tie"
        );
        assert_eq!(kept_step(CheckpointRule::Last), 50);
        assert!(
            KeptCheckpoint::<usize>::new(CheckpointRule::default())
                .into_inner()
                .is_none()
        );
    }

    #[test]
    fn rules_read_and_print_their_names() {
        for rule in [
            CheckpointRule::ValidationLoss,
            CheckpointRule::ValidationAccuracy,
            CheckpointRule::Last,
        ] {
            assert_eq!(
                rule.to_string().parse::<CheckpointRule>().expect("known"),
                rule
            );
        }
        assert_eq!(CheckpointRule::default(), CheckpointRule::Last);
        let err = "best"
            .parse::<CheckpointRule>()
            .expect_err("unknown")
            .to_string();
        assert!(
            err.contains("`best`") && err.contains("loss, accuracy or last"),
            "{err}"
        );
    }
}
