//! The crate's error type.

/// What went wrong when reading or validating an architecture.
///
/// Every variant names the offending piece of input so that a user can fix it
/// without reading the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpaceError {
    /// The text was empty (or only white space).
    #[error("empty architecture string")]
    Empty,
    /// The text does not follow the space's grammar.
    #[error("malformed architecture `{text}`: {reason}")]
    Malformed {
        /// The offending text (truncated to 200 characters).
        text: String,
        /// What the parser expected.
        reason: String,
    },
    /// An operation name that the space does not have.
    #[error("unknown operation `{op}`; expected one of: {expected}")]
    UnknownOperation {
        /// The name found.
        op: String,
        /// The space's operation names, comma separated.
        expected: String,
    },
    /// The cell has the wrong number of nodes.
    #[error("expected {expected} nodes, found {found}")]
    WrongNodeCount {
        /// What the space requires (or its maximum).
        expected: String,
        /// What the input had.
        found: usize,
    },
    /// A node has the wrong number of incoming edges.
    #[error("node {node} has {found} incoming edges, expected {expected}")]
    WrongEdgeCount {
        /// The node (0 is the cell input).
        node: usize,
        /// How many edges the space requires into that node.
        expected: usize,
        /// How many the input had.
        found: usize,
    },
    /// An edge names the wrong source node.
    #[error("edge {position} into node {node} comes from node `{found}`, expected node {expected}")]
    WrongSourceNode {
        /// The target node.
        node: usize,
        /// Which edge of that node (0-based).
        position: usize,
        /// The source index expected at that position.
        expected: usize,
        /// The source written in the input.
        found: String,
    },
    /// The graph breaks one of the space's structural rules.
    #[error("invalid architecture: {0}")]
    Invalid(String),
    /// The JSON form could not be read.
    #[error("invalid JSON architecture: {0}")]
    Json(String),
}

impl SpaceError {
    /// A [`SpaceError::Malformed`] that keeps at most 200 characters of the input.
    pub(crate) fn malformed(text: &str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            text: text.chars().take(200).collect(),
            reason: reason.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, SpaceError>;
