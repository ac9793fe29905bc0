//! # metanas-conv
//!
//! A 2-D convolution op with its own backward, for training on CPU. Burn 0.22's
//! flex backend overrides only the convolution's forward; its backward is
//! burn-backend's generic default (the weight gradient as a convolution of the
//! batch-swapped tensors, the input gradient as a transposed convolution). This
//! crate's [`conv2d`] runs, on flex, GEMM kernels over tiles of the batch: at
//! stride 1 the weight gradient is one GEMM per kernel row over a shifted window
//! of the padded input (`dY_shifted[k_w·C_out, B·H·W] × X_shiftedᵀ[B·H·W, C_in]`,
//! no column matrix), the forward one GEMM per kernel row over shifted copies of the
//! padded input where its padding positions are few (else im2col + GEMM), and
//! the input gradient the forward of the flipped kernel; at other strides
//! im2col + GEMM, and col2im. With many channels (at least
//! [`MIN_ROW_COPY_CHANNELS`] output channels, a kernel wider than one column,
//! and for the forward fewer output channels than `k_w·C_in`) the stride-1
//! forward and weight gradient run one image at a time, one GEMM per kernel row
//! over column-shifted copies of the image, computing only the real outputs. On
//! every other backend it is Burn's own convolution.
//!
//! The op is a Burn backend extension ([`ConvOps`], `#[backend_extension]`) with a
//! hand-written backward on `Autodiff<B>`. The extension has to name the backends
//! it routes to (`Flex`, `NdArray`, `Cube`, `Autodiff`); that naming stays inside
//! this crate (`ops.rs`, `flex.rs`, `autodiff.rs`): callers pass tensors on a
//! runtime `Device`, as everywhere else in metanas.
//!
//! ```no_run
//! use burn::tensor::{Device, Tensor, ops::ConvOptions};
//! # fn run(device: &Device) -> metanas_conv::Result<()> {
//! let x = Tensor::<4>::zeros([64, 16, 32, 32], device);
//! let weight = Tensor::<4>::zeros([16, 16, 3, 3], device);
//! let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
//! let y = metanas_conv::conv2d(x, weight, None, options)?; // [64, 16, 32, 32]
//! # Ok(()) }
//! ```

mod autodiff;
mod conv2d;
mod error;
mod flex;
// The routing the attribute generates names ndarray, which Burn 0.22 deprecates.
#[allow(deprecated)]
mod ops;

pub use conv2d::{conv2d, relu_conv2d};
pub use error::{ConvError, Result};
pub use flex::{
    MAX_COLUMN_ELEMENTS, MAX_PADDING_PRODUCTS, MAX_TILE_ELEMENTS, MIN_ROW_COPY_CHANNELS, MIN_TILES,
    WEIGHT_GRADIENT_PARTS,
};
pub use ops::ConvOps;
