//! The crate's error type.

/// What can stop a study's worker or its status report.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// The storage address is not a PostgreSQL URL.
    #[error(
        "--storage `{given}` is not a PostgreSQL address: expected postgres://USER[:PASSWORD]@HOST:PORT/DATABASE ({reason})"
    )]
    BadAddress {
        /// The address as given (password hidden).
        given: String,
        /// The parser's message.
        reason: String,
    },
    /// No server answers at the address.
    #[error("cannot reach the PostgreSQL server {server}: {reason}")]
    Unreachable {
        /// The address (password hidden).
        server: String,
        /// The client's message.
        reason: String,
    },
    /// The server refused the user or its password.
    #[error("the PostgreSQL server {server} refused the login: {reason}")]
    LoginRefused {
        /// The address (password hidden).
        server: String,
        /// The server's message.
        reason: String,
    },
    /// No study of this name in the database.
    #[error(
        "no study `{study}` in {server}; studies there: {known}. A study is created by the first `cargo xtask search --storage … --study {study}`"
    )]
    UnknownStudy {
        /// The name asked for.
        study: String,
        /// The database (password hidden).
        server: String,
        /// The studies the database holds, comma-separated (or `none`).
        known: String,
    },
    /// The study belongs to another search.
    #[error(
        "study `{study}` in {server} belongs to another search.\n  stored:    {stored}\n  requested: {requested}\nUse another --study name, or the stored settings to join it"
    )]
    SettingsMismatch {
        /// The study.
        study: String,
        /// The database (password hidden).
        server: String,
        /// The settings recorded in it.
        stored: String,
        /// The settings of this worker.
        requested: String,
    },
    /// The database holds a schema this program does not know.
    #[error(
        "{server} holds the metanas schema version {stored}; this program knows versions up to {known}: use a newer metanas"
    )]
    SchemaTooNew {
        /// The database (password hidden).
        server: String,
        /// The version in the database.
        stored: i32,
        /// The newest version this program writes.
        known: i32,
    },
    /// A setting of the study is out of range.
    #[error("invalid study setting: {0}")]
    InvalidSetting(String),
    /// The database failed (after reconnecting, for lost connections).
    #[error("PostgreSQL {server}: {message}")]
    Database {
        /// The database (password hidden).
        server: String,
        /// What failed.
        message: String,
    },
    /// The search (strategy, space, store) failed.
    #[error(transparent)]
    Search(#[from] metanas_search::SearchError),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, StudyError>;
