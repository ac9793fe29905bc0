//! What an evaluation returns and what the searcher records.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The result of evaluating one architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The metric the search optimises (e.g. validation accuracy). The only
    /// number a strategy ever sees.
    pub objective: f64,
    /// The metric reported for honest comparison (e.g. test accuracy), stored
    /// beside the objective and never shown to the strategy.
    pub report: Option<f64>,
    /// What the evaluation cost, in seconds (measured for real training; the
    /// benchmark's recorded training time, or 0, for table lookups).
    pub cost_seconds: f64,
    /// Anything else worth keeping (parameters, FLOPs, latency, steps, …).
    pub details: BTreeMap<String, f64>,
}

impl Measurement {
    /// A measurement with only an objective.
    pub fn of(objective: f64) -> Self {
        Self {
            objective,
            report: None,
            cost_seconds: 0.0,
            details: BTreeMap::new(),
        }
    }
}

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TrialOutcome {
    /// Evaluated.
    Finished(Measurement),
    /// The evaluation failed (e.g. training diverged); the message says why.
    Failed {
        /// The error's message.
        error: String,
    },
}

/// One query of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Zero-based query number.
    pub index: usize,
    /// The architecture in the space's text form.
    pub architecture: String,
    /// Its canonical hash (hex).
    pub canonical_hash: String,
    /// The result.
    pub outcome: TrialOutcome,
    /// Wall-clock seconds the evaluation took.
    pub seconds: f64,
}

impl Trial {
    /// The objective when the trial finished.
    pub fn objective(&self) -> Option<f64> {
        match &self.outcome {
            TrialOutcome::Finished(m) => Some(m.objective),
            TrialOutcome::Failed { .. } => None,
        }
    }

    /// The measurement when the trial finished.
    pub fn measurement(&self) -> Option<&Measurement> {
        match &self.outcome {
            TrialOutcome::Finished(m) => Some(m),
            TrialOutcome::Failed { .. } => None,
        }
    }

    /// The detail `key` of the measurement (parameters, FLOPs, …) when the
    /// trial finished and recorded it.
    pub fn detail(&self, key: &str) -> Option<f64> {
        self.measurement().and_then(|m| m.details.get(key).copied())
    }
}
