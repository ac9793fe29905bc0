//! Regularized evolution (Real et al., AAAI 2019): tournament selection, mutation, ageing.

use crate::error::Result;
use crate::strategy::{BestSoFar, ProposalContext, Strategy, sample_candidate};
use metanas_space::SearchSpace;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use std::collections::VecDeque;

/// Regularized evolution with a population of `population` and tournaments of
/// `sample_size` (NAS-Bench-201's settings: 10 and 3).
#[derive(Debug, Clone)]
pub struct RegularizedEvolution<S: SearchSpace> {
    population_size: usize,
    sample_size: usize,
    population: VecDeque<(S::Arch, f64)>,
    best: BestSoFar<S::Arch>,
}

impl<S: SearchSpace> RegularizedEvolution<S> {
    /// A strategy with the given population and tournament sizes (at least 1 each).
    pub fn new(population_size: usize, sample_size: usize) -> Self {
        Self {
            population_size: population_size.max(1),
            sample_size: sample_size.max(1),
            population: VecDeque::new(),
            best: BestSoFar::default(),
        }
    }
}

impl<S: SearchSpace> Default for RegularizedEvolution<S> {
    fn default() -> Self {
        Self::new(10, 3)
    }
}

impl<S: SearchSpace> Strategy<S> for RegularizedEvolution<S> {
    fn name(&self) -> &'static str {
        "evolution"
    }

    fn propose(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<S::Arch> {
        if self.population.len() < self.population_size {
            return sample_candidate(context, rng, "evolution", 100_000);
        }
        let members: Vec<&(S::Arch, f64)> = self.population.iter().collect();
        let tournament: Vec<&&(S::Arch, f64)> = members.sample(rng, self.sample_size).collect();
        let parent = tournament
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|p| p.0.clone());
        if let Some(parent) = parent {
            for _ in 0..100 {
                let child = context.space.mutate(&parent, rng);
                if context.is_candidate(&child) {
                    return Ok(child);
                }
            }
        }
        // Every nearby child was seen or infeasible: explore at random instead.
        sample_candidate(context, rng, "evolution", 100_000)
    }

    fn observe(&mut self, arch: &S::Arch, score: Option<f64>) {
        let Some(score) = score else { return };
        self.best.record(arch, score);
        self.population.push_back((arch.clone(), score));
        if self.population.len() > self.population_size {
            self.population.pop_front();
        }
    }

    fn best(&self) -> Option<(&S::Arch, f64)> {
        self.best.get()
    }
}
