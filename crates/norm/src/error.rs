//! The crate's error type.

/// Why batch norm cannot be computed from the given tensors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NormError {
    /// `gamma` or `beta` has another length than the input's channels.
    #[error("the input has {channels} channels but {parameter} has {length} entries")]
    ParameterLength {
        /// `"gamma"` or `"beta"`.
        parameter: &'static str,
        /// Its length.
        length: usize,
        /// Channels of the input, `x.dims()[1]`.
        channels: usize,
    },
    /// ε is not a positive finite number.
    #[error("epsilon must be a positive finite number, got {0}")]
    InvalidEpsilon(f64),
    /// The batch has no element per channel (a zero batch, height or width).
    #[error("batch statistics need at least one value per channel, the input is {0:?}")]
    EmptyBatch([usize; 4]),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, NormError>;
