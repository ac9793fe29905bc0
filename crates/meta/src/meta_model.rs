//! A finished meta-model, loaded for a search.

use crate::error::{MetaError, Result};
use crate::manifest::{AEN_DIR, AON_DIR, AON_SETTINGS_CHOOSER_FILE, Manifest};
use burn::tensor::Device;
use metanas_aen::MetaAen;
use metanas_aon::{Aon, SettingsChooser};
use std::path::Path;

/// What a search uses from meta-training: the meta-learned AEN (surrogate
/// prior and bodies), the AON if trained, and the record of what it saw.
#[derive(Debug, Clone)]
pub struct MetaModel {
    /// The manifest: settings, sources, exclusions, curves.
    pub manifest: Manifest,
    /// The meta-learned AEN.
    pub aen: MetaAen,
    /// The learned optimizer, when the meta-model has one.
    pub aon: Option<Aon>,
    /// The choice of the AON's settings per candidate, when fitted
    /// (`cargo xtask meta-train` fits it on the shipped AON settings table).
    pub aon_settings: Option<SettingsChooser>,
}

impl MetaModel {
    /// Loads a complete meta-model folder onto `device`.
    ///
    /// # Errors
    /// [`MetaError::NotAMetaModel`] when the folder has no manifest or its
    /// training is not finished (run `meta-train` again to resume it); the
    /// errors of the AEN and AON files.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let manifest = Manifest::read(dir)?.ok_or_else(|| MetaError::NotAMetaModel {
            path: dir.to_path_buf(),
            reason: format!("no {}", crate::manifest::MANIFEST_FILE),
        })?;
        if !manifest.is_complete() {
            return Err(MetaError::NotAMetaModel {
                path: dir.to_path_buf(),
                reason: "its meta-training is unfinished; run meta-train with the same settings to resume it".into(),
            });
        }
        let aen = MetaAen::load(&dir.join(AEN_DIR), device)?;
        let aon = if manifest.aon_done {
            Some(Aon::load(&dir.join(AON_DIR), device)?)
        } else {
            None
        };
        let aon_settings = if manifest.aon_settings_chooser.is_some() {
            Some(SettingsChooser::load(&dir.join(AON_SETTINGS_CHOOSER_FILE))?)
        } else {
            None
        };
        Ok(Self {
            manifest,
            aen,
            aon,
            aon_settings,
        })
    }

    /// The cells measured on the image task of meta-training, with their accuracies.
    ///
    /// # Errors
    /// [`MetaError::InvalidConfig`] for a cell the NAS-Bench-201 space cannot read.
    pub fn image_observations(&self) -> Result<Vec<(metanas_space::nb201::Nb201Cell, f64)>> {
        use metanas_space::SearchSpace;
        let space = metanas_space::nb201::Nb201Space;
        self.manifest
            .image_observations
            .iter()
            .map(|o| {
                let cell = space
                    .parse(&o.arch)
                    .map_err(|e| MetaError::InvalidConfig(format!("stored cell: {e}")))?;
                Ok((cell, o.accuracy))
            })
            .collect()
    }

    /// Whether meta-training saw `column` (as a source task, or a column of a
    /// family that was not excluded and shares its name prefix): a search on
    /// it would not be a fair test of transfer. Returns the reason.
    pub fn saw(&self, column: &str) -> Option<String> {
        let sources = &self.manifest.sources;
        if sources.tasks.iter().any(|t| t == column) {
            return Some(format!("`{column}` was a source task of this meta-model"));
        }
        if sources.excluded_columns.iter().any(|c| c == column) {
            return None;
        }
        let family = column.split('_').next().unwrap_or(column);
        sources
            .tasks
            .iter()
            .find(|t| t.split('_').next() == Some(family))
            .map(|t| format!("`{t}`, of the same family as `{column}`, was a source task (meta-train with --exclude {family})"))
    }
}
