//! One study in PostgreSQL: its settings, its trials and their leases, its workers.

use crate::connection::{Reconnect, ReconnectingClient, StudyAddress};
use crate::error::{Result, StudyError};
use crate::schema::{CREATE_V1, LOCK_SPACE, SCHEMA_LOCK, SCHEMA_VERSION};
use metanas_search::{Trial, TrialOutcome};
use postgres::Client;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The settings a study is created with; a worker joining it must bring the
/// same `settings_key` and `budget`.
#[derive(Debug, Clone)]
pub struct StudySettings {
    /// The study's name (`--study`).
    pub name: String,
    /// The settings that identify the search (space, task, strategy,
    /// constraints, seed): the key of the SQLite store.
    pub settings_key: String,
    /// Trials to finish (completed, or failed after their last attempt).
    pub budget: usize,
    /// Seed of the search: each proposal's random draw comes from it and the trial number.
    pub seed: u64,
    /// Whether a larger objective is better (for the status command's best trial).
    pub maximize: bool,
    /// Tries of a trial whose worker is lost before it is failed.
    pub max_attempts: u32,
    /// How long a claimed trial stays a worker's without a heartbeat.
    pub lease: Duration,
}

/// A trial of the study as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTrial {
    /// Zero-based trial number.
    pub number: usize,
    /// Architecture in the space's text form.
    pub architecture: String,
    /// Its canonical hash.
    pub canonical_hash: String,
    /// waiting, running, complete or failed.
    pub state: TrialState,
    /// Claims so far.
    pub attempts: u32,
    /// The worker that holds (running) or finished it.
    pub worker: Option<String>,
    /// The result (complete, or failed by its evaluation).
    pub outcome: Option<TrialOutcome>,
    /// Why it failed.
    pub failure: Option<String>,
    /// Seconds its evaluation took.
    pub seconds: Option<f64>,
}

impl StoredTrial {
    /// The trial as a sequential search records it, once it is finished.
    pub fn to_trial(&self) -> Option<Trial> {
        let outcome = match (&self.state, &self.outcome) {
            (TrialState::Complete | TrialState::Failed, Some(outcome)) => outcome.clone(),
            (TrialState::Failed, None) => TrialOutcome::Failed {
                error: self.failure.clone().unwrap_or_default(),
            },
            _ => return None,
        };
        Some(Trial {
            index: self.number,
            architecture: self.architecture.clone(),
            canonical_hash: self.canonical_hash.clone(),
            outcome,
            seconds: self.seconds.unwrap_or(0.0),
        })
    }
}

/// The state of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrialState {
    /// Proposed, not claimed (or its worker was lost).
    Waiting,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Evaluated; the result is stored.
    Complete,
    /// Failed: its evaluation failed, or its workers were lost `max_attempts` times.
    Failed,
}

impl TrialState {
    fn parse(text: &str) -> Self {
        match text {
            "waiting" => Self::Waiting,
            "running" => Self::Running,
            "complete" => Self::Complete,
            _ => Self::Failed,
        }
    }

    /// The state's name in the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Failed => "failed",
        }
    }

    /// Complete or failed: counted in the budget.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Complete | Self::Failed)
    }
}

/// A trial a worker claimed: the lease is its while `attempt` is the trial's last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Trial number.
    pub number: usize,
    /// Architecture in the space's text form.
    pub architecture: String,
    /// Which claim of the trial this is (1 for the first).
    pub attempt: u32,
}

/// How far a study is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StudyCounts {
    /// Trials proposed in all.
    pub proposed: usize,
    /// Waiting to be claimed.
    pub waiting: usize,
    /// Claimed and under lease.
    pub running: usize,
    /// Evaluated.
    pub complete: usize,
    /// Failed.
    pub failed: usize,
    /// Workers whose heartbeat is younger than the lease.
    pub live_workers: usize,
    /// The study's budget.
    pub budget: usize,
    /// The strategy found no unseen candidate.
    pub exhausted: bool,
}

impl StudyCounts {
    /// Complete and failed trials: what the budget counts.
    pub fn finished(&self) -> usize {
        self.complete + self.failed
    }

    /// Whether no more trials will be run.
    pub fn is_done(&self) -> bool {
        self.finished() >= self.budget || (self.exhausted && self.waiting == 0 && self.running == 0)
    }
}

/// A lease that ran out: its trial went back to waiting, or failed after its last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredLease {
    /// Trial number.
    pub number: usize,
    /// The worker that lost it.
    pub worker: String,
    /// Whether it failed for good (else it waits for another worker).
    pub failed: bool,
}

/// Who runs the study's final stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalTurn {
    /// This worker: run it, then [`PostgresStudy::final_done`].
    Mine,
    /// Another worker runs it now.
    Running {
        /// That worker.
        worker: String,
        /// Its output folder.
        out_dir: String,
    },
    /// It is done.
    Done {
        /// The worker that ran it.
        worker: String,
        /// Where the results are.
        out_dir: String,
    },
}

/// First half of the advisory lock of a study's proposer (the second is the study's id).
const PROPOSER_KEY: i32 = LOCK_SPACE + 1;
/// First half of the advisory lock of a study's final stage (the second is the study's id).
const FINAL_KEY: i32 = LOCK_SPACE + 2;

/// One study in a PostgreSQL database, as one worker sees it.
///
/// Every write checks what it needs in the same statement: a claim takes a
/// waiting trial with `FOR UPDATE SKIP LOCKED`, a result is written only by the
/// worker and attempt that hold the trial's lease, and leases are timed with
/// the server's `now()`, so workers' clocks never matter.
#[derive(Debug)]
pub struct PostgresStudy {
    client: ReconnectingClient,
    study_id: i64,
    settings: StudySettings,
    worker: String,
}

impl PostgresStudy {
    /// Joins the study `settings.name` as worker `worker` (output folder
    /// `out_dir`), creating the schema and the study when missing.
    ///
    /// # Errors
    /// Connection errors ([`StudyError::Unreachable`], [`StudyError::LoginRefused`]);
    /// [`StudyError::SettingsMismatch`] when the study holds another search,
    /// [`StudyError::InvalidSetting`] for another budget: nothing is written then.
    pub fn join(
        address: &StudyAddress,
        settings: &StudySettings,
        worker: &str,
        out_dir: &str,
        reconnect: Reconnect,
    ) -> Result<Self> {
        if settings.budget == 0 || settings.max_attempts == 0 || settings.lease.is_zero() {
            return Err(StudyError::InvalidSetting(
                "budget, attempts and lease must be positive".into(),
            ));
        }
        let mut client = ReconnectingClient::connect(address, reconnect)?;
        let server = address.to_string();
        let study_id = client.run(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&LOCK_SPACE, &SCHEMA_LOCK],
            )?;
            tx.batch_execute(CREATE_V1)?;
            let version: Option<i32> = tx
                .query_opt("SELECT max(version) FROM metanas_schema", &[])?
                .and_then(|row| row.get(0));
            if version.is_none() {
                tx.execute(
                    "INSERT INTO metanas_schema (version) VALUES ($1)",
                    &[&SCHEMA_VERSION],
                )?;
            }
            let found = tx.query_opt(
                "SELECT id, settings_key, budget FROM metanas_studies WHERE name = $1",
                &[&settings.name],
            )?;
            let outcome = match found {
                Some(row) => Ok((
                    row.get::<_, i64>(0),
                    row.get::<_, String>(1),
                    row.get::<_, i32>(2),
                    version,
                )),
                None => {
                    let row = tx.query_one(
                        "INSERT INTO metanas_studies (name, settings_key, budget, seed, maximize, max_attempts, lease_seconds)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        &[
                            &settings.name,
                            &settings.settings_key,
                            &(settings.budget as i32),
                            &(settings.seed as i64),
                            &settings.maximize,
                            &(settings.max_attempts as i32),
                            &settings.lease.as_secs_f64(),
                        ],
                    )?;
                    Ok((row.get(0), settings.settings_key.clone(), settings.budget as i32, version))
                }
            };
            // Nothing of a refused worker is kept: the checks below roll back.
            let (id, key, budget, version) = outcome?;
            if version.is_some_and(|v| v > SCHEMA_VERSION)
                || key != settings.settings_key
                || budget as usize != settings.budget
            {
                tx.rollback()?;
                return Ok(Err((version, key, budget)));
            }
            tx.execute(
                "INSERT INTO metanas_workers (study_id, worker, host, pid, out_dir) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (study_id, worker) DO UPDATE SET heartbeat = now(), left_at = NULL",
                &[&id, &worker, &host_name(), &(std::process::id() as i32), &out_dir],
            )?;
            tx.commit()?;
            Ok(Ok(id))
        })?;
        let study_id = match study_id {
            Ok(id) => id,
            Err((Some(version), _, _)) if version > SCHEMA_VERSION => {
                return Err(StudyError::SchemaTooNew {
                    server,
                    stored: version,
                    known: SCHEMA_VERSION,
                });
            }
            Err((_, key, _)) if key != settings.settings_key => {
                return Err(StudyError::SettingsMismatch {
                    study: settings.name.clone(),
                    server,
                    stored: key,
                    requested: settings.settings_key.clone(),
                });
            }
            Err((_, _, budget)) => {
                return Err(StudyError::InvalidSetting(format!(
                    "study `{}` has a budget of {budget} trials; every worker must pass the same --budget (got {})",
                    settings.name, settings.budget
                )));
            }
        };
        let mut study = Self {
            client,
            study_id,
            settings: settings.clone(),
            worker: worker.to_string(),
        };
        // The study's lease and attempts are those it was created with.
        let (attempts, lease) = study.client.run(|c| {
            let row = c.query_one(
                "SELECT max_attempts, lease_seconds FROM metanas_studies WHERE id = $1",
                &[&study_id],
            )?;
            Ok((row.get::<_, i32>(0), row.get::<_, f64>(1)))
        })?;
        study.settings.max_attempts = attempts as u32;
        study.settings.lease = Duration::from_secs_f64(lease);
        Ok(study)
    }

    /// Opens an existing study to read it (the status command): creates nothing.
    ///
    /// # Errors
    /// Connection errors; [`StudyError::UnknownStudy`] when there is no such study.
    pub fn open_existing(address: &StudyAddress, name: &str) -> Result<Self> {
        let mut client = ReconnectingClient::connect(address, Reconnect::default())?;
        let (found, known) = client.run(|c| {
            let has_schema: bool = c
                .query_one("SELECT to_regclass('metanas_studies') IS NOT NULL", &[])?
                .get(0);
            if !has_schema {
                return Ok((None, Vec::new()));
            }
            let found = c.query_opt(
                "SELECT id, settings_key, budget, seed, max_attempts, lease_seconds, maximize FROM metanas_studies WHERE name = $1",
                &[&name],
            )?;
            let known = c
                .query("SELECT name FROM metanas_studies ORDER BY name", &[])?
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect::<Vec<_>>();
            Ok((
                found.map(|row| {
                    (
                        row.get::<_, i64>(0),
                        StudySettings {
                            name: name.to_string(),
                            settings_key: row.get(1),
                            budget: row.get::<_, i32>(2) as usize,
                            seed: row.get::<_, i64>(3) as u64,
                            max_attempts: row.get::<_, i32>(4) as u32,
                            lease: Duration::from_secs_f64(row.get(5)),
                            maximize: row.get(6),
                        },
                    )
                }),
                known,
            ))
        })?;
        let Some((study_id, settings)) = found else {
            return Err(StudyError::UnknownStudy {
                study: name.to_string(),
                server: address.to_string(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        };
        Ok(Self {
            client,
            study_id,
            settings,
            worker: String::new(),
        })
    }

    /// The study's settings (lease and attempts as the study was created with).
    pub fn settings(&self) -> &StudySettings {
        &self.settings
    }

    /// This worker's name.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// The database (password hidden).
    pub fn address(&self) -> &StudyAddress {
        self.client.address()
    }

    /// Times this worker's connection was re-made.
    pub fn reconnects(&self) -> usize {
        self.client.reconnects()
    }

    pub(crate) fn study_id(&self) -> i64 {
        self.study_id
    }

    /// Runs a statement batch of the study on this worker's connection.
    pub(crate) fn run<T>(
        &mut self,
        operation: impl FnMut(&mut Client) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        self.client.run(operation)
    }

    /// Puts the trials whose lease ran out back to waiting, or fails them after
    /// their last attempt.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn expire_leases(&mut self) -> Result<Vec<ExpiredLease>> {
        let id = self.study_id;
        self.client.run(|c| {
            let rows = c.query(
                "UPDATE metanas_trials t SET
                     state = CASE WHEN t.attempts >= s.max_attempts THEN 'failed' ELSE 'waiting' END,
                     failure = CASE WHEN t.attempts >= s.max_attempts
                         THEN format('lost its worker %s times (lease of %s s ran out; last held by %s)', t.attempts, s.lease_seconds, t.worker)
                         ELSE t.failure END,
                     finished_at = CASE WHEN t.attempts >= s.max_attempts THEN now() ELSE NULL END,
                     worker = CASE WHEN t.attempts >= s.max_attempts THEN t.worker ELSE NULL END,
                     lease_until = NULL
                 FROM metanas_studies s, (SELECT number, worker FROM metanas_trials
                     WHERE study_id = $1 AND state = 'running' AND lease_until < now() FOR UPDATE SKIP LOCKED) old
                 WHERE s.id = $1 AND t.study_id = $1 AND t.number = old.number
                 RETURNING t.number, old.worker, t.state",
                &[&id],
            )?;
            Ok(rows
                .iter()
                .map(|row| ExpiredLease {
                    number: row.get::<_, i32>(0) as usize,
                    worker: row.get::<_, Option<String>>(1).unwrap_or_default(),
                    failed: row.get::<_, String>(2) == "failed",
                })
                .collect())
        })
    }

    /// How far the study is.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn counts(&mut self) -> Result<StudyCounts> {
        let id = self.study_id;
        self.client.run(|c| {
            let row = c.query_one(
                "SELECT t.proposed, t.waiting, t.running, t.complete, t.failed,
                     (SELECT count(*) FROM metanas_workers w WHERE w.study_id = $1 AND w.left_at IS NULL
                         AND w.heartbeat > now() - make_interval(secs => s.lease_seconds)),
                     s.budget, s.exhausted
                 FROM metanas_studies s, (SELECT count(*) AS proposed,
                         count(*) FILTER (WHERE state = 'waiting') AS waiting,
                         count(*) FILTER (WHERE state = 'running') AS running,
                         count(*) FILTER (WHERE state = 'complete') AS complete,
                         count(*) FILTER (WHERE state = 'failed') AS failed
                     FROM metanas_trials WHERE study_id = $1) t
                 WHERE s.id = $1",
                &[&id],
            )?;
            let n = |i: usize| row.get::<_, i64>(i) as usize;
            Ok(StudyCounts {
                proposed: n(0),
                waiting: n(1),
                running: n(2),
                complete: n(3),
                failed: n(4),
                live_workers: n(5),
                budget: row.get::<_, i32>(6) as usize,
                exhausted: row.get(7),
            })
        })
    }

    /// Claims the lowest-numbered waiting trial, if any, under a fresh lease.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn claim(&mut self) -> Result<Option<Claim>> {
        let id = self.study_id;
        let worker = self.worker.clone();
        let lease = self.settings.lease.as_secs_f64();
        self.client.run(|c| {
            let row = c.query_opt(
                "WITH next AS (
                     SELECT number FROM metanas_trials WHERE study_id = $1 AND state = 'waiting'
                     ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED)
                 UPDATE metanas_trials t SET state = 'running', attempts = t.attempts + 1, worker = $2,
                     lease_until = now() + make_interval(secs => $3)
                 FROM next WHERE t.study_id = $1 AND t.number = next.number
                 RETURNING t.number, t.architecture, t.attempts",
                &[&id, &worker, &lease],
            )?;
            Ok(row.map(|row| Claim {
                number: row.get::<_, i32>(0) as usize,
                architecture: row.get(1),
                attempt: row.get::<_, i32>(2) as u32,
            }))
        })
    }

    /// Writes the result of a claimed trial. Only the lease holder can: a
    /// worker whose lease ran out (and was claimed again) gets `false`, and
    /// nothing is written.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn finish(&mut self, claim: &Claim, outcome: &TrialOutcome, seconds: f64) -> Result<bool> {
        let id = self.study_id;
        let worker = self.worker.clone();
        let number = claim.number as i32;
        let attempt = claim.attempt as i32;
        let (state, objective, report, failure) = match outcome {
            TrialOutcome::Finished(m) => ("complete", Some(m.objective), m.report, None),
            TrialOutcome::Failed { error } => ("failed", None, None, Some(error.clone())),
        };
        let outcome_json = serde_json::to_string(outcome).map_err(|e| StudyError::Database {
            server: self.address().to_string(),
            message: e.to_string(),
        })?;
        self.client.run(|c| {
            let written = c.execute(
                "UPDATE metanas_trials SET state = $5, objective = $6, report = $7, failure = $8,
                     outcome = $9, seconds = $10, finished_at = now(), lease_until = NULL
                 WHERE study_id = $1 AND number = $2 AND state = 'running' AND worker = $3 AND attempts = $4",
                &[
                    &id, &number, &worker, &attempt, &state, &objective, &report, &failure,
                    &outcome_json, &seconds,
                ],
            )?;
            if written == 1 {
                c.execute(
                    "UPDATE metanas_workers SET completed = completed + 1 WHERE study_id = $1 AND worker = $2",
                    &[&id, &worker],
                )?;
                return Ok(true);
            }
            // Written by this very call before a lost connection? Then it is ours.
            let ours: bool = c
                .query_opt(
                    "SELECT 1 FROM metanas_trials WHERE study_id = $1 AND number = $2 AND worker = $3
                         AND attempts = $4 AND state = $5 AND outcome = $6",
                    &[&id, &number, &worker, &attempt, &state, &outcome_json],
                )?
                .is_some();
            if !ours {
                c.execute(
                    "UPDATE metanas_workers SET refused = refused + 1 WHERE study_id = $1 AND worker = $2",
                    &[&id, &worker],
                )?;
            }
            Ok(ours)
        })
    }

    /// Tries to become the study's proposer (a session-level advisory lock).
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn try_lock_proposer(&mut self) -> Result<bool> {
        let id = self.study_id as i32;
        self.client.run(|c| {
            Ok(
                c.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&PROPOSER_KEY, &id])?
                    .get(0),
            )
        })
    }

    /// Lets another worker propose.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn unlock_proposer(&mut self) -> Result<()> {
        let id = self.study_id as i32;
        self.client.run(|c| {
            c.execute("SELECT pg_advisory_unlock($1, $2)", &[&PROPOSER_KEY, &id])
                .map(|_| ())
        })
    }

    /// Every trial of the study, by number.
    ///
    /// # Errors
    /// [`StudyError::Database`]; a damaged stored outcome.
    pub fn trials(&mut self) -> Result<Vec<StoredTrial>> {
        self.trials_from(0)
    }

    /// The trials numbered `first` and above, by number.
    ///
    /// # Errors
    /// [`StudyError::Database`]; a damaged stored outcome.
    pub fn trials_from(&mut self, first: usize) -> Result<Vec<StoredTrial>> {
        let id = self.study_id;
        let first = first as i32;
        let rows = self.client.run(|c| {
            c.query(
                "SELECT number, architecture, canonical_hash, state, attempts, worker, outcome, failure, seconds
                 FROM metanas_trials WHERE study_id = $1 AND number >= $2 ORDER BY number",
                &[&id, &first],
            )
        })?;
        rows.iter()
            .map(|row| {
                let outcome = row
                    .get::<_, Option<String>>(6)
                    .map(|text| serde_json::from_str::<TrialOutcome>(&text))
                    .transpose()
                    .map_err(|e| StudyError::Database {
                        server: self.address().to_string(),
                        message: format!("trial {}: damaged outcome: {e}", row.get::<_, i32>(0)),
                    })?;
                Ok(StoredTrial {
                    number: row.get::<_, i32>(0) as usize,
                    architecture: row.get(1),
                    canonical_hash: row.get(2),
                    state: TrialState::parse(row.get(3)),
                    attempts: row.get::<_, i32>(4) as u32,
                    worker: row.get(5),
                    outcome,
                    failure: row.get(7),
                    seconds: row.get(8),
                })
            })
            .collect()
    }

    /// Adds a proposed trial as waiting; `false` when its number or its
    /// architecture (canonical hash) is already in the study.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn add_trial(
        &mut self,
        number: usize,
        architecture: &str,
        canonical_hash: &str,
    ) -> Result<bool> {
        let id = self.study_id;
        let worker = self.worker.clone();
        let number = number as i32;
        self.client.run(|c| {
            let added = c.execute(
                "INSERT INTO metanas_trials (study_id, number, architecture, canonical_hash, state, proposed_by)
                 VALUES ($1, $2, $3, $4, 'waiting', $5) ON CONFLICT DO NOTHING",
                &[&id, &number, &architecture, &canonical_hash, &worker],
            )?;
            Ok(added == 1)
        })
    }

    /// Records that the strategy has no unseen candidate left.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn mark_exhausted(&mut self) -> Result<()> {
        let id = self.study_id;
        self.client.run(|c| {
            c.execute(
                "UPDATE metanas_studies SET exhausted = true WHERE id = $1",
                &[&id],
            )
            .map(|_| ())
        })
    }

    /// Whose turn the final stage is: this worker's when it takes the study's
    /// final lock and the stage is not done (again, if its last runner died).
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn final_turn(&mut self, out_dir: &str) -> Result<FinalTurn> {
        let id = self.study_id;
        let worker = self.worker.clone();
        self.client.run(|c| {
            let row = c.query_one(
                "SELECT final_state, final_worker, final_dir FROM metanas_studies WHERE id = $1",
                &[&id],
            )?;
            let state: String = row.get(0);
            let (who, dir) = (
                row.get::<_, Option<String>>(1).unwrap_or_default(),
                row.get::<_, Option<String>>(2).unwrap_or_default(),
            );
            if state == "done" {
                return Ok(FinalTurn::Done { worker: who, out_dir: dir });
            }
            let locked: bool = c
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&FINAL_KEY, &(id as i32)],
                )?
                .get(0);
            if !locked {
                // Its holder names itself right after taking the lock.
                let mut named = (who, dir);
                for _ in 0..100 {
                    if !named.0.is_empty() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    let row = c.query_one(
                        "SELECT final_worker, final_dir FROM metanas_studies WHERE id = $1",
                        &[&id],
                    )?;
                    named = (
                        row.get::<_, Option<String>>(0).unwrap_or_default(),
                        row.get::<_, Option<String>>(1).unwrap_or_default(),
                    );
                }
                return Ok(FinalTurn::Running {
                    worker: named.0,
                    out_dir: named.1,
                });
            }
            let row = c.query_one(
                "UPDATE metanas_studies SET final_state = CASE WHEN final_state = 'done' THEN 'done' ELSE 'running' END,
                     final_worker = CASE WHEN final_state = 'done' THEN final_worker ELSE $2 END,
                     final_dir = CASE WHEN final_state = 'done' THEN final_dir ELSE $3 END
                 WHERE id = $1 RETURNING final_state, final_worker, final_dir",
                &[&id, &worker, &out_dir],
            )?;
            if row.get::<_, String>(0) == "done" {
                c.execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    &[&FINAL_KEY, &(id as i32)],
                )?;
                return Ok(FinalTurn::Done {
                    worker: row.get(1),
                    out_dir: row.get(2),
                });
            }
            Ok(FinalTurn::Mine)
        })
    }

    /// Records that this worker finished the final stage.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn final_done(&mut self) -> Result<()> {
        let id = self.study_id;
        self.client.run(|c| {
            c.execute(
                "UPDATE metanas_studies SET final_state = 'done' WHERE id = $1",
                &[&id],
            )?;
            c.execute(
                "SELECT pg_advisory_unlock($1, $2)",
                &[&FINAL_KEY, &(id as i32)],
            )
            .map(|_| ())
        })
    }

    /// Records that this worker left the study.
    ///
    /// # Errors
    /// [`StudyError::Database`].
    pub fn leave(&mut self) -> Result<()> {
        let id = self.study_id;
        let worker = self.worker.clone();
        self.client.run(|c| {
            c.execute(
                "UPDATE metanas_workers SET left_at = now() WHERE study_id = $1 AND worker = $2",
                &[&id, &worker],
            )
            .map(|_| ())
        })
    }

    /// Starts this worker's heartbeat (its own connection): every quarter
    /// lease it writes the worker's heartbeat and renews the lease of the trial
    /// in `holding`. It stops when dropped.
    ///
    /// # Errors
    /// Connection errors.
    pub fn start_heartbeat(&self, holding: Arc<Mutex<Option<Claim>>>) -> Result<Heartbeat> {
        let mut client = ReconnectingClient::connect(self.address(), Reconnect::default())?;
        let stop = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicBool::new(false));
        let (id, worker, lease) = (
            self.study_id,
            self.worker.clone(),
            self.settings.lease.as_secs_f64(),
        );
        let period = self.settings.lease / 4;
        let thread = {
            let (stop, lost) = (stop.clone(), lost.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let claim = holding.lock().map(|h| h.clone()).unwrap_or(None);
                    let beat = client.run(|c| {
                        c.execute(
                            "UPDATE metanas_workers SET heartbeat = now() WHERE study_id = $1 AND worker = $2",
                            &[&id, &worker],
                        )?;
                        match &claim {
                            Some(claim) => c.execute(
                                "UPDATE metanas_trials SET lease_until = now() + make_interval(secs => $5)
                                 WHERE study_id = $1 AND number = $2 AND worker = $3 AND attempts = $4 AND state = 'running'",
                                &[&id, &(claim.number as i32), &worker, &(claim.attempt as i32), &lease],
                            ),
                            None => Ok(1),
                        }
                    });
                    if matches!(beat, Ok(0)) {
                        lost.store(true, Ordering::Relaxed);
                    }
                    let mut slept = Duration::ZERO;
                    while slept < period && !stop.load(Ordering::Relaxed) {
                        let step = Duration::from_millis(20).min(period - slept);
                        std::thread::sleep(step);
                        slept += step;
                    }
                }
            })
        };
        Ok(Heartbeat {
            stop,
            lost,
            thread: Some(thread),
        })
    }
}

/// A worker's heartbeat thread; stops when dropped.
#[derive(Debug)]
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    /// Whether a lease renewal found the trial no longer this worker's (and
    /// clears the flag).
    pub fn take_lost_lease(&self) -> bool {
        self.lost.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// This machine's name (for the status command's list of workers).
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}
