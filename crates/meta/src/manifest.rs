//! `meta.json`: what a meta-model folder holds and how far its training got.

use crate::error::{MetaError, Result, io_error};
use crate::meta_train_config::MetaTrainConfig;
use crate::source_tasks::SourceSelection;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the manifest in a meta-model folder.
pub const MANIFEST_FILE: &str = "meta.json";
/// Sub-folder of the meta-trained AEN.
pub const AEN_DIR: &str = "aen";
/// Sub-folder of the final AON.
pub const AON_DIR: &str = "aon";
/// Sub-folder of the AON meta-trainer's last checkpoint.
pub const AON_CHECKPOINT_DIR: &str = "aon-checkpoint";
/// File of the AON settings chooser.
pub const AON_SETTINGS_CHOOSER_FILE: &str = "aon-settings-chooser.json";
/// Prefix of the sub-folder of the best AON so far by meta-validation,
/// named by its meta-step (`aon-best-40`); [`Manifest::aon_best_step`] says
/// which one counts, so a crash between writing it and the manifest leaves
/// the manifest's choice intact.
pub const AON_BEST_PREFIX: &str = "aon-best-";

/// The sub-folder of `dir` holding the AON kept at meta-step `step`.
pub fn aon_best_dir(dir: &Path, step: usize) -> PathBuf {
    dir.join(format!("{AON_BEST_PREFIX}{step}"))
}

/// One AEN member's learning curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AenCurve {
    /// Ensemble member.
    pub member: usize,
    /// Validation loss after each epoch.
    pub epoch_losses: Vec<f64>,
    /// Epoch whose weights were kept (1-based).
    pub best_epoch: usize,
}

/// One AON meta-step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AonPoint {
    /// Meta-step (1-based).
    pub step: usize,
    /// Outer (validation) loss of the step's unrolls (infinite: diverged).
    #[serde(with = "diverged_as_null")]
    pub meta_loss: f64,
    /// Inner training loss (infinite: diverged).
    #[serde(with = "diverged_as_null")]
    pub train_loss: f64,
    /// Seconds the step took.
    pub seconds: f64,
}

/// The AON scored on the validation problems at one meta-step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AonValidation {
    /// Meta-steps taken (0: the untrained start).
    pub step: usize,
    /// Mean validation loss of the validation problems after the horizon
    /// (infinite when one diverged).
    #[serde(with = "diverged_as_null")]
    pub loss: f64,
}

/// A loss that may be infinite or NaN (a diverged run): JSON has no such
/// numbers, so they are written as `null` and read back as +∞.
mod diverged_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(loss: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        loss.is_finite().then_some(*loss).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::INFINITY))
    }
}

/// One cell measured on the image task of meta-training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageObservation {
    /// The cell, in its space's text form.
    pub arch: String,
    /// Validation accuracy (percent) after the short training.
    pub accuracy: f64,
    /// Seconds the training took.
    pub seconds: f64,
}

/// A part of a finished meta-model folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetaModelPart {
    /// The meta-trained AEN (`aen/`): every meta-model has it.
    Aen,
    /// The learned optimizer (`aon/`): for searches that train on images.
    Aon,
    /// Cells measured on an image task: the prior of image searches.
    ImageCells,
    /// The choice of the AON's settings per candidate
    /// (`aon-settings-chooser.json`): the architecture-conditioned AON.
    AonSettingsChooser,
}

impl MetaModelPart {
    /// The parts a meta-training of `config` leaves in its folder when complete.
    pub fn of(config: &MetaTrainConfig) -> Vec<Self> {
        std::iter::once(Self::Aen)
            .chain(config.aon.is_some().then_some(Self::Aon))
            .chain((config.image_cells > 0).then_some(Self::ImageCells))
            .collect()
    }
}

/// The manifest of a meta-model folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of the folder.
    pub format: u32,
    /// What the folder holds when complete ([`MetaModelPart::of`] its
    /// settings), for a reader of `meta.json`.
    #[serde(default)]
    pub holds: Vec<MetaModelPart>,
    /// The settings.
    pub config: MetaTrainConfig,
    /// Source tasks and exclusions.
    pub sources: SourceSelection,
    /// Whether `aen/` is complete.
    pub aen_done: bool,
    /// AEN learning curves.
    pub aen_curves: Vec<AenCurve>,
    /// AON meta-steps done (as of the last checkpoint).
    pub aon_steps_done: usize,
    /// Whether `aon/` is complete.
    pub aon_done: bool,
    /// AON meta-training curve.
    pub aon_curve: Vec<AonPoint>,
    /// The AON scored on the validation problems (start and validated checkpoints).
    #[serde(default)]
    pub aon_validation: Vec<AonValidation>,
    /// Meta-step of the best AON so far, kept in `aon-best-<step>/` (and, when
    /// done, copied to `aon/`).
    #[serde(default)]
    pub aon_best_step: Option<usize>,
    #[serde(default)]
    /// The image task of stage 3 (e.g. `mnist (8000 train / 2000 validation)`) and the optimizer used.
    pub image_task: Option<String>,
    /// Cells measured on it so far.
    #[serde(default)]
    pub image_observations: Vec<ImageObservation>,
    /// The AON settings chooser, once fitted (`aon-settings-chooser.json`).
    #[serde(default)]
    pub aon_settings_chooser: Option<crate::aon_settings_choice::SettingsChooserRecord>,
    /// Wall-clock seconds spent, over every run into the folder (a resumed run adds its own).
    pub seconds: f64,
}

impl Manifest {
    /// Format version written by this code.
    pub const FORMAT: u32 = 1;

    /// A fresh manifest.
    pub fn new(config: MetaTrainConfig, sources: SourceSelection) -> Self {
        Self {
            format: Self::FORMAT,
            holds: MetaModelPart::of(&config),
            config,
            sources,
            aen_done: false,
            aen_curves: Vec::new(),
            aon_steps_done: 0,
            aon_done: false,
            aon_curve: Vec::new(),
            aon_validation: Vec::new(),
            aon_best_step: None,
            image_task: None,
            image_observations: Vec::new(),
            aon_settings_chooser: None,
            seconds: 0.0,
        }
    }

    /// What the folder holds when complete: the parts of its settings
    /// ([`MetaModelPart::of`]) and the AON settings chooser once fitted.
    pub fn parts(&self) -> Vec<MetaModelPart> {
        let mut parts = MetaModelPart::of(&self.config);
        if self.aon_settings_chooser.is_some() {
            parts.push(MetaModelPart::AonSettingsChooser);
        }
        parts
    }

    /// The best validation so far (lowest loss; the earliest of ties).
    pub fn best_aon_validation(&self) -> Option<&AonValidation> {
        self.aon_validation
            .iter()
            .reduce(|best, v| if v.loss < best.loss { v } else { best })
    }

    /// Whether training is complete.
    pub fn is_complete(&self) -> bool {
        self.aen_done
            && (self.config.aon.is_none() || self.aon_done)
            && self.image_observations.len() >= self.config.image_cells
    }

    /// The settings that must match to resume: config and sources.
    pub fn identity(&self) -> String {
        format!(
            "config={}; sources={}",
            serde_json::to_string(&self.config).unwrap_or_default(),
            serde_json::to_string(&self.sources).unwrap_or_default()
        )
    }

    /// Reads `dir/meta.json`, `None` when it does not exist.
    ///
    /// # Errors
    /// [`MetaError::Io`] or [`MetaError::Json`] for an unreadable file.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(MANIFEST_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let mut manifest: Self = serde_json::from_str(&text).map_err(|e| MetaError::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if manifest.format != Self::FORMAT {
            return Err(MetaError::NotAMetaModel {
                path: dir.to_path_buf(),
                reason: format!(
                    "format {} (this version reads {})",
                    manifest.format,
                    Self::FORMAT
                ),
            });
        }
        // Folders of earlier versions did not say what they hold.
        manifest.holds = manifest.parts();
        Ok(Some(manifest))
    }

    /// Writes `dir/meta.json` atomically (a temporary file renamed over it),
    /// so an interruption never leaves a half-written manifest.
    ///
    /// # Errors
    /// [`MetaError::Io`] or [`MetaError::Json`].
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        let tmp: PathBuf = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| MetaError::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&tmp, text).map_err(io_error(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_error(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_says_what_the_folder_holds_also_for_earlier_folders() {
        use crate::source_tasks::{SourceSelection, image_stages_serve};
        use metanas_aen::{AenConfig, MetaAenConfig};
        use metanas_data::MetricKind;
        assert!(!image_stages_serve(&[MetricKind::Latency]));
        assert!(!image_stages_serve(&[
            MetricKind::Cost,
            MetricKind::Latency
        ]));
        assert!(image_stages_serve(&[MetricKind::Accuracy]));
        let aen_only =
            MetaTrainConfig::new(MetaAenConfig::new(AenConfig::new(7))).with_image_cells(0);
        let sources = SourceSelection {
            space: "nb201".into(),
            tasks: vec!["pixel3".into()],
            excluded_families: Vec::new(),
            excluded_columns: Vec::new(),
        };
        let manifest = Manifest::new(aen_only, sources);
        assert_eq!(manifest.holds, vec![MetaModelPart::Aen]);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut json = serde_json::to_value(&manifest).expect("serialises");
        assert_eq!(json["holds"], serde_json::json!(["aen"]));
        json.as_object_mut().expect("an object").remove("holds");
        std::fs::write(dir.path().join(MANIFEST_FILE), json.to_string()).expect("write");
        let earlier = Manifest::read(dir.path()).expect("reads").expect("exists");
        assert_eq!(earlier.holds, vec![MetaModelPart::Aen]);
        let with_cells = MetaTrainConfig::new(MetaAenConfig::new(AenConfig::new(7)));
        assert_eq!(
            MetaModelPart::of(&with_cells),
            vec![MetaModelPart::Aen, MetaModelPart::ImageCells]
        );
    }

    #[test]
    fn diverged_losses_survive_json() {
        let scores = vec![
            AonValidation { step: 0, loss: 0.5 },
            AonValidation {
                step: 10,
                loss: f64::INFINITY,
            },
        ];
        let text = serde_json::to_string(&scores).expect("writes");
        let back: Vec<AonValidation> = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, scores);
        let point = AonPoint {
            step: 1,
            meta_loss: f64::NAN,
            train_loss: 2.0,
            seconds: 1.0,
        };
        let back: AonPoint = serde_json::from_str(&serde_json::to_string(&point).expect("writes"))
            .expect("reads back");
        assert!(back.meta_loss.is_infinite() && back.train_loss == 2.0);
    }
}
