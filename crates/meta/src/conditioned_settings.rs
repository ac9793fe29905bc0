//! A meta-model's chooser applied to a search's candidates: each candidate
//! cell, in the search's network size and on its task, is described as the
//! chooser's table describes its pairs, and gets the settings it chooses.

use crate::candidate_features::{CandidateDescription, PLAIN_FEATURES, candidate_features};
use crate::error::{MetaError, Result};
use metanas_aen::MetaAen;
use metanas_aon::{SettingsChooser, UpdateSettings};
use metanas_data::ImageTask;
use metanas_search::{CandidateSettings, NetworkSize, SearchError};
use metanas_space::nb201::{Nb201Cell, Nb201Operation};

/// The task and network size every candidate of one search shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchedNetworks {
    /// First-stage channels `C`.
    pub channels: usize,
    /// Cells per stage `N`.
    pub cells_per_stage: usize,
    /// Classes of the task.
    pub classes: usize,
    /// Training images of the task.
    pub train_images: usize,
    /// Image channels, height and width.
    pub image_shape: [usize; 3],
}

impl SearchedNetworks {
    /// Networks of `size` trained on `task`'s training images.
    pub fn new(size: NetworkSize, task: &ImageTask) -> Self {
        Self {
            channels: size.channels,
            cells_per_stage: size.cells_per_stage,
            classes: task.ways(),
            train_images: task.train.len(),
            image_shape: task.train.shape(),
        }
    }

    /// The candidate with `cell`.
    pub fn candidate(&self, cell: Nb201Cell) -> CandidateDescription {
        CandidateDescription {
            cell,
            channels: self.channels,
            cells_per_stage: self.cells_per_stage,
            classes: self.classes,
            train_images: self.train_images,
            image_shape: self.image_shape,
        }
    }
}

/// The settings a fitted chooser picks for each candidate of a search.
pub struct ConditionedSettings {
    chooser: SettingsChooser,
    aen: Option<MetaAen>,
    networks: SearchedNetworks,
    label: String,
}

impl ConditionedSettings {
    /// Applies `chooser` to the candidates of a search over `networks`,
    /// reading `aen`'s embedding of each cell when the chooser was fitted
    /// with it; `label` names it in the search key.
    ///
    /// # Errors
    /// [`MetaError::InvalidConfig`] when the chooser reads another number of
    /// features than the plain ones, or the plain ones and `aen`'s embedding.
    pub fn new(
        chooser: SettingsChooser,
        aen: Option<MetaAen>,
        networks: SearchedNetworks,
        label: impl Into<String>,
    ) -> Result<Self> {
        let aen = if chooser.feature_count() == PLAIN_FEATURES {
            None
        } else {
            aen
        };
        let probe = networks.candidate(Nb201Cell::new([Nb201Operation::Conv3x3; 6]));
        let given = candidate_features(aen.as_ref(), &[probe])?
            .first()
            .map_or(0, Vec::len);
        if given != chooser.feature_count() {
            return Err(MetaError::InvalidConfig(format!(
                "the AON settings chooser reads {} features per candidate, the meta-model gives {given}; fit it again with `cargo xtask meta-train`",
                chooser.feature_count()
            )));
        }
        Ok(Self {
            chooser,
            aen,
            networks,
            label: label.into(),
        })
    }

    fn choose(&self, cell: &Nb201Cell) -> Result<UpdateSettings> {
        let features = candidate_features(self.aen.as_ref(), &[self.networks.candidate(*cell)])?;
        let features = features
            .first()
            .ok_or_else(|| MetaError::InvalidConfig("no features for the candidate".into()))?;
        Ok(self.chooser.choose(features)?)
    }
}

impl CandidateSettings<Nb201Cell> for ConditionedSettings {
    fn settings_for(&self, arch: &Nb201Cell) -> metanas_search::Result<UpdateSettings> {
        self.choose(arch)
            .map_err(|e| SearchError::SettingsChoice(e.to_string()))
    }

    fn describe(&self) -> String {
        format!("the settings chooser of {}", self.label)
    }
}
