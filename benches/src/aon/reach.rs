//! How many steps tuned Adam needs to reach a loss: the shortest Adam run
//! (its own cosine schedule) whose final validation loss is at most a target,
//! and a cache of those searches per pair, since several ways of choosing the
//! update rule's settings often land on the same loss.

use anyhow::Context;
use metanas_aon::{Baseline, CandidateTraining, InnerProblem, train_with_optimizer};
use std::collections::HashMap;

/// The length of the shortest Adam run (cosine over its own length; lengths
/// K ± multiples of 10, up to `limit`) whose final validation loss is at most
/// `target`, given the final loss of the `K`-step run already made. Assumes
/// that reaching is monotone in the length: it brackets the answer (shorter
/// than K when the K-step run reaches, else by doubling the length up to
/// `limit`) and bisects the bracket down to 10 steps.
pub(super) fn shortest_reaching_run(
    problem: &InnerProblem,
    rate: f64,
    target: f64,
    k_run_loss: f64,
    limit: usize,
    training: CandidateTraining,
    device: &burn::tensor::Device,
) -> anyhow::Result<Option<usize>> {
    if !target.is_finite() {
        return Ok(None);
    }
    let reaches = |steps: usize| -> anyhow::Result<bool> {
        let run = CandidateTraining {
            steps,
            eval_every: 0,
            ..training
        };
        Ok(
            train_with_optimizer(problem, Baseline::Adam.optimizer(rate), run, device)
                .with_context(|| format!("an Adam run of {steps} steps on {}", problem.describe()))?
                .final_loss()
                <= target,
        )
    };
    let k = training.steps;
    // `low` does not reach (0: nothing shorter to try), `high` reaches.
    let (mut low, mut high) = if k_run_loss <= target {
        (k % 10, k)
    } else {
        let mut low = k;
        loop {
            if low >= limit {
                return Ok(None);
            }
            let next = (2 * low).min(limit);
            if reaches(next)? {
                break (low, next);
            }
            low = next;
        }
    };
    while high - low > 10 {
        let middle = low + 10 * ((high - low) / 20);
        if reaches(middle)? {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(Some(high))
}

/// Answers of [`shortest_reaching_run`] by pair and target loss. With the
/// pair's problem, Adam rate, `K`-step loss and limit fixed, the answer
/// depends on the target alone, so an equal target is never searched twice.
#[derive(Debug, Default)]
pub(super) struct ReachCache {
    answers: HashMap<(usize, u64), Option<usize>>,
}

impl ReachCache {
    /// Records the answer for `target` on pair `pair` (measured earlier).
    pub fn record(&mut self, pair: usize, target: f64, steps: Option<usize>) {
        self.answers.insert((pair, target.to_bits()), steps);
    }

    /// The answer for `target` on pair `pair`, measured by `search` unless known.
    pub fn get_or_measure(
        &mut self,
        pair: usize,
        target: f64,
        search: impl FnOnce() -> anyhow::Result<Option<usize>>,
    ) -> anyhow::Result<Option<usize>> {
        if let Some(&known) = self.answers.get(&(pair, target.to_bits())) {
            return Ok(known);
        }
        let measured = search()?;
        self.record(pair, target, measured);
        Ok(measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_equal_target_on_the_same_pair_is_answered_without_measuring() {
        let mut cache = ReachCache::default();
        let mut searches = 0;
        let mut measure = |answer| {
            searches += 1;
            Ok(answer)
        };
        assert_eq!(
            cache
                .get_or_measure(0, 0.5, || measure(Some(120)))
                .expect("answered"),
            Some(120)
        );
        assert_eq!(
            cache
                .get_or_measure(0, 0.5, || measure(Some(999)))
                .expect("answered"),
            Some(120)
        );
        assert_eq!(
            cache
                .get_or_measure(1, 0.5, || measure(None))
                .expect("answered"),
            None,
            "another pair is measured"
        );
        assert_eq!(
            cache
                .get_or_measure(0, 0.4, || measure(Some(200)))
                .expect("answered"),
            Some(200),
            "another target is measured"
        );
        assert_eq!(searches, 3);
        cache.record(2, 0.3, Some(140));
        assert_eq!(
            cache
                .get_or_measure(2, 0.3, || anyhow::bail!("not measured"))
                .expect("answered"),
            Some(140)
        );
    }
}
