//! The search loop: budget, de-duplication, persistence and exact resume.

use crate::constraints::Constraints;
use crate::error::SearchError;
use crate::evaluator::Evaluator;
use crate::measurement::{Trial, TrialOutcome};
use crate::strategy::{ProposalContext, Strategy};
use crate::trial_storage::TrialStorage;
use burn::config::Config;
use metanas_data::Objective;
use metanas_space::{CanonicalHash, SearchSpace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;

/// Budget and seed of a search.
#[derive(Config, Debug)]
pub struct SearchConfig {
    /// Queries to spend: evaluations of architectures not seen before
    /// (isomorphic cells count as seen).
    #[config(default = 100)]
    pub max_queries: usize,
    /// Stop starting new queries after this many seconds (`None`: no limit).
    #[config(default = "None")]
    pub max_seconds: Option<f64>,
    /// Seed of the strategy's random choices and of the evaluations.
    #[config(default = 0)]
    pub seed: u64,
}

impl SearchConfig {
    /// Validates the settings before a search starts.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] when `max_queries` is 0 (nothing would be
    /// searched) or `max_seconds` is not a positive number.
    pub fn check(&self) -> crate::error::Result<()> {
        if self.max_queries == 0 {
            return Err(SearchError::InvalidConfig(
                "the query budget is 0: give at least 1 query (--budget)".into(),
            ));
        }
        if let Some(seconds) = self.max_seconds
            && !(seconds.is_finite() && seconds > 0.0)
        {
            return Err(SearchError::InvalidConfig(format!(
                "the time limit must be a positive number of seconds (--time-limit), got {seconds}"
            )));
        }
        Ok(())
    }
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All queries were spent.
    QueryBudget,
    /// The time limit passed.
    TimeBudget,
    /// The strategy had no new feasible architecture to offer.
    Exhausted,
}

/// What a search produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchOutcome {
    /// Every query, in order.
    pub trials: Vec<Trial>,
    /// Index of the best finished trial by the objective.
    pub best: Option<usize>,
    /// Trials taken from the store instead of evaluated (after a resume).
    pub replayed: usize,
    /// Proposals answered from the cache (repeats and isomorphic cells): free.
    pub free_repeats: usize,
    /// Why the loop ended.
    pub stop: StopReason,
}

impl SearchOutcome {
    /// The best finished trial.
    pub fn best_trial(&self) -> Option<&Trial> {
        self.best.and_then(|i| self.trials.get(i))
    }
}

/// Progress reported after each query.
#[derive(Debug, Clone, Copy)]
pub struct SearchProgress<'a> {
    /// The query just done.
    pub trial: &'a Trial,
    /// Whether it came from the store (resume) rather than an evaluation.
    pub replayed: bool,
    /// The best objective so far.
    pub best_objective: Option<f64>,
    /// Queries done and the budget.
    pub queries: (usize, usize),
}

/// Runs strategies against evaluators in one space, under constraints.
///
/// The searcher owns the loop: it asks the strategy for an architecture,
/// answers repeats (by canonical hash) from its cache without spending a query,
/// has the evaluator measure new ones, shows the strategy only the objective,
/// writes each finished trial to the store at once, and stops at the budget.
///
/// **Resume.** Given a store with trials from an interrupted run of the same
/// search, the loop replays: the strategy proposes again from the same seed,
/// each proposal is checked against the stored trial and answered from the
/// store, and evaluation starts where the store ends. So no finished trial is
/// lost or run twice, and the result equals an uninterrupted run's.
pub struct Searcher<S: SearchSpace> {
    space: S,
    constraints: Constraints<S>,
    config: SearchConfig,
}

impl<S: SearchSpace> Searcher<S> {
    /// A searcher over `space`.
    pub fn new(space: S, constraints: Constraints<S>, config: SearchConfig) -> Self {
        Self {
            space,
            constraints,
            config,
        }
    }

    /// The space.
    pub fn space(&self) -> &S {
        &self.space
    }

    /// The constraints every proposal must respect.
    pub fn constraints(&self) -> &Constraints<S> {
        &self.constraints
    }

    /// The budget and seed.
    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// The settings that identify a search (the trial store's key): space,
    /// task, strategy, constraints and seed. The budget is not part of it, so a
    /// resumed search may be given more queries.
    pub fn search_key(&self, strategy: &dyn Strategy<S>, evaluator: &dyn Evaluator<S>) -> String {
        self.search_key_for_task(strategy, &evaluator.describe())
    }

    /// The search key with `task` in place of the evaluator's description
    /// (e.g. a description in an earlier version's form, to recognise a store
    /// written by it: see [`crate::TrialStore::open_migrating`]).
    pub fn search_key_for_task(&self, strategy: &dyn Strategy<S>, task: &str) -> String {
        format!(
            "space={}; task={task}; strategy={}; constraints={}; seed={}",
            self.space.name(),
            strategy.describe(),
            self.constraints.describe(),
            self.config.seed
        )
    }

    /// Runs the search to its budget (see the type's docs for resume).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] when [`SearchConfig::check`] fails;
    /// [`SearchError::ReplayMismatch`] when the store's trials do not match the
    /// replay; [`SearchError::Store`] when a trial cannot be written; errors of
    /// the strategy. A failed evaluation is not an error: it is recorded as a
    /// failed trial.
    pub fn run(
        &self,
        strategy: &mut dyn Strategy<S>,
        evaluator: &mut dyn Evaluator<S>,
        mut store: Option<&mut dyn TrialStorage>,
        on_progress: &mut dyn FnMut(SearchProgress<'_>),
    ) -> crate::error::Result<SearchOutcome> {
        self.config.check()?;
        let stored = match store.as_deref_mut() {
            Some(s) => s.finished_trials()?,
            None => Vec::new(),
        };
        let sign = match evaluator.objective() {
            Objective::Maximize => 1.0,
            Objective::Minimize => -1.0,
        };
        let mut rng = StdRng::seed_from_u64(self.config.seed);
        let mut seen: HashMap<CanonicalHash, Option<f64>> = HashMap::new();
        let mut outcome = SearchOutcome {
            trials: Vec::new(),
            best: None,
            replayed: 0,
            free_repeats: 0,
            stop: StopReason::QueryBudget,
        };
        let start = Instant::now();
        let mut free_in_a_row = 0usize;
        while outcome.trials.len() < self.config.max_queries {
            if self
                .config
                .max_seconds
                .is_some_and(|limit| start.elapsed().as_secs_f64() >= limit)
                && outcome.trials.len() >= stored.len()
            {
                outcome.stop = StopReason::TimeBudget;
                break;
            }
            let proposal = {
                let is_feasible = |a: &S::Arch| self.constraints.allows(a);
                let is_seen = |a: &S::Arch| seen.contains_key(&self.space.canonical_hash(a));
                let context = ProposalContext {
                    space: &self.space,
                    is_feasible: &is_feasible,
                    is_seen: &is_seen,
                };
                strategy.propose(&context, &mut rng)
            };
            let arch = match proposal {
                Ok(arch) => arch,
                Err(SearchError::SpaceExhausted { .. }) => {
                    outcome.stop = StopReason::Exhausted;
                    break;
                }
                Err(e) => return Err(e),
            };
            let hash = self.space.canonical_hash(&arch);
            let repeat = seen.get(&hash).copied();
            if repeat.is_some() || !self.constraints.allows(&arch) {
                // Free: a repeat is answered from the cache; an infeasible
                // proposal is refused without a query.
                strategy.observe(&arch, repeat.flatten());
                outcome.free_repeats += 1;
                free_in_a_row += 1;
                if free_in_a_row > 100_000 {
                    return Err(SearchError::SpaceExhausted {
                        strategy: strategy.name().into(),
                        attempts: free_in_a_row,
                    });
                }
                continue;
            }
            free_in_a_row = 0;
            let index = outcome.trials.len();
            let architecture = self.space.format(&arch);
            let (trial, replayed) = match stored.get(index) {
                Some(previous) => {
                    if previous.architecture != architecture {
                        return Err(SearchError::ReplayMismatch {
                            trial: index,
                            stored: previous.architecture.clone(),
                            proposed: architecture,
                        });
                    }
                    (previous.clone(), true)
                }
                None => {
                    let started = Instant::now();
                    let seed = self
                        .config
                        .seed
                        .wrapping_mul(1_000_003)
                        .wrapping_add(index as u64);
                    let result = match evaluator.evaluate(&arch, seed) {
                        Ok(m) => TrialOutcome::Finished(m),
                        Err(e) => TrialOutcome::Failed {
                            error: e.to_string(),
                        },
                    };
                    let trial = Trial {
                        index,
                        architecture,
                        canonical_hash: hash.to_string(),
                        outcome: result,
                        seconds: started.elapsed().as_secs_f64(),
                    };
                    if let Some(store) = store.as_deref_mut() {
                        store.record(&trial)?;
                    }
                    (trial, false)
                }
            };
            let score = trial.objective().map(|o| sign * o);
            seen.insert(hash, score);
            strategy.observe(&arch, score);
            if let Some(s) = score {
                let best_score = outcome
                    .best_trial()
                    .and_then(Trial::objective)
                    .map(|o| sign * o);
                if best_score.is_none_or(|b| s > b) {
                    outcome.best = Some(index);
                }
            }
            outcome.replayed += usize::from(replayed);
            outcome.trials.push(trial);
            let best_objective = outcome.best_trial().and_then(Trial::objective);
            if let Some(last) = outcome.trials.last() {
                on_progress(SearchProgress {
                    trial: last,
                    replayed,
                    best_objective,
                    queries: (outcome.trials.len(), self.config.max_queries),
                });
            }
        }
        Ok(outcome)
    }
}
