//! The architecture-conditioned AON in a search: for each candidate, before
//! it is trained, something that reads the candidate chooses the settings of
//! the fresh AON that trains it (in metanas, the meta-model's chooser).

use crate::error::Result;
use metanas_aon::UpdateSettings;

/// Chooses the update rule's settings for each candidate a
/// [`crate::TrainingEvaluator`] trains. It reads the candidate; it never
/// chooses which candidates are trained.
pub trait CandidateSettings<A> {
    /// The settings to train `arch` with.
    ///
    /// # Errors
    /// [`crate::SearchError::SettingsChoice`] when the candidate cannot be read.
    fn settings_for(&self, arch: &A) -> Result<UpdateSettings>;

    /// Names the choice in the search key (e.g. the meta-model folder it comes
    /// from), so a trial store cannot be resumed with another.
    fn describe(&self) -> String;
}
