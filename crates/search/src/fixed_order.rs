//! A fixed ranking: propose cells in an order computed elsewhere.

use crate::error::{Result, SearchError};
use crate::strategy::{BestSoFar, ProposalContext, Strategy};
use metanas_space::SearchSpace;
use rand::rngs::StdRng;

/// Proposes the cells of a ranking in order, skipping seen and infeasible
/// ones. With a ranking by a related task's metric (e.g. CIFAR-10 validation
/// accuracy for a CIFAR-100 search) this is the *transfer baseline* any
/// learned transfer has to beat.
#[derive(Debug, Clone)]
pub struct FixedOrder<S: SearchSpace> {
    ranking: Vec<S::Arch>,
    next: usize,
    best: BestSoFar<S::Arch>,
}

impl<S: SearchSpace> FixedOrder<S> {
    /// Proposes `ranking`'s cells, first one first.
    pub fn new(ranking: Vec<S::Arch>) -> Self {
        Self {
            ranking,
            next: 0,
            best: BestSoFar::default(),
        }
    }
}

impl<S: SearchSpace> Strategy<S> for FixedOrder<S> {
    fn name(&self) -> &'static str {
        "fixed-order"
    }

    fn propose(&mut self, context: &ProposalContext<'_, S>, _: &mut StdRng) -> Result<S::Arch> {
        while let Some(arch) = self.ranking.get(self.next) {
            self.next += 1;
            if context.is_candidate(arch) {
                return Ok(arch.clone());
            }
        }
        Err(SearchError::SpaceExhausted {
            strategy: "fixed-order".into(),
            attempts: self.ranking.len(),
        })
    }

    fn observe(&mut self, arch: &S::Arch, score: Option<f64>) {
        if let Some(score) = score {
            self.best.record(arch, score);
        }
    }

    fn best(&self) -> Option<(&S::Arch, f64)> {
        self.best.get()
    }
}
