//! Random search: uniform samples of the space.

use crate::error::Result;
use crate::strategy::{BestSoFar, ProposalContext, Strategy, sample_candidate};
use metanas_space::SearchSpace;
use rand::rngs::StdRng;

/// Proposes uniform random feasible, unseen architectures.
#[derive(Debug, Clone)]
pub struct RandomSearch<S: SearchSpace> {
    best: BestSoFar<S::Arch>,
}

impl<S: SearchSpace> Default for RandomSearch<S> {
    fn default() -> Self {
        Self {
            best: BestSoFar::default(),
        }
    }
}

impl<S: SearchSpace> Strategy<S> for RandomSearch<S> {
    fn name(&self) -> &'static str {
        "random"
    }

    fn propose(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<S::Arch> {
        sample_candidate(context, rng, "random", 100_000)
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
