//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong when building, running, meta-training, saving or loading an AON.
#[derive(Debug, thiserror::Error)]
pub enum AonError {
    /// A setting is out of range; says which and why.
    #[error("invalid AON setting: {0}")]
    InvalidConfig(String),
    /// Meta-training produced a non-finite meta-loss or meta-gradient.
    #[error("meta-training diverged at meta-step {step}: {what}")]
    MetaDiverged {
        /// Zero-based meta-step.
        step: usize,
        /// What was not finite.
        what: String,
    },
    /// A saved AON or trainer could not be read or written.
    #[error("record {path}: {message}")]
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
        /// serde's message, with line and column.
        message: String,
    },
    /// A CSV table of measured runs could not be read or written.
    #[error("{path}: {message}")]
    Table {
        /// The file.
        path: PathBuf,
        /// The CSV reader's or writer's message, with the line where it has one.
        message: String,
    },
    /// The network crate failed (building or training a candidate).
    #[error(transparent)]
    Net(#[from] metanas_net::NetError),
    /// The data crate failed (loading, batching).
    #[error(transparent)]
    Data(#[from] metanas_data::DataError),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, AonError>;
