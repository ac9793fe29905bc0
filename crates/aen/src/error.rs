//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong when building, fitting, adapting, saving or loading a predictor.
#[derive(Debug, thiserror::Error)]
pub enum AenError {
    /// A setting is out of range; says which and why.
    #[error("invalid AEN setting: {0}")]
    InvalidConfig(String),
    /// The data given is unusable (empty, mismatched lengths, NaN values, ...).
    #[error("invalid AEN data: {0}")]
    InvalidData(String),
    /// An encoding does not fit the model (other padded size, unknown operation).
    #[error("encoding {index} does not fit the model: {reason}")]
    Encoding {
        /// Position of the encoding in the input.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The loss became NaN or infinite: training stopped.
    #[error("AEN training diverged at epoch {epoch}: loss {loss}")]
    Diverged {
        /// Zero-based epoch.
        epoch: usize,
        /// The non-finite loss.
        loss: f64,
    },
    /// A linear-algebra step failed (a matrix that should be positive definite is not).
    #[error("numerical failure: {0}")]
    Numerical(String),
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
    /// A JSON file could not be parsed or written.
    #[error("{path}: invalid JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// serde's message.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, AenError>;
