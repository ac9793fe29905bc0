//! The model a Bayesian optimization strategy consults: fitted on the
//! observed (cell, score) pairs, it predicts a mean and a standard deviation
//! for every candidate of a pool.

use crate::error::Result;
use metanas_aen::Prediction;
use metanas_space::GraphEncoding;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Candidates to score, with an identity so that a surrogate can cache work
/// (encoded tensors, graph features) for a pool it has seen before.
#[derive(Debug, Clone)]
pub struct CandidatePool {
    id: u64,
    encodings: Arc<Vec<GraphEncoding>>,
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

impl CandidatePool {
    /// A new pool (a fresh identity).
    pub fn new(encodings: Vec<GraphEncoding>) -> Self {
        Self {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            encodings: Arc::new(encodings),
        }
    }

    /// The pool's identity: two pools with the same id hold the same cells.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The cells.
    pub fn encodings(&self) -> &[GraphEncoding] {
        &self.encodings
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.encodings.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.encodings.is_empty()
    }
}

/// A probabilistic model of the score (higher is better) of a cell.
///
/// Fitting a surrogate is part of choosing: it learns from scores that were
/// already measured and never evaluates an architecture itself.
pub trait Surrogate {
    /// What it is, for logs and search keys.
    fn describe(&self) -> String;

    /// Observations needed before [`Self::fit`] is meaningful (0 when the
    /// surrogate has a prior, e.g. a meta-learned one).
    fn min_observations(&self) -> usize;

    /// Fits on `observations` (scores: higher is better), seeded by `seed`.
    ///
    /// # Errors
    /// [`crate::SearchError::Surrogate`] when the model cannot be fitted.
    fn fit(&mut self, observations: &[(GraphEncoding, f64)], seed: u64) -> Result<()>;

    /// Mean and standard deviation of the score of every cell of `pool`.
    ///
    /// # Errors
    /// [`crate::SearchError::Surrogate`] before the first fit or for malformed cells.
    fn predict(&mut self, pool: &CandidatePool) -> Result<Vec<Prediction>>;
}
