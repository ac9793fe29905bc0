//! Bayesian optimization: a surrogate (the AEN) fitted on the observed
//! cells ranks a pool of candidates by an acquisition function.

use crate::acquisition::Acquisition;
use crate::error::{Result, SearchError};
use crate::pending_belief::PendingBelief;
use crate::strategy::{BestSoFar, ProposalContext, Strategy, sample_candidate};
use crate::surrogate::{CandidatePool, Surrogate};
use metanas_space::{CanonicalHash, GraphEncoding, SearchSpace};
use rand::RngExt;
use rand::rngs::StdRng;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Settings of [`BayesianOptimization`].
#[derive(Debug, Clone, PartialEq)]
pub struct BayesianOptimizationConfig {
    /// Random cells queried before the first fit (raised to the surrogate's minimum).
    pub initial_samples: usize,
    /// How candidates are ranked.
    pub acquisition: Acquisition,
    /// Candidates proposed from one fit (the best by acquisition first);
    /// 1 refits after every query.
    pub proposals_per_fit: usize,
    /// The pool is the whole space when it has at most this many cells; otherwise it is rebuilt at each fit
    /// from mutations of the best cells and random samples.
    pub whole_space_limit: u64,
    /// Mutations of the best observed cells in a rebuilt pool.
    pub mutation_candidates: usize,
    /// Random samples in a rebuilt pool.
    pub random_candidates: usize,
    /// After this many observations without a better score, the next
    /// proposals come from the incumbent's neighbourhood (one edit away, else
    /// two), still ranked by the acquisition: a trust region around the best
    /// cell that refines what a global model ranks only coarsely. `None`
    /// keeps the whole pool.
    pub local_patience: Option<usize>,
    /// What the surrogate assumes about pending trials
    /// ([`Strategy::propose_with_pending`]: a distributed search); a
    /// sequential search has none.
    pub pending_belief: PendingBelief,
}

impl Default for BayesianOptimizationConfig {
    fn default() -> Self {
        Self {
            initial_samples: 10,
            acquisition: Acquisition::ExpectedImprovement,
            proposals_per_fit: 5,
            whole_space_limit: 100_000,
            mutation_candidates: 500,
            random_candidates: 500,
            local_patience: Some(5),
            pending_belief: PendingBelief::default(),
        }
    }
}

/// Bayesian optimization over a [`SearchSpace`] with any [`Surrogate`].
///
/// After `initial_samples` random queries, each round fits the surrogate on
/// every successful observation, scores the pool, and proposes the
/// `proposals_per_fit` unseen feasible candidates with the highest acquisition
/// value — among the incumbent's neighbours once `local_patience` queries in
/// a row brought no improvement (until one does). Failed evaluations are never proposed again and not fitted on.
/// Every random choice comes from the searcher's seeded generator, so a run
/// replays exactly (and resumes from its store).
pub struct BayesianOptimization<S: SearchSpace> {
    space: S,
    config: BayesianOptimizationConfig,
    surrogate: Box<dyn Surrogate>,
    observed: Vec<(S::Arch, GraphEncoding, f64)>,
    observed_hashes: HashSet<CanonicalHash>,
    queue: VecDeque<S::Arch>,
    /// Trials proposed but not yet scored, during a [`Strategy::propose_with_pending`].
    pending: Vec<S::Arch>,
    whole_space: Option<Arc<(Vec<S::Arch>, CandidatePool)>>,
    fits: usize,
    since_improvement: usize,
    best: BestSoFar<S::Arch>,
}

impl<S: SearchSpace> BayesianOptimization<S> {
    /// A strategy over `space` (the searcher's) with `config` around `surrogate`.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] when `proposals_per_fit` is 0 or a
    /// rebuilt pool would be empty.
    pub fn new(
        space: S,
        config: BayesianOptimizationConfig,
        surrogate: Box<dyn Surrogate>,
    ) -> Result<Self> {
        if config.proposals_per_fit == 0 {
            return Err(SearchError::InvalidConfig(
                "proposals_per_fit must be at least 1".into(),
            ));
        }
        if config.mutation_candidates + config.random_candidates == 0 {
            return Err(SearchError::InvalidConfig(
                "a rebuilt pool needs mutation or random candidates".into(),
            ));
        }
        Ok(Self {
            space,
            config,
            surrogate,
            observed: Vec::new(),
            observed_hashes: HashSet::new(),
            queue: VecDeque::new(),
            pending: Vec::new(),
            whole_space: None,
            fits: 0,
            since_improvement: 0,
            best: BestSoFar::default(),
        })
    }

    /// The surrogate's description.
    pub fn surrogate(&self) -> String {
        self.surrogate.describe()
    }

    /// Surrogate fits so far.
    pub fn fits(&self) -> usize {
        self.fits
    }

    fn initial_samples(&self) -> usize {
        self.config
            .initial_samples
            .max(self.surrogate.min_observations())
    }

    /// The whole space, built once. Every cell is kept, isomorphic ones
    /// included: the searcher answers a class only once, but which member is
    /// proposed matters where members carry different known values (the
    /// source tasks' side features of a meta-learned surrogate).
    fn whole_space_pool(&mut self) -> Option<Arc<(Vec<S::Arch>, CandidatePool)>> {
        if self.whole_space.is_none() {
            let space = &self.space;
            if space
                .size()
                .is_none_or(|n| n > self.config.whole_space_limit)
            {
                return None;
            }
            let archs: Vec<S::Arch> = space.enumerate()?.collect();
            let encodings = archs.iter().map(|a| space.encode(a)).collect();
            self.whole_space = Some(Arc::new((archs, CandidatePool::new(encodings))));
        }
        self.whole_space.clone()
    }

    /// Mutations of the best observed cells plus random samples (deduplicated, unseen, feasible).
    fn rebuilt_pool(
        &self,
        context: &ProposalContext<'_, S>,
        rng: &mut StdRng,
    ) -> (Vec<S::Arch>, CandidatePool) {
        let space = context.space;
        let mut ranked: Vec<&(S::Arch, GraphEncoding, f64)> = self.observed.iter().collect();
        ranked.sort_by(|a, b| b.2.total_cmp(&a.2));
        let parents: Vec<&S::Arch> = ranked.iter().take(10).map(|o| &o.0).collect();
        let mut hashes = HashSet::new();
        let mut archs = Vec::new();
        let mut push = |arch: S::Arch, archs: &mut Vec<S::Arch>| {
            if context.is_candidate(&arch) && hashes.insert(space.canonical_hash(&arch)) {
                archs.push(arch);
            }
        };
        for i in 0..self.config.mutation_candidates * 2 {
            if archs.len() >= self.config.mutation_candidates || parents.is_empty() {
                break;
            }
            let mut child = space.mutate(parents[i % parents.len()], rng);
            if rng.random::<f64>() < 0.5 {
                child = space.mutate(&child, rng);
            }
            push(child, &mut archs);
        }
        let target = archs.len() + self.config.random_candidates;
        for _ in 0..self.config.random_candidates * 2 {
            if archs.len() >= target {
                break;
            }
            push(space.sample(rng), &mut archs);
        }
        let encodings = archs.iter().map(|a| space.encode(a)).collect();
        (archs, CandidatePool::new(encodings))
    }

    /// The incumbent's unseen feasible neighbours (one edit away, else two),
    /// when the search has stalled long enough.
    fn local_candidates(&self, context: &ProposalContext<'_, S>) -> Option<HashSet<S::Arch>> {
        let patience = self.config.local_patience?;
        if self.since_improvement < patience {
            return None;
        }
        let (incumbent, _) = self.best.get()?;
        let space = context.space;
        let near = space.neighbours(incumbent);
        let two_edits: Vec<S::Arch> = near.iter().flat_map(|n| space.neighbours(n)).collect();
        [near, two_edits].into_iter().find_map(|ring| {
            let found: HashSet<S::Arch> = ring
                .into_iter()
                .filter(|a| context.is_candidate(a))
                .collect();
            (!found.is_empty()).then_some(found)
        })
    }

    /// The pending trials as observations, with the scores the
    /// [`PendingBelief`] gives them (none when it ignores them). The kriging
    /// believer fits the surrogate on the scored `observations` first and
    /// reads its means for the pending cells from `pool` (`archs`' cells)
    /// when they are all in it, so a surrogate that caches its pool keeps it.
    fn pending_observations(
        &mut self,
        observations: &[(GraphEncoding, f64)],
        archs: &[S::Arch],
        pool: &CandidatePool,
        seed: u64,
    ) -> Result<Vec<(GraphEncoding, f64)>> {
        if self.pending.is_empty() || observations.is_empty() {
            return Ok(Vec::new());
        }
        let encodings: Vec<GraphEncoding> =
            self.pending.iter().map(|a| self.space.encode(a)).collect();
        let scores: Vec<f64> = match self.config.pending_belief {
            PendingBelief::Ignored => return Ok(Vec::new()),
            PendingBelief::ConstantLiar => {
                let worst = observations
                    .iter()
                    .map(|(_, s)| *s)
                    .fold(f64::INFINITY, f64::min);
                vec![worst; encodings.len()]
            }
            PendingBelief::KrigingBeliever => {
                self.surrogate
                    .fit(observations, seed ^ 0x6b72_6967_696e_6721)?;
                self.fits += 1;
                let mut rows: HashMap<&S::Arch, Option<usize>> =
                    self.pending.iter().map(|a| (a, None)).collect();
                for (i, arch) in archs.iter().enumerate() {
                    if let Some(row @ None) = rows.get_mut(arch) {
                        *row = Some(i);
                    }
                }
                let in_pool: Option<Vec<usize>> = self.pending.iter().map(|a| rows[a]).collect();
                if let Some(in_pool) = in_pool {
                    let predictions = self.surrogate.predict(pool)?;
                    in_pool.into_iter().map(|i| predictions[i].mean).collect()
                } else {
                    let predictions = self
                        .surrogate
                        .predict(&CandidatePool::new(encodings.clone()))?;
                    predictions.iter().map(|p| p.mean).collect()
                }
            }
        };
        Ok(encodings.into_iter().zip(scores).collect())
    }

    /// Fits the surrogate and queues the best candidates by acquisition.
    fn refill(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<()> {
        let candidates = match self.whole_space_pool() {
            Some(whole) => whole,
            None => Arc::new(self.rebuilt_pool(context, rng)),
        };
        let (archs, pool) = &*candidates;
        let observations: Vec<(GraphEncoding, f64)> = self
            .observed
            .iter()
            .map(|(_, e, s)| (e.clone(), *s))
            .collect();
        let seed = rng.random::<u64>();
        let pending = self.pending_observations(&observations, archs, pool, seed)?;
        let observations = [observations, pending].concat();
        self.surrogate.fit(&observations, seed)?;
        self.fits += 1;
        let predictions = self.surrogate.predict(pool)?;
        let incumbent = self.best.get().map(|(_, s)| s);
        let values = self.config.acquisition.values(&predictions, incumbent, rng);
        let mut order: Vec<usize> = (0..archs.len())
            .filter(|&i| context.is_candidate(&archs[i]))
            .collect();
        if let Some(local) = self.local_candidates(context) {
            order.retain(|&i| local.contains(&archs[i]));
        }
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
        self.queue = order
            .into_iter()
            .take(self.config.proposals_per_fit)
            .map(|i| archs[i].clone())
            .collect();
        Ok(())
    }
}

impl<S: SearchSpace> Strategy<S> for BayesianOptimization<S> {
    /// `bo-<acquisition>`, or `meta-bo-<acquisition>` with a surrogate that
    /// needs no observation (a meta-learned prior).
    fn name(&self) -> &'static str {
        let meta = self.surrogate.min_observations() == 0;
        match (meta, self.config.acquisition) {
            (false, Acquisition::ExpectedImprovement) => "bo-ei",
            (false, Acquisition::UpperConfidenceBound { .. }) => "bo-ucb",
            (false, Acquisition::ThompsonSampling) => "bo-ts",
            (true, Acquisition::ExpectedImprovement) => "meta-bo-ei",
            (true, Acquisition::UpperConfidenceBound { .. }) => "meta-bo-ucb",
            (true, Acquisition::ThompsonSampling) => "meta-bo-ts",
        }
    }

    fn propose(&mut self, context: &ProposalContext<'_, S>, rng: &mut StdRng) -> Result<S::Arch> {
        if self.observed.len() < self.initial_samples() {
            return sample_candidate(context, rng, "bo", 100_000);
        }
        while let Some(arch) = self.queue.pop_front() {
            if context.is_candidate(&arch) {
                return Ok(arch);
            }
        }
        self.refill(context, rng)?;
        match self.queue.pop_front() {
            Some(arch) => Ok(arch),
            None => Err(SearchError::SpaceExhausted {
                strategy: "bo".into(),
                attempts: 0,
            }),
        }
    }

    /// Proposes as [`Self::propose`], but a refit also fits the `pending`
    /// cells with the scores the configured [`PendingBelief`] gives them.
    /// With nothing pending it is exactly [`Self::propose`].
    fn propose_with_pending(
        &mut self,
        context: &ProposalContext<'_, S>,
        pending: &[S::Arch],
        rng: &mut StdRng,
    ) -> Result<S::Arch> {
        self.pending = pending.to_vec();
        let proposal = self.propose(context, rng);
        self.pending.clear();
        proposal
    }

    fn observe(&mut self, arch: &S::Arch, score: Option<f64>) {
        let Some(score) = score else { return };
        // `observe` also reports free repeats: fit each isomorphism class once.
        if self.observed_hashes.insert(self.space.canonical_hash(arch)) {
            self.observed
                .push((arch.clone(), self.space.encode(arch), score));
            self.since_improvement = if self.best.record(arch, score) {
                0
            } else {
                self.since_improvement + 1
            };
        }
    }

    fn best(&self) -> Option<(&S::Arch, f64)> {
        self.best.get()
    }
}
