//! The strategy interface: propose, observe, best. A strategy never trains anything.

use crate::error::Result;
use metanas_space::SearchSpace;
use rand::rngs::StdRng;

/// What a strategy may consult when proposing.
pub struct ProposalContext<'a, S: SearchSpace> {
    /// The space.
    pub space: &'a S,
    /// Whether an architecture satisfies the search's constraints.
    pub is_feasible: &'a dyn Fn(&S::Arch) -> bool,
    /// Whether an architecture (or one with the same canonical hash) was already queried.
    pub is_seen: &'a dyn Fn(&S::Arch) -> bool,
}

impl<S: SearchSpace> ProposalContext<'_, S> {
    /// Feasible and not yet queried.
    pub fn is_candidate(&self, arch: &S::Arch) -> bool {
        !(self.is_seen)(arch) && (self.is_feasible)(arch)
    }
}

/// A search strategy over architectures of `S`.
///
/// Scores are "higher is better": the searcher negates metrics that are minimised.
pub trait Strategy<S: SearchSpace> {
    /// Short name, e.g. `random`.
    fn name(&self) -> &'static str;

    /// The strategy as the trial store's key names it: [`Self::name`], and
    /// whatever else makes two searches of one name propose differently
    /// (e.g. the cells [`crate::StartingCells`] queries first).
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// The next architecture to query. It should be feasible and unseen
    /// ([`ProposalContext::is_candidate`]); a seen one is answered from the cache
    /// without spending a query.
    ///
    /// # Errors
    /// [`crate::SearchError::SpaceExhausted`] when no candidate is left.
    fn propose(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<S::Arch>;

    /// The next architecture to query while `pending` ones (proposed, not yet
    /// scored: other workers are evaluating them) are outstanding. They are
    /// seen already ([`ProposalContext::is_seen`]); a strategy with a model
    /// may also condition on them. The default only avoids them:
    /// [`Self::propose`]. A sequential search never calls it.
    ///
    /// # Errors
    /// As [`Self::propose`].
    fn propose_with_pending(
        &mut self,
        context: &ProposalContext<'_, S>,
        pending: &[S::Arch],
        rng: &mut StdRng,
    ) -> Result<S::Arch> {
        let _ = pending;
        self.propose(context, rng)
    }

    /// The result of a query: `Some(score)`, or `None` when the evaluation failed.
    fn observe(&mut self, arch: &S::Arch, score: Option<f64>);

    /// The best architecture observed so far and its score.
    fn best(&self) -> Option<(&S::Arch, f64)>;
}

/// Draws random candidates until one is feasible and unseen.
///
/// # Errors
/// [`crate::SearchError::SpaceExhausted`] after `attempts` draws without one.
pub fn sample_candidate<S: SearchSpace>(
    context: &ProposalContext<'_, S>,
    rng: &mut StdRng,
    strategy: &str,
    attempts: usize,
) -> Result<S::Arch> {
    for _ in 0..attempts {
        let arch = context.space.sample(rng);
        if context.is_candidate(&arch) {
            return Ok(arch);
        }
    }
    Err(crate::SearchError::SpaceExhausted {
        strategy: strategy.to_string(),
        attempts,
    })
}

/// Keeps the best `(arch, score)` seen.
#[derive(Debug, Clone)]
pub struct BestSoFar<A> {
    best: Option<(A, f64)>,
}

impl<A: Clone> Default for BestSoFar<A> {
    fn default() -> Self {
        Self { best: None }
    }
}

impl<A: Clone> BestSoFar<A> {
    /// Records a score; returns whether it is a new best.
    pub fn record(&mut self, arch: &A, score: f64) -> bool {
        let better = self.best.as_ref().is_none_or(|(_, s)| score > *s);
        if better {
            self.best = Some((arch.clone(), score));
        }
        better
    }

    /// The best so far.
    pub fn get(&self) -> Option<(&A, f64)> {
        self.best.as_ref().map(|(a, s)| (a, *s))
    }
}
