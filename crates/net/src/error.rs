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
