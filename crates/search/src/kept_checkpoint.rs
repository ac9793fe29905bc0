//! Which checkpoint of final training is kept: the rule, and the running choice
//! it makes at each validated epoch end.

use crate::error::SearchError;
use metanas_net::Evaluation;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which validated checkpoint final training keeps (and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointRule {
    /// The lowest validation loss, the earlier on ties (the default). The mean
    /// cross-entropy moves with every validation image's probability, where the
    /// accuracy of a split of 1,000 images moves in steps of 0.1 points: chosen by
    /// accuracy, a checkpoint from the middle of the cosine schedule often wins
    /// by one or two images over the cooler, better ones at its end.
    #[default]
    ValidationLoss,
    /// The highest validation accuracy, the earlier on ties.
    ValidationAccuracy,
    /// The last step; the validation split is only reported.
    Last,
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

/// The checkpoint kept so far under a [`CheckpointRule`]: the model, its
/// validation and the step after which it was taken.
#[derive(Debug)]
pub(crate) struct KeptCheckpoint<M> {
    rule: CheckpointRule,
    kept: Option<(M, Evaluation, usize)>,
}

impl<M> KeptCheckpoint<M> {
    pub(crate) fn new(rule: CheckpointRule) -> Self {
        Self { rule, kept: None }
    }

    /// Offers the model after `step`, scored `evaluation`; `model` is called only when kept.
    pub(crate) fn offer(&mut self, evaluation: Evaluation, step: usize, model: impl FnOnce() -> M) {
        if self
            .kept
            .as_ref()
            .is_none_or(|(_, kept, _)| self.rule.prefers(&evaluation, kept))
        {
            self.kept = Some((model(), evaluation, step));
        }
    }

    pub(crate) fn into_inner(self) -> Option<(M, Evaluation, usize)> {
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
        assert_eq!(CheckpointRule::default(), CheckpointRule::ValidationLoss);
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
