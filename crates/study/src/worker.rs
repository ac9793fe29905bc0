//! A study's worker: claims and evaluates trials, proposes when it holds the
//! proposer lock, and ends when the budget is spent.

use crate::error::Result;
use crate::postgres_study::{Claim, ExpiredLease, FinalTurn, PostgresStudy, StoredTrial};
use metanas_data::Objective;
use metanas_search::{
    Constraints, Evaluator, ProposalContext, SearchError, SearchOutcome, StopReason, Strategy,
    Trial, TrialOutcome,
};
use metanas_space::SearchSpace;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a worker reports as it goes.
#[derive(Debug)]
pub enum WorkerEvent<'a> {
    /// This worker claimed a trial and starts evaluating it.
    Claimed(&'a Claim),
    /// This worker added a trial to the study.
    Proposed {
        /// Trial number.
        number: usize,
        /// Its architecture.
        architecture: &'a str,
    },
    /// This worker evaluated a trial; `accepted` is false when its lease had
    /// passed to another worker and the result was refused.
    Evaluated {
        /// The claim.
        claim: &'a Claim,
        /// What the evaluation gave.
        outcome: &'a TrialOutcome,
        /// Whether it was stored.
        accepted: bool,
    },
    /// A lease ran out (seen by this worker).
    Expired(&'a ExpiredLease),
}

/// How a worker's part of the study ended.
#[derive(Debug)]
pub enum WorkerEnd {
    /// The budget is spent and this worker runs the final stage: the study's
    /// trials as a search outcome. Call [`PostgresStudy::final_done`] after it.
    Finalize(SearchOutcome),
    /// The budget is spent and another worker runs (or ran) the final stage.
    FinalElsewhere {
        /// That worker.
        worker: String,
        /// Its output folder, where `results.json` is (or will be).
        out_dir: String,
        /// Whether it finished.
        done: bool,
    },
}

/// The random draw of trial `number`'s proposal: from the search seed and the
/// trial number alone, whichever worker proposes it.
pub fn proposal_seed(seed: u64, number: usize) -> u64 {
    splitmix64(seed ^ splitmix64(number as u64 ^ 0x7072_6f70_6f73_616c))
}

/// The seed of trial `number`'s evaluation (as the sequential searcher's).
pub fn evaluation_seed(seed: u64, number: usize) -> u64 {
    seed.wrapping_mul(1_000_003).wrapping_add(number as u64)
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The shortest and longest idle waits of a worker.
const IDLE_WAIT: (Duration, Duration) = (Duration::from_millis(10), Duration::from_millis(500));

/// One worker of a study.
///
/// Every worker runs the same loop: put expired leases back, stop when the
/// budget is spent, claim a waiting trial and evaluate it under a heartbeat
/// lease; with nothing to claim, take the proposer lock (one proposer at a
/// time), bring the strategy up to date from the stored trials (it observes
/// each finished trial once, so a worker that takes over rebuilds it from the
/// store), and add as many trials as there are idle live workers.
pub struct StudyWorker<'a, S: SearchSpace> {
    study: &'a mut PostgresStudy,
    space: &'a S,
    constraints: &'a Constraints<S>,
    /// Idle wait between two looks at the study: from 10 ms, doubling up to
    /// half a second while there is nothing to do (so idle workers cost the
    /// server little), back to 10 ms after a claim or a proposal.
    poll: Duration,
    observed: HashSet<usize>,
    /// Every trial below this number is finished and observed: a proposal
    /// round reads only the trials from here on.
    settled: usize,
    scores: HashMap<String, Option<f64>>,
    free_repeats: usize,
}

impl<'a, S: SearchSpace> StudyWorker<'a, S> {
    /// A worker of `study` over `space` under `constraints`.
    pub fn new(
        study: &'a mut PostgresStudy,
        space: &'a S,
        constraints: &'a Constraints<S>,
    ) -> Self {
        Self {
            study,
            space,
            constraints,
            poll: IDLE_WAIT.0,
            observed: HashSet::new(),
            settled: 0,
            scores: HashMap::new(),
            free_repeats: 0,
        }
    }

    /// Runs until the budget is spent (or the strategy has nothing left),
    /// then says who runs the final stage (`out_dir`: this worker's output folder).
    ///
    /// # Errors
    /// Database errors (after reconnecting with backoff); strategy errors; a
    /// stored architecture the space cannot read.
    pub fn run(
        &mut self,
        strategy: &mut dyn Strategy<S>,
        evaluator: &mut dyn Evaluator<S>,
        out_dir: &str,
        on_event: &mut dyn FnMut(WorkerEvent<'_>),
    ) -> Result<WorkerEnd> {
        let sign = match evaluator.objective() {
            Objective::Maximize => 1.0,
            Objective::Minimize => -1.0,
        };
        let holding: Arc<Mutex<Option<Claim>>> = Arc::new(Mutex::new(None));
        let heartbeat = self.study.start_heartbeat(holding.clone())?;
        let seed = self.study.settings().seed;
        loop {
            for expired in self.study.expire_leases()? {
                on_event(WorkerEvent::Expired(&expired));
            }
            let counts = self.study.counts()?;
            if counts.is_done() {
                break;
            }
            if let Some(claim) = self.study.claim()? {
                if let Ok(mut h) = holding.lock() {
                    *h = Some(claim.clone());
                }
                on_event(WorkerEvent::Claimed(&claim));
                let arch = self
                    .space
                    .parse(&claim.architecture)
                    .map_err(SearchError::from)?;
                let started = Instant::now();
                let outcome = match evaluator.evaluate(&arch, evaluation_seed(seed, claim.number)) {
                    Ok(m) => TrialOutcome::Finished(m),
                    Err(e) => TrialOutcome::Failed {
                        error: e.to_string(),
                    },
                };
                let seconds = started.elapsed().as_secs_f64();
                let accepted = self.study.finish(&claim, &outcome, seconds)?;
                if let Ok(mut h) = holding.lock() {
                    *h = None;
                }
                heartbeat.take_lost_lease();
                self.poll = IDLE_WAIT.0;
                on_event(WorkerEvent::Evaluated {
                    claim: &claim,
                    outcome: &outcome,
                    accepted,
                });
                continue;
            }
            let idle = counts
                .live_workers
                .max(1)
                .saturating_sub(counts.running)
                .max(1);
            let room = counts.budget.saturating_sub(counts.proposed);
            if room > 0 && !counts.exhausted && self.study.try_lock_proposer()? {
                let reconnects = self.study.reconnects();
                let proposed = self.propose(strategy, sign, idle.min(room), reconnects, on_event);
                let unlocked = self.study.unlock_proposer();
                if proposed? > 0 {
                    unlocked?;
                    self.poll = IDLE_WAIT.0;
                    continue;
                }
                unlocked?;
            }
            std::thread::sleep(self.poll);
            self.poll = (self.poll * 2).min(IDLE_WAIT.1);
        }
        drop(heartbeat);
        let trials = self.study.trials()?;
        let outcome = self.outcome(&trials, sign);
        match self.study.final_turn(out_dir)? {
            FinalTurn::Mine => Ok(WorkerEnd::Finalize(outcome)),
            FinalTurn::Running { worker, out_dir } => {
                self.study.leave()?;
                Ok(WorkerEnd::FinalElsewhere {
                    worker,
                    out_dir,
                    done: false,
                })
            }
            FinalTurn::Done { worker, out_dir } => {
                self.study.leave()?;
                Ok(WorkerEnd::FinalElsewhere {
                    worker,
                    out_dir,
                    done: true,
                })
            }
        }
    }

    /// Proposes up to `count` trials (holding the proposer lock); returns how
    /// many were added.
    fn propose(
        &mut self,
        strategy: &mut dyn Strategy<S>,
        sign: f64,
        count: usize,
        reconnects: usize,
        on_event: &mut dyn FnMut(WorkerEvent<'_>),
    ) -> Result<usize> {
        let trials = self.study.trials_from(self.settled)?;
        let seed = self.study.settings().seed;
        let budget = self.study.settings().budget;
        // Bring the strategy up to date: each finished trial observed once, in order.
        // The others (waiting or running) are pending: the strategy may condition on them.
        let mut pending = Vec::new();
        for trial in &trials {
            let score = trial_score(trial, sign);
            if score.is_none() {
                pending.push(
                    self.space
                        .parse(&trial.architecture)
                        .map_err(SearchError::from)?,
                );
            }
            self.scores
                .insert(trial.canonical_hash.clone(), score.flatten());
            if let Some(score) = score
                && self.observed.insert(trial.number)
            {
                let arch = self
                    .space
                    .parse(&trial.architecture)
                    .map_err(SearchError::from)?;
                strategy.observe(&arch, score);
            }
        }
        let mut number = trials.last().map_or(self.settled, |t| t.number + 1);
        while self.observed.contains(&self.settled) {
            self.settled += 1;
        }
        let mut added = 0;
        while added < count && number < budget {
            let mut rng = StdRng::seed_from_u64(proposal_seed(seed, number));
            let mut free_in_a_row = 0usize;
            let arch = loop {
                let proposal = {
                    let is_feasible = |a: &S::Arch| self.constraints.allows(a);
                    let is_seen = |a: &S::Arch| {
                        self.scores
                            .contains_key(&self.space.canonical_hash(a).to_string())
                    };
                    let context = ProposalContext {
                        space: self.space,
                        is_feasible: &is_feasible,
                        is_seen: &is_seen,
                    };
                    strategy.propose_with_pending(&context, &pending, &mut rng)
                };
                let arch = match proposal {
                    Ok(arch) => arch,
                    Err(SearchError::SpaceExhausted { .. }) => {
                        self.study.mark_exhausted()?;
                        return Ok(added);
                    }
                    Err(e) => return Err(e.into()),
                };
                let hash = self.space.canonical_hash(&arch).to_string();
                let repeat = self.scores.get(&hash).copied();
                if repeat.is_none() && self.constraints.allows(&arch) {
                    break arch;
                }
                // Free, as in the sequential search: answered from what is known.
                strategy.observe(&arch, repeat.flatten());
                self.free_repeats += 1;
                free_in_a_row += 1;
                if free_in_a_row > 100_000 {
                    self.study.mark_exhausted()?;
                    return Ok(added);
                }
            };
            let hash = self.space.canonical_hash(&arch).to_string();
            let architecture = self.space.format(&arch);
            // A lost connection also lost the lock: another worker may propose now.
            if self.study.reconnects() != reconnects
                || !self.study.add_trial(number, &architecture, &hash)?
            {
                return Ok(added);
            }
            // Pending: seen (never proposed again), not yet scored.
            self.scores.insert(hash, None);
            pending.push(arch);
            on_event(WorkerEvent::Proposed {
                number,
                architecture: &architecture,
            });
            number += 1;
            added += 1;
        }
        Ok(added)
    }

    /// The study's finished trials as a search outcome.
    fn outcome(&self, trials: &[StoredTrial], sign: f64) -> SearchOutcome {
        let finished: Vec<Trial> = trials.iter().filter_map(StoredTrial::to_trial).collect();
        let best = finished
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.objective().map(|o| (i, sign * o)))
            .fold(None, |best: Option<(usize, f64)>, (i, s)| match best {
                Some((_, b)) if b >= s => best,
                _ => Some((i, s)),
            })
            .map(|(i, _)| i);
        let exhausted = finished.len() < self.study.settings().budget;
        SearchOutcome {
            trials: finished,
            best,
            replayed: 0,
            free_repeats: self.free_repeats,
            stop: if exhausted {
                StopReason::Exhausted
            } else {
                StopReason::QueryBudget
            },
        }
    }
}

/// `Some(score)` for a finished trial (`Some(None)` when it failed), `None` while pending.
fn trial_score(trial: &StoredTrial, sign: f64) -> Option<Option<f64>> {
    if !trial.state.is_finished() {
        return None;
    }
    Some(
        trial
            .outcome
            .as_ref()
            .and_then(|o| match o {
                TrialOutcome::Finished(m) => Some(m.objective),
                TrialOutcome::Failed { .. } => None,
            })
            .map(|o| sign * o),
    )
}
