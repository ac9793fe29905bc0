//! Known cells queried first: a search that starts from designs the user
//! already trusts, so that its result is measured beside them.

use crate::error::Result;
use crate::strategy::{ProposalContext, Strategy};
use metanas_space::SearchSpace;
use rand::rngs::StdRng;

/// What a strategy's description adds before the starting cells it lists.
const FIRST: &str = ", first ";

/// Queries `cells` first, in order, then hands over to `inner`. The inner
/// strategy observes every result, the starting cells' included: a
/// [`crate::BayesianOptimization`] fits its surrogate on them, and counts
/// those that finished among its random start (with
/// [`crate::strategy_by_name`]'s `bo` at a budget of 10: one starting cell,
/// three random ones, six proposals of the surrogate).
///
/// Each proposal is the first listed cell that is still a candidate: one
/// that is infeasible or already seen (queried, or in a distributed search
/// being evaluated by another worker) is skipped, and one whose proposal a
/// caller dropped is proposed again.
pub struct StartingCells<S: SearchSpace> {
    cells: Vec<S::Arch>,
    inner: Box<dyn Strategy<S>>,
    description: String,
}

impl<S: SearchSpace> StartingCells<S> {
    /// `inner` after `cells` (written in `space`'s text form in the store's key).
    pub fn new(space: &S, cells: Vec<S::Arch>, inner: Box<dyn Strategy<S>>) -> Self {
        let description = if cells.is_empty() {
            inner.describe()
        } else {
            let listed: Vec<String> = cells.iter().map(|c| space.format(c)).collect();
            format!("{}{FIRST}{}", inner.describe(), listed.join(" "))
        };
        Self {
            cells,
            inner,
            description,
        }
    }

    /// The same search key (or strategy description) with its starting cells
    /// left out: the key of this search as it is without them, or `None` when
    /// `key` names none. A store or study whose key equals it holds this
    /// search, written before it had starting cells.
    pub fn key_without_starting_cells(key: &str) -> Option<String> {
        let at = key.find(FIRST)?;
        // The cells' text form has no "; ", the key's separator.
        let end = key[at..].find("; ").map_or(key.len(), |length| at + length);
        Some(format!("{}{}", &key[..at], &key[end..]))
    }

    /// The first starting cell that is still a candidate, if any.
    fn next_start(&self, context: &ProposalContext<'_, S>) -> Option<S::Arch> {
        self.cells
            .iter()
            .find(|cell| context.is_candidate(cell))
            .cloned()
    }
}

impl<S: SearchSpace> Strategy<S> for StartingCells<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn propose(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<S::Arch> {
        match self.next_start(context) {
            Some(cell) => Ok(cell),
            None => self.inner.propose(context, rng),
        }
    }

    fn propose_with_pending(
        &mut self,
        context: &ProposalContext<'_, S>,
        pending: &[S::Arch],
        rng: &mut StdRng,
    ) -> Result<S::Arch> {
        // Pending cells are seen already (see `Strategy::propose_with_pending`).
        match self.next_start(context) {
            Some(cell) => Ok(cell),
            None => self.inner.propose_with_pending(context, pending, rng),
        }
    }

    fn observe(&mut self, arch: &S::Arch, score: Option<f64>) {
        self.inner.observe(arch, score);
    }

    fn best(&self) -> Option<(&S::Arch, f64)> {
        self.inner.best()
    }
}
