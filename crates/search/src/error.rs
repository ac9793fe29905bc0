//! The crate's error type.

use std::path::PathBuf;

/// What can stop a search.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A setting is out of range.
    #[error("invalid search setting: {0}")]
    InvalidConfig(String),
    /// No strategy has this name.
    #[error("unknown strategy `{name}`; expected one of: {expected}")]
    UnknownStrategy {
        /// The name asked for.
        name: String,
        /// The names there are.
        expected: &'static str,
    },
    /// A strategy that cannot start from a meta-model was asked to.
    #[error(
        "a meta-model is used by Bayesian optimization: use --strategy bo, bo-ucb or bo-ts, not `{0}`"
    )]
    NotMetaCapable(String),
    /// The strategy found no feasible architecture it has not proposed before.
    #[error("{strategy}: no unseen feasible architecture left after {attempts} attempts")]
    SpaceExhausted {
        /// The strategy's name.
        strategy: String,
        /// How many candidates it tried.
        attempts: usize,
    },
    /// The trial store belongs to another search.
    #[error(
        "the trial store {path} belongs to another search.\n  stored:    {stored}\n  requested: {requested}\nUse another --store path, or the stored settings to resume"
    )]
    StoreMismatch {
        /// The store file.
        path: PathBuf,
        /// The settings recorded in it.
        stored: String,
        /// The settings of this run.
        requested: String,
    },
    /// Replaying a stored search gave another architecture than the one stored:
    /// the code, data or seed differ from the interrupted run.
    #[error(
        "resume diverged at trial {trial}: the store has `{stored}`, the replay proposed `{proposed}`"
    )]
    ReplayMismatch {
        /// Zero-based trial.
        trial: usize,
        /// Architecture in the store.
        stored: String,
        /// Architecture proposed by the replay.
        proposed: String,
    },
    /// The SQLite store failed.
    #[error("trial store {path}: {message}")]
    Store {
        /// The store file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
    /// An architecture in the store could not be read back.
    #[error(transparent)]
    Space(#[from] metanas_space::SpaceError),
    /// A dataset or table problem.
    #[error(transparent)]
    Data(#[from] metanas_data::DataError),
    /// Building or training a network failed.
    #[error(transparent)]
    Net(#[from] metanas_net::NetError),
    /// A learned optimizer could not be built.
    #[error(transparent)]
    Aon(#[from] metanas_aon::AonError),
    /// The settings of a candidate's AON could not be chosen.
    #[error("choosing the AON settings of a candidate: {0}")]
    SettingsChoice(String),
    /// The surrogate model failed to fit or predict.
    #[error("surrogate: {0}")]
    Surrogate(#[from] metanas_aen::AenError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, SearchError>;
