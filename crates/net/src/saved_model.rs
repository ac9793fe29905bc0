//! A trained network on disk: Burn record + settings and architecture as JSON,
//! and the same network as safetensors (through `burn::store`) and ONNX.

use crate::cell_network::{CellNetwork, CellNetworkConfig};
use crate::error::{NetError, Result};
use crate::onnx_export::onnx_model;
use crate::prediction::Prediction;
use burn::config::Config;
use burn::module::Module;
use burn::store::{ModuleRecord, ModuleSnapshot, RecordError, SafetensorsStore};
use burn::tensor::{Device, Tensor};
use metanas_data::{ImageDataset, ImageFileReading, Normalisation};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The network's weights as a Burn record (burnpack), read by [`SavedModel::load`].
pub const WEIGHTS_FILE: &str = "model.bpk";
/// The network's settings ([`CellNetworkConfig`] as JSON).
pub const NETWORK_FILE: &str = "network.json";
/// Architecture, normalisation, class names and the files' resize
/// ([`ModelMetadata`] as JSON).
pub const METADATA_FILE: &str = "model.json";
/// The same weights as safetensors (tensor names are the Burn module paths).
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// The network as an ONNX graph that takes pixels in `[0, 1]`
/// (see [`crate::onnx_model`]).
pub const ONNX_FILE: &str = "model.onnx";

/// What is saved beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// The space the architecture comes from (e.g. `nas-bench-201`).
    pub space: String,
    /// The architecture in the space's text form.
    pub architecture: String,
    /// Normalisation the model expects on its inputs (pixels in `[0, 1]` first).
    pub normalisation: Option<Normalisation>,
    /// Class names, when the data had them.
    pub class_names: Option<Vec<String>>,
    /// The `[height, width]` the training images were resized to as they
    /// were read from files ([`ImageDataset::files_resized_to`]): image files
    /// to classify are resized the same way. `None` (and absent from older
    /// files): the images were used at their stored size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_resized_to: Option<[usize; 2]>,
}

/// A trained [`CellNetwork`] with what is needed to use it.
#[derive(Debug)]
pub struct SavedModel {
    /// The network.
    pub network: CellNetwork,
    /// Its settings (the cell plan included).
    pub config: CellNetworkConfig,
    /// Architecture, normalisation and class names.
    pub metadata: ModelMetadata,
}

/// The weights file a model is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeightsFormat {
    Burnpack,
    Safetensors,
}

impl WeightsFormat {
    fn file(self) -> &'static str {
        match self {
            Self::Burnpack => WEIGHTS_FILE,
            Self::Safetensors => SAFETENSORS_FILE,
        }
    }
}

impl SavedModel {
    /// Writes the folder `dir` (creating it): [`WEIGHTS_FILE`],
    /// [`NETWORK_FILE`], [`METADATA_FILE`], [`SAFETENSORS_FILE`] and [`ONNX_FILE`].
    ///
    /// # Errors
    /// [`NetError::Io`] or [`NetError::Record`] naming the file,
    /// [`NetError::Export`] when the network cannot be written as ONNX.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| NetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let weights = dir.join(WEIGHTS_FILE);
        self.network
            .clone()
            .save_file(&weights)
            .map_err(|e| NetError::Record {
                path: weights,
                message: e.to_string(),
            })?;
        let network = dir.join(NETWORK_FILE);
        self.config.save(&network).map_err(|source| NetError::Io {
            path: network,
            source,
        })?;
        let metadata = dir.join(METADATA_FILE);
        let json = serde_json::to_string_pretty(&self.metadata).map_err(|e| NetError::Json {
            path: metadata.clone(),
            message: e.to_string(),
        })?;
        write(&metadata, json.as_bytes())?;
        let safetensors = dir.join(SAFETENSORS_FILE);
        // `save_into` refuses to replace a file unless told to.
        let mut store = SafetensorsStore::from_file(&safetensors)
            .overwrite(true)
            .metadata("architecture", self.metadata.architecture.as_str())
            .metadata("space", self.metadata.space.as_str());
        self.network
            .save_into(&mut store)
            .map_err(|e| NetError::Record {
                path: safetensors.clone(),
                message: e.to_string(),
            })?;
        // The store writes through a private temporary file: give the
        // safetensors file the permissions of the other files.
        let permissions = std::fs::metadata(&metadata).map(|m| m.permissions());
        if let Ok(permissions) = permissions {
            std::fs::set_permissions(&safetensors, permissions).map_err(|source| NetError::Io {
                path: safetensors,
                source,
            })?;
        }
        let onnx = onnx_model(&self.network, &self.config, &self.metadata)?;
        write(&dir.join(ONNX_FILE), &onnx)
    }

    /// Reads a folder written by [`Self::save`] onto `device`, the weights
    /// from its Burn record ([`WEIGHTS_FILE`]).
    ///
    /// # Errors
    /// [`NetError::MissingModelFile`] when the folder lacks a file,
    /// [`NetError::ArchitectureMismatch`] when the weights are of another
    /// network than [`NETWORK_FILE`] describes, [`NetError::Json`] or
    /// [`NetError::Record`] naming a file that cannot be read.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        Self::load_weights(dir, WeightsFormat::Burnpack, device)
    }

    /// [`Self::load`] with the weights read from [`SAFETENSORS_FILE`] instead
    /// of the Burn record (the same values).
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn load_safetensors(dir: &Path, device: &Device) -> Result<Self> {
        Self::load_weights(dir, WeightsFormat::Safetensors, device)
    }

    fn load_weights(dir: &Path, format: WeightsFormat, device: &Device) -> Result<Self> {
        for file in [NETWORK_FILE, METADATA_FILE, format.file()] {
            if !dir.join(file).is_file() {
                return Err(NetError::MissingModelFile {
                    dir: dir.to_path_buf(),
                    file: file.to_string(),
                    expected: format!("{NETWORK_FILE}, {METADATA_FILE} and {}", format.file()),
                });
            }
        }
        let network_path = dir.join(NETWORK_FILE);
        let config = CellNetworkConfig::load(&network_path).map_err(|e| NetError::Json {
            path: network_path.clone(),
            message: e.to_string(),
        })?;
        let metadata_path = dir.join(METADATA_FILE);
        let text = std::fs::read_to_string(&metadata_path).map_err(|source| NetError::Io {
            path: metadata_path.clone(),
            source,
        })?;
        let metadata: ModelMetadata = serde_json::from_str(&text).map_err(|e| NetError::Json {
            path: metadata_path,
            message: e.to_string(),
        })?;
        let empty = metanas_seeding::unseeded(|| config.init(device))?;
        let weights: PathBuf = dir.join(format.file());
        let mismatch = |message: String| NetError::ArchitectureMismatch {
            path: weights.clone(),
            config: network_path.clone(),
            message,
        };
        let network = match format {
            WeightsFormat::Burnpack => {
                let record = ModuleRecord::load(&weights).map_err(|e| NetError::Record {
                    path: weights.clone(),
                    message: e.to_string(),
                })?;
                empty.try_load_record(record).map_err(|e| match e {
                    RecordError::Validation(message) => mismatch(condense(&message)),
                    RecordError::Io(message) => NetError::Record {
                        path: weights.clone(),
                        message,
                    },
                })?
            }
            WeightsFormat::Safetensors => {
                let mut network = empty;
                // Missing, unused and mismatched tensors come back in the result
                // (not as one formatted error), so that the message can name them.
                let mut store = SafetensorsStore::from_file(&weights)
                    .allow_partial(true)
                    .validate(false);
                let applied = network
                    .load_from(&mut store)
                    .map_err(|e| NetError::Record {
                        path: weights.clone(),
                        message: e.to_string(),
                    })?;
                if !applied.errors.is_empty()
                    || !applied.missing.is_empty()
                    || !applied.unused.is_empty()
                {
                    return Err(mismatch(describe_mismatch(
                        &applied.missing,
                        &applied.unused,
                        applied.errors.len(),
                    )));
                }
                network
            }
        };
        Ok(Self {
            network,
            config,
            metadata,
        })
    }

    /// The predicted class of each image of `images` (pixels in `[0, 1]`;
    /// the saved normalisation is applied).
    ///
    /// # Errors
    /// [`NetError::InputShape`] when the images' shape is not the model's.
    pub fn predict(&self, images: &ImageDataset, device: &Device) -> Result<Vec<usize>> {
        Ok(self
            .predictions(images, device)?
            .into_iter()
            .map(|p| p.class)
            .collect())
    }

    /// Class scores, probabilities and the predicted class of each image of
    /// `images` (pixels in `[0, 1]`; the saved normalisation is applied).
    ///
    /// # Errors
    /// [`NetError::InputShape`] when the images' shape is not the model's.
    pub fn predictions(&self, images: &ImageDataset, device: &Device) -> Result<Vec<Prediction>> {
        self.check_input(images.shape())?;
        let device = device.clone().without_autodiff();
        let model = self.network.valid();
        let classes = self.config.num_classes;
        let mut predictions = Vec::with_capacity(images.len());
        for indices in images.batches(256, None) {
            let batch = images.batch_of(&indices, self.metadata.normalisation.as_ref(), &device)?;
            let logits = model
                .forward(batch.images)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .map_err(|e| NetError::InvalidConfig(format!("class scores: {e:?}")))?;
            predictions.extend(logits.chunks_exact(classes).map(Prediction::from_logits));
        }
        Ok(predictions)
    }

    /// The name of class `class`: the saved class name, or its number.
    pub fn class_name(&self, class: usize) -> String {
        self.metadata
            .class_names
            .as_ref()
            .and_then(|names| names.get(class).cloned())
            .unwrap_or_else(|| class.to_string())
    }

    /// How image files are read for this model: resized as its training
    /// files were, and as colour (a grey file's value in each channel) when
    /// it takes three channels. Pass it to
    /// [`ImageInputs::read_with`](metanas_data::ImageInputs::read_with).
    pub fn image_file_reading(&self) -> ImageFileReading {
        ImageFileReading {
            resize_to: self.metadata.files_resized_to,
            colour: self.config.input_shape[0] == 3,
        }
    }

    /// Checks that images of `shape` (`[C, H, W]`) are what the model takes.
    ///
    /// # Errors
    /// [`NetError::InputShape`] otherwise.
    pub fn check_input(&self, shape: [usize; 3]) -> Result<()> {
        if shape == self.config.input_shape {
            Ok(())
        } else {
            Err(NetError::InputShape {
                found: shape,
                expected: self.config.input_shape,
            })
        }
    }

    /// Class scores for raw image tensors already normalised as the model expects.
    ///
    /// # Shapes
    /// `[batch, c, h, w]` → `[batch, classes]`
    pub fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.network.valid().forward(images)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| NetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Burn's record validation message (`What: ["entry", …]`, a list of every
/// tensor that differs: hundreds for a wider network) as its count and first entry.
fn condense(message: &str) -> String {
    let parts = message
        .split_once(": [")
        .and_then(|(what, list)| Some((what, list.strip_suffix(']')?)));
    let Some((what, list)) = parts else {
        return message.chars().take(600).collect();
    };
    let entries: Vec<&str> = list.split("\", \"").collect();
    let first = entries[0].trim_matches('"');
    format!("{what}: {} tensor(s), the first: {first}", entries.len())
}

/// What a safetensors file lacks or has too many of, at most three names each.
fn describe_mismatch(missing: &[(String, String)], unused: &[String], errors: usize) -> String {
    let names = |paths: Vec<&str>| {
        let shown: Vec<&str> = paths.iter().take(3).copied().collect();
        let more = paths.len().saturating_sub(3);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        let paths = missing.iter().map(|(path, _)| path.as_str()).collect();
        parts.push(format!(
            "{} tensor(s) missing ({})",
            missing.len(),
            names(paths)
        ));
    }
    if !unused.is_empty() {
        let paths = unused.iter().map(String::as_str).collect();
        parts.push(format!(
            "{} tensor(s) of another network ({})",
            unused.len(),
            names(paths)
        ));
    }
    if errors > 0 {
        parts.push(format!("{errors} tensor(s) of another shape"));
    }
    parts.join("; ")
}
