//! What `cargo xtask study` prints: a study's trials by state, the best so
//! far, its workers by heartbeat, its failures and its final stage.

use crate::error::Result;
use crate::postgres_study::{PostgresStudy, StoredTrial, StudyCounts, TrialState};
use std::fmt::Write as _;

/// A worker of the study as its heartbeats show it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerStatus {
    /// The worker's name (`host:pid:tag`).
    pub worker: String,
    /// Its output folder.
    pub out_dir: String,
    /// Seconds since its last heartbeat (server clock).
    pub seconds_since_heartbeat: f64,
    /// Whether its heartbeat is younger than the lease and it has not left.
    pub live: bool,
    /// Whether it left after the budget was spent.
    pub left: bool,
    /// Results it stored.
    pub completed: usize,
    /// Late results refused (its lease had passed to another worker).
    pub refused: usize,
}

/// A study's state.
#[derive(Debug, Clone)]
pub struct StudyStatus {
    /// The study's name.
    pub name: String,
    /// The database (password hidden).
    pub server: String,
    /// The settings that identify its search.
    pub settings_key: String,
    /// Trials by state.
    pub counts: StudyCounts,
    /// The best complete trial.
    pub best: Option<StoredTrial>,
    /// Every worker that joined.
    pub workers: Vec<WorkerStatus>,
    /// Failed trials and why.
    pub failures: Vec<(usize, String)>,
    /// The final stage: `pending`, `running` or `done`, its worker and folder.
    pub final_stage: (String, Option<String>, Option<String>),
}

impl StudyStatus {
    /// Reads the study's state.
    ///
    /// # Errors
    /// Database errors.
    pub fn read(study: &mut PostgresStudy) -> Result<Self> {
        let counts = study.counts()?;
        let trials = study.trials()?;
        let maximize = study.settings().maximize;
        let best = trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| t.to_trial().and_then(|x| x.objective()).map(|o| (t, o)))
            .fold(
                None,
                |best: Option<(&StoredTrial, f64)>, (t, o)| match best {
                    Some((_, b)) if (maximize && b >= o) || (!maximize && b <= o) => best,
                    _ => Some((t, o)),
                },
            )
            .map(|(t, _)| t.clone());
        let failures = trials
            .iter()
            .filter(|t| t.state == TrialState::Failed)
            .map(|t| {
                let reason = match t.to_trial().map(|x| x.outcome) {
                    Some(metanas_search::TrialOutcome::Failed { error }) => error,
                    _ => t.failure.clone().unwrap_or_default(),
                };
                (t.number, reason)
            })
            .collect();
        let id = study.study_id();
        let (workers, final_stage) = study.run(|c| {
            let workers = c
                .query(
                    "SELECT w.worker, w.out_dir, extract(epoch FROM now() - w.heartbeat)::float8,
                         w.left_at IS NOT NULL, w.completed, w.refused, s.lease_seconds
                     FROM metanas_workers w JOIN metanas_studies s ON s.id = w.study_id
                     WHERE w.study_id = $1 ORDER BY w.started_at, w.worker",
                    &[&id],
                )?
                .iter()
                .map(|row| {
                    let since: f64 = row.get(2);
                    let left: bool = row.get(3);
                    WorkerStatus {
                        worker: row.get(0),
                        out_dir: row.get(1),
                        seconds_since_heartbeat: since,
                        live: !left && since < row.get::<_, f64>(6),
                        left,
                        completed: row.get::<_, i32>(4) as usize,
                        refused: row.get::<_, i32>(5) as usize,
                    }
                })
                .collect::<Vec<_>>();
            let row = c.query_one(
                "SELECT final_state, final_worker, final_dir FROM metanas_studies WHERE id = $1",
                &[&id],
            )?;
            Ok((workers, (row.get(0), row.get(1), row.get(2))))
        })?;
        Ok(Self {
            name: study.settings().name.clone(),
            server: study.address().to_string(),
            settings_key: study.settings().settings_key.clone(),
            counts,
            best,
            workers,
            failures,
            final_stage,
        })
    }

    /// The report, as the status command prints it.
    pub fn report(&self) -> String {
        let c = &self.counts;
        let mut out = String::new();
        let _ = writeln!(out, "study `{}` in {}", self.name, self.server);
        let _ = writeln!(out, "  search: {}", self.settings_key);
        let _ = writeln!(
            out,
            "  trials: {} of {} finished ({} complete, {} failed); {} running, {} waiting{}",
            c.finished(),
            c.budget,
            c.complete,
            c.failed,
            c.running,
            c.waiting,
            if c.exhausted {
                "; the strategy found no unseen candidate left"
            } else {
                ""
            }
        );
        match &self.best {
            Some(best) => {
                let measurement = best.to_trial();
                let m = measurement.as_ref().and_then(|t| t.measurement());
                let _ = writeln!(
                    out,
                    "  best so far: trial {} {} objective {:.4}{}",
                    best.number,
                    best.architecture,
                    m.map_or(f64::NAN, |m| m.objective),
                    m.and_then(|m| m.report)
                        .map_or(String::new(), |r| format!(", report {r:.4}"))
                );
            }
            None => {
                let _ = writeln!(out, "  best so far: none (no trial complete)");
            }
        }
        let live = self.workers.iter().filter(|w| w.live).count();
        let _ = writeln!(
            out,
            "  workers: {live} live of {} that joined",
            self.workers.len()
        );
        for w in &self.workers {
            let state = if w.left {
                "left".to_string()
            } else if w.live {
                "live".to_string()
            } else {
                "lost".to_string()
            };
            let _ = writeln!(
                out,
                "    {:<32} {state:<5} heartbeat {:>7.1} s ago, {} results stored, {} refused, out {}",
                w.worker, w.seconds_since_heartbeat, w.completed, w.refused, w.out_dir
            );
        }
        if self.failures.is_empty() {
            let _ = writeln!(out, "  failures: none");
        } else {
            let _ = writeln!(out, "  failures:");
            for (number, reason) in &self.failures {
                let _ = writeln!(out, "    trial {number}: {reason}");
            }
        }
        let (state, worker, dir) = &self.final_stage;
        let _ = match (state.as_str(), worker, dir) {
            ("done", Some(w), Some(d)) => writeln!(
                out,
                "  final stage: done by {w}; results in {d}/results.json"
            ),
            ("running", Some(w), Some(d)) => {
                writeln!(out, "  final stage: running on {w}, into {d}")
            }
            _ => writeln!(
                out,
                "  final stage: not started (runs when the budget is spent)"
            ),
        };
        out
    }
}
