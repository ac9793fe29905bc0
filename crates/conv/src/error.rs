//! The crate's error type.

/// Why a convolution cannot be computed from the given tensors and options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvError {
    /// The weight's input channels (times the groups) differ from the input's channels.
    #[error(
        "the input has {input} channels but the weight expects {weight} (channels per group) × {groups} (groups)"
    )]
    ChannelMismatch {
        /// Channels of the input, `x.dims()[1]`.
        input: usize,
        /// Input channels per group of the weight, `weight.dims()[1]`.
        weight: usize,
        /// Groups of the options.
        groups: usize,
    },
    /// The bias has another length than the weight's output channels.
    #[error("the bias has {bias} entries but the weight has {channels_out} output channels")]
    BiasMismatch {
        /// Length of the bias.
        bias: usize,
        /// Output channels of the weight, `weight.dims()[0]`.
        channels_out: usize,
    },
    /// A stride, dilation or the groups is zero, or the groups do not divide the output channels.
    #[error("invalid convolution options: {0}")]
    InvalidOptions(String),
    /// The kernel (dilated) is larger than the padded input.
    #[error("the dilated kernel {kernel:?} does not fit the padded input {padded_input:?}")]
    KernelTooLarge {
        /// The dilated kernel's extent, `[height, width]`.
        kernel: [usize; 2],
        /// The padded input's extent, `[height, width]`.
        padded_input: [usize; 2],
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, ConvError>;
