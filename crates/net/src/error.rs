//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong when building, training, saving or loading a network.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A setting is out of range; says which and why.
    #[error("invalid network or training setting: {0}")]
    InvalidConfig(String),
    /// The loss became NaN or infinite: training stopped.
    #[error("training diverged at step {step}: loss {loss}")]
    Diverged {
        /// Zero-based optimisation step.
        step: usize,
        /// The non-finite loss.
        loss: f64,
    },
    /// The data crate failed (batching, splitting).
    #[error(transparent)]
    Data(#[from] metanas_data::DataError),
    /// A saved model could not be read or written.
    #[error("model file {path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Burn's message.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A saved-model folder lacks one of its files.
    #[error(
        "model folder {dir} has no {file}: a saved model is the folder that `cargo xtask search` writes (its `model` sub-folder), with {expected}"
    )]
    MissingModelFile {
        /// The folder.
        dir: PathBuf,
        /// The missing file's name.
        file: String,
        /// The files a saved model has.
        expected: String,
    },
    /// A weights file does not hold the network that the folder's
    /// `network.json` describes (another architecture or size).
    #[error("model file {path} does not match the network of {config}: {message}")]
    ArchitectureMismatch {
        /// The weights file.
        path: PathBuf,
        /// The settings file that describes the expected network.
        config: PathBuf,
        /// What differs.
        message: String,
    },
    /// Images of another shape than the model takes.
    #[error(
        "the images are {}×{}×{} (channels × height × width), the model takes {}×{}×{}{}",
        found[0], found[1], found[2], expected[0], expected[1], expected[2],
        match (found[0] == expected[0], expected[0]) {
            (false, 1) => " (grey images)",
            (false, 3) => " (colour images)",
            _ => "",
        }
    )]
    InputShape {
        /// `[C, H, W]` of the images.
        found: [usize; 3],
        /// `[C, H, W]` the model was trained on.
        expected: [usize; 3],
    },
    /// A network could not be exported.
    #[error("export: {0}")]
    Export(String),
    /// A JSON file could not be parsed.
    #[error("{path}: invalid JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// serde's message, with line and column.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, NetError>;
