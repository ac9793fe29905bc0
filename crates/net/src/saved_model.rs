//! A trained network on disk: Burn record + settings and architecture as JSON.

use crate::cell_network::{CellNetwork, CellNetworkConfig};
use crate::error::{NetError, Result};
use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use metanas_data::{ImageDataset, Normalisation};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File names inside a saved-model folder.
const WEIGHTS: &str = "model.bpk";
const NETWORK: &str = "network.json";
const METADATA: &str = "model.json";

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

impl SavedModel {
    /// Writes `dir/model.bpk`, `dir/network.json` and `dir/model.json`
    /// (creating `dir`).
    ///
    /// # Errors
    /// [`NetError::Io`] or [`NetError::Record`] naming the file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| NetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let weights = dir.join(WEIGHTS);
        self.network
            .clone()
            .save_file(&weights)
            .map_err(|e| NetError::Record {
                path: weights,
                message: e.to_string(),
            })?;
        let network = dir.join(NETWORK);
        self.config.save(&network).map_err(|source| NetError::Io {
            path: network,
            source,
        })?;
        let metadata = dir.join(METADATA);
        let json = serde_json::to_string_pretty(&self.metadata).map_err(|e| NetError::Json {
            path: metadata.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&metadata, json).map_err(|source| NetError::Io {
            path: metadata,
            source,
        })
    }

    /// Reads a folder written by [`Self::save`] onto `device`.
    ///
    /// # Errors
    /// [`NetError::Io`], [`NetError::Json`] or [`NetError::Record`] naming the
    /// file that is missing or does not match.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let network_path = dir.join(NETWORK);
        let config = CellNetworkConfig::load(&network_path).map_err(|e| NetError::Json {
            path: network_path,
            message: e.to_string(),
        })?;
        let metadata_path = dir.join(METADATA);
        let text = std::fs::read_to_string(&metadata_path).map_err(|source| NetError::Io {
            path: metadata_path.clone(),
            source,
        })?;
        let metadata: ModelMetadata = serde_json::from_str(&text).map_err(|e| NetError::Json {
            path: metadata_path,
            message: e.to_string(),
        })?;
        let weights: PathBuf = dir.join(WEIGHTS);
        let network = metanas_seeding::unseeded(|| config.init(device))?
            .try_load_file(&weights)
            .map_err(|e| NetError::Record {
                path: weights,
                message: e.to_string(),
            })?;
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
    /// [`NetError::InvalidConfig`] when the images' shape is not the model's.
    pub fn predict(&self, images: &ImageDataset, device: &Device) -> Result<Vec<usize>> {
        if images.shape() != self.config.input_shape {
            return Err(NetError::InvalidConfig(format!(
                "images of shape {:?}, the model expects {:?}",
                images.shape(),
                self.config.input_shape
            )));
        }
        let device = device.clone().without_autodiff();
        let model = self.network.valid();
        let mut classes = Vec::with_capacity(images.len());
        for indices in images.batches(256, None) {
            let batch = images.batch_of(&indices, self.metadata.normalisation.as_ref(), &device)?;
            let predicted = model.forward(batch.images).argmax(1).flatten::<1>(0, 1);
            classes.extend(to_classes(predicted.into_data()));
        }
        Ok(classes)
    }

    /// Class scores for raw image tensors already normalised as the model expects.
    ///
    /// # Shapes
    /// `[batch, c, h, w]` → `[batch, classes]`
    pub fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.network.valid().forward(images)
    }
}

fn to_classes(data: TensorData) -> Vec<usize> {
    data.convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.max(0) as usize)
        .collect()
}
