//! Saving and loading an AON: `aon.json` (its [`AonConfig`]) and `aon.bpk`
//! (its weights, Burn's burnpack record) in one folder.

use crate::aon::{Aon, AonConfig};
use crate::error::{AonError, Result};
use burn::config::Config;
use burn::module::Module;
use burn::tensor::Device;
use std::path::Path;

/// File name of the settings inside a saved AON's folder.
pub const CONFIG_FILE: &str = "aon.json";
/// File name of the weights inside a saved AON's folder.
pub const WEIGHTS_FILE: &str = "aon.bpk";

impl Aon {
    /// Saves the AON into folder `dir` (created if needed).
    ///
    /// # Errors
    /// [`AonError::Io`] or [`AonError::Record`] when a file cannot be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| AonError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let config_path = dir.join(CONFIG_FILE);
        self.config()
            .save(&config_path)
            .map_err(|source| AonError::Io {
                path: config_path,
                source,
            })?;
        let weights = dir.join(WEIGHTS_FILE);
        self.clone()
            .save_file(&weights)
            .map_err(|e| AonError::Record {
                path: weights,
                message: format!("{e:?}"),
            })
    }

    /// Loads an AON saved by [`Aon::save`] onto `device`.
    ///
    /// # Errors
    /// [`AonError::Io`], [`AonError::Json`] or [`AonError::Record`] naming the
    /// missing or damaged file; [`AonError::InvalidConfig`] for bad settings.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let config = load_config(&dir.join(CONFIG_FILE))?;
        let weights = dir.join(WEIGHTS_FILE);
        if !weights.is_file() {
            return Err(AonError::Io {
                path: weights,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        metanas_seeding::unseeded(|| config.init(device))?
            .try_load_file(&weights)
            .map_err(|e| AonError::Record {
                path: weights,
                message: format!("{e:?}"),
            })
    }
}

/// Reads an [`AonConfig`] from a JSON file and checks it.
///
/// # Errors
/// [`AonError::Io`] when it cannot be read, [`AonError::Json`] when it does not
/// parse, [`AonError::InvalidConfig`] when a setting is out of range.
pub fn load_config(path: &Path) -> Result<AonConfig> {
    let text = std::fs::read_to_string(path).map_err(|source| AonError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let config: AonConfig = serde_json::from_str(&text).map_err(|e| AonError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    config.check()?;
    Ok(config)
}
