//! Where a search's finished trials are kept: the storage interface.

use crate::error::Result;
use crate::measurement::Trial;
use crate::trial_store::TrialStore;

/// A durable record of one search's finished trials, written one by one as
/// they finish: what [`crate::Searcher::run`] resumes from.
///
/// Two implementations: the embedded SQLite [`TrialStore`] (the default, one
/// process), and a study in PostgreSQL (`metanas_study::PostgresStudy`), whose
/// workers also share a study's trials between processes and machines.
pub trait TrialStorage {
    /// Where the trials are (a file, or a database and study), for messages.
    fn location(&self) -> String;

    /// Every finished trial, by index (0, 1, … without a gap).
    ///
    /// # Errors
    /// [`crate::SearchError::Store`] when the storage fails or holds a gap.
    fn finished_trials(&mut self) -> Result<Vec<Trial>>;

    /// Records one finished trial; an index is written only once.
    ///
    /// # Errors
    /// [`crate::SearchError::Store`] when it cannot be written, or the index
    /// is already recorded.
    fn record(&mut self, trial: &Trial) -> Result<()>;
}

impl TrialStorage for TrialStore {
    fn location(&self) -> String {
        self.path().display().to_string()
    }

    fn finished_trials(&mut self) -> Result<Vec<Trial>> {
        self.trials()
    }

    fn record(&mut self, trial: &Trial) -> Result<()> {
        self.append(trial)
    }
}
