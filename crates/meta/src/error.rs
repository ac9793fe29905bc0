//! The crate's error type.

use std::path::PathBuf;

/// What can stop meta-training or the loading of a meta-model.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// A setting or a source selection is not usable.
    #[error("invalid meta-training setting: {0}")]
    InvalidConfig(String),
    /// The output folder holds another meta-training's checkpoint.
    #[error(
        "{path} holds a meta-training with other settings.\n  stored:    {stored}\n  requested: {requested}\nUse another output folder, or the stored settings to resume"
    )]
    Mismatch {
        /// The manifest.
        path: PathBuf,
        /// The settings recorded there.
        stored: String,
        /// The settings of this run.
        requested: String,
    },
    /// The folder is not a (finished) meta-model.
    #[error("{path} is not a usable meta-model: {reason}")]
    NotAMetaModel {
        /// The folder.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The AEN failed.
    #[error(transparent)]
    Aen(#[from] metanas_aen::AenError),
    /// The AON failed.
    #[error(transparent)]
    Aon(#[from] metanas_aon::AonError),
    /// A dataset or table problem.
    #[error(transparent)]
    Data(#[from] metanas_data::DataError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file could not be read or written.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// serde's message.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, MetaError>;

pub(crate) fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> MetaError + '_ {
    move |source| MetaError::Io {
        path: path.to_path_buf(),
        source,
    }
}
