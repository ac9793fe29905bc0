//! Bayesian optimization with trials pending (a distributed search): what the
//! surrogate is fitted on under each [`PendingBelief`], and that nothing
//! pending changes nothing.

use metanas_aen::Prediction;
use metanas_search::{
    BayesianOptimization, BayesianOptimizationConfig, CandidatePool, PendingBelief,
    ProposalContext, Strategy, Surrogate,
};
use metanas_space::nb101::Nb101Space;
use metanas_space::nb201::Nb201Space;
use metanas_space::{GraphEncoding, SearchSpace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

/// What a surrogate is fitted on.
type Observations = Vec<(GraphEncoding, f64)>;

/// The fits a [`Recorder`] received, in order.
type Fits = Rc<RefCell<Vec<Observations>>>;

/// Predicts a cell's count of operation 1 and records what it is fitted on.
struct Recorder {
    fits: Fits,
}

fn score(e: &GraphEncoding) -> f64 {
    e.count_nodes(1) as f64
}

impl Surrogate for Recorder {
    fn describe(&self) -> String {
        "recorder".into()
    }
    fn min_observations(&self) -> usize {
        1
    }
    fn fit(&mut self, observations: &[(GraphEncoding, f64)], _: u64) -> metanas_search::Result<()> {
        self.fits.borrow_mut().push(observations.to_vec());
        Ok(())
    }
    fn predict(&mut self, pool: &CandidatePool) -> metanas_search::Result<Vec<Prediction>> {
        Ok(pool
            .encodings()
            .iter()
            .map(|e| Prediction {
                mean: score(e),
                std: 0.1,
            })
            .collect())
    }
}

fn strategy<S: SearchSpace + Clone>(
    space: &S,
    belief: PendingBelief,
) -> (BayesianOptimization<S>, Fits) {
    let fits = Fits::default();
    let config = BayesianOptimizationConfig {
        initial_samples: 5,
        proposals_per_fit: 1,
        pending_belief: belief,
        ..BayesianOptimizationConfig::default()
    };
    let recorder = Recorder { fits: fits.clone() };
    let bo = BayesianOptimization::new(space.clone(), config, Box::new(recorder)).expect("valid");
    (bo, fits)
}

/// `n` distinct random cells.
fn distinct_cells<S: SearchSpace>(space: &S, n: usize, seed: u64) -> Vec<S::Arch> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut hashes = HashSet::new();
    let mut cells = Vec::new();
    while cells.len() < n {
        let cell = space.sample(&mut rng);
        if hashes.insert(space.canonical_hash(&cell)) {
            cells.push(cell);
        }
    }
    cells
}

/// Observes 5 cells, then proposes with 3 others pending: returns the
/// fits of that proposal, the observed and the pending cells' encodings.
fn fits_with_pending<S: SearchSpace + Clone>(
    space: &S,
    belief: PendingBelief,
) -> (Vec<Observations>, Observations, Vec<GraphEncoding>) {
    let (mut bo, fits) = strategy(space, belief);
    let cells = distinct_cells(space, 8, 7);
    let (observed, pending) = cells.split_at(5);
    let mut scored = Vec::new();
    for cell in observed {
        let encoding = space.encode(cell);
        let value = score(&encoding) + 0.5;
        bo.observe(cell, Some(value));
        scored.push((encoding, value));
    }
    let seen: HashSet<_> = cells.iter().map(|c| space.canonical_hash(c)).collect();
    let is_feasible = |_: &S::Arch| true;
    let is_seen = |a: &S::Arch| seen.contains(&space.canonical_hash(a));
    let context = ProposalContext {
        space,
        is_feasible: &is_feasible,
        is_seen: &is_seen,
    };
    let proposal = bo
        .propose_with_pending(&context, pending, &mut StdRng::seed_from_u64(1))
        .expect("a proposal");
    assert!(!seen.contains(&space.canonical_hash(&proposal)));
    let fits = fits.borrow().clone();
    (
        fits,
        scored,
        pending.iter().map(|c| space.encode(c)).collect(),
    )
}

#[test]
fn the_kriging_believer_fits_pending_cells_with_the_mean_of_a_fit_on_the_scored_ones() {
    // NB-201 is scored whole (the pending cells are in the pool); NB-101's pool
    // is rebuilt without them (they are predicted apart).
    for (fits, scored, pending) in [
        fits_with_pending(&Nb201Space, PendingBelief::KrigingBeliever),
        fits_with_pending(&Nb101Space, PendingBelief::KrigingBeliever),
    ] {
        assert_eq!(
            fits.len(),
            2,
            "a fit on the scored cells, then one with the believed"
        );
        assert_eq!(fits[0], scored);
        let believed: Observations = pending.iter().map(|e| (e.clone(), score(e))).collect();
        assert_eq!(fits[1], [scored, believed].concat());
    }
}

#[test]
fn the_constant_liar_fits_pending_cells_with_the_worst_score() {
    let (fits, scored, pending) = fits_with_pending(&Nb201Space, PendingBelief::ConstantLiar);
    let worst = scored.iter().map(|(_, s)| *s).fold(f64::INFINITY, f64::min);
    assert!(worst.is_finite());
    let lies: Observations = pending.iter().map(|e| (e.clone(), worst)).collect();
    assert_eq!(fits, vec![[scored, lies].concat()]);
}

#[test]
fn ignored_pending_cells_are_not_fitted() {
    let (fits, scored, _) = fits_with_pending(&Nb201Space, PendingBelief::Ignored);
    assert_eq!(fits, vec![scored]);
}

#[test]
fn with_nothing_pending_the_proposals_and_fits_are_those_of_propose() {
    let space = Nb201Space;
    let (mut plain, plain_fits) = strategy(&space, PendingBelief::KrigingBeliever);
    let (mut with_pending, pending_fits) = strategy(&space, PendingBelief::KrigingBeliever);
    let mut rng_plain = StdRng::seed_from_u64(3);
    let mut rng_pending = StdRng::seed_from_u64(3);
    let mut seen = HashSet::new();
    for _ in 0..12 {
        let (a, b) = {
            let is_feasible = |_: &metanas_space::nb201::Nb201Cell| true;
            let is_seen =
                |c: &metanas_space::nb201::Nb201Cell| seen.contains(&space.canonical_hash(c));
            let context = ProposalContext {
                space: &space,
                is_feasible: &is_feasible,
                is_seen: &is_seen,
            };
            let a = plain.propose(&context, &mut rng_plain).expect("a proposal");
            let b = with_pending
                .propose_with_pending(&context, &[], &mut rng_pending)
                .expect("a proposal");
            (a, b)
        };
        assert_eq!(a, b);
        let value = score(&space.encode(&a));
        plain.observe(&a, Some(value));
        with_pending.observe(&b, Some(value));
        seen.insert(space.canonical_hash(&a));
    }
    assert!(!plain_fits.borrow().is_empty());
    assert_eq!(*plain_fits.borrow(), *pending_fits.borrow());
}
