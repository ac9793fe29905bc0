//! Local search (White et al., 2021): walk to a better neighbour; restart at random when stuck.

use crate::error::Result;
use crate::strategy::{BestSoFar, ProposalContext, Strategy, sample_candidate};
use metanas_space::SearchSpace;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// First-improvement hill climbing over [`SearchSpace::neighbours`] (in random
/// order), with a random restart when every neighbour of the current point was tried.
#[derive(Debug, Clone)]
pub struct LocalSearch<S: SearchSpace> {
    current_score: Option<f64>,
    /// A new current point whose neighbours are not queued yet.
    to_expand: Option<S::Arch>,
    queue: Vec<S::Arch>,
    best: BestSoFar<S::Arch>,
}

impl<S: SearchSpace> Default for LocalSearch<S> {
    fn default() -> Self {
        Self {
            current_score: None,
            to_expand: None,
            queue: Vec::new(),
            best: BestSoFar::default(),
        }
    }
}

impl<S: SearchSpace> Strategy<S> for LocalSearch<S> {
    fn name(&self) -> &'static str {
        "local"
    }

    fn propose(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<S::Arch> {
        if let Some(center) = self.to_expand.take() {
            self.queue = context.space.neighbours(&center);
            self.queue.shuffle(rng);
        }
        while let Some(next) = self.queue.pop() {
            if context.is_candidate(&next) {
                return Ok(next);
            }
        }
        // Stuck (or starting): restart from a random point.
        self.current_score = None;
        sample_candidate(context, rng, "local", 100_000)
    }

    fn observe(&mut self, arch: &S::Arch, score: Option<f64>) {
        let Some(score) = score else { return };
        self.best.record(arch, score);
        if self.current_score.is_none_or(|s| score > s) {
            self.current_score = Some(score);
            self.to_expand = Some(arch.clone());
            self.queue.clear();
        }
    }

    fn best(&self) -> Option<(&S::Arch, f64)> {
        self.best.get()
    }
}
