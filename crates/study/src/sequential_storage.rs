//! A study as the sequential searcher's storage: [`TrialStorage`] for
//! [`PostgresStudy`], so one process can run `Searcher::run` (with its exact
//! resume) against PostgreSQL as against the SQLite store.

use crate::error::StudyError;
use crate::postgres_study::{PostgresStudy, TrialState};
use metanas_search::{SearchError, Trial, TrialOutcome, TrialStorage};
use std::path::PathBuf;

impl PostgresStudy {
    fn store_error(&self, message: String) -> SearchError {
        SearchError::Store {
            path: PathBuf::from(self.location()),
            message,
        }
    }
}

fn message(e: StudyError) -> String {
    e.to_string()
}

impl TrialStorage for PostgresStudy {
    fn location(&self) -> String {
        format!("study `{}` in {}", self.settings().name, self.address())
    }

    fn finished_trials(&mut self) -> metanas_search::Result<Vec<Trial>> {
        let stored = self.trials().map_err(|e| self.store_error(message(e)))?;
        let mut trials = Vec::with_capacity(stored.len());
        for (index, trial) in stored.iter().enumerate() {
            match trial.to_trial() {
                Some(t) if t.index == index => trials.push(t),
                _ if trial.state.is_finished() || trial.state == TrialState::Failed => {
                    return Err(self.store_error(format!("trial {index} is missing")));
                }
                _ => {
                    return Err(self.store_error(format!(
                        "trial {} is {} (a study that workers are running is not a sequential search's store)",
                        trial.number,
                        trial.state.name()
                    )));
                }
            }
        }
        Ok(trials)
    }

    fn record(&mut self, trial: &Trial) -> metanas_search::Result<()> {
        let (state, objective, report, failure) = match &trial.outcome {
            TrialOutcome::Finished(m) => ("complete", Some(m.objective), m.report, None),
            TrialOutcome::Failed { error } => ("failed", None, None, Some(error.clone())),
        };
        let outcome =
            serde_json::to_string(&trial.outcome).map_err(|e| self.store_error(e.to_string()))?;
        let (id, worker) = (self.study_id(), self.worker().to_string());
        let number = trial.index as i32;
        let written = self.run(|c| {
            c.execute(
                "INSERT INTO metanas_trials (study_id, number, architecture, canonical_hash, state,
                     attempts, worker, objective, report, failure, outcome, seconds, proposed_by, finished_at)
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $6, now())
                 ON CONFLICT DO NOTHING",
                &[
                    &id,
                    &number,
                    &trial.architecture,
                    &trial.canonical_hash,
                    &state,
                    &worker,
                    &objective,
                    &report,
                    &failure,
                    &outcome,
                    &trial.seconds,
                ],
            )
        });
        match written {
            Ok(1) => Ok(()),
            Ok(_) => Err(self.store_error(format!(
                "trial {} (or its architecture) is already recorded",
                trial.index
            ))),
            Err(e) => Err(self.store_error(message(e))),
        }
    }
}
