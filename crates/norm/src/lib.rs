//! # metanas-norm
//!
//! Batch norm's training pass (normalisation by the batch's own statistics) as
//! one op with its own backward, for training on CPU. Composed from Burn's
//! tensor operations, the pass reads and writes the activation about a dozen
//! times forward and backward; this crate's [`batch_norm_training`] runs, on
//! flex, two fused kernels each way: the per-channel sums in one pass (in
//! `f64`), then the normalisation in one more; backward, the per-channel sums
//! of `dY` and `dY·x̂`, then `dX` in one pass. Channels (for the sums) and
//! `(image, channel)` planes (for the elementwise passes) are shared among
//! rayon's threads; each sum runs in a fixed order, so the results do not
//! depend on the number of threads. On every other backend the op is the same
//! formulas in Burn's tensor operations.
//!
//! The op is a Burn backend extension ([`BatchNormOps`], `#[backend_extension]`)
//! with a hand-written backward on `Autodiff<B>`; the backends are named inside
//! this crate only (`ops.rs`, `flex.rs`, `autodiff.rs`).
//!
//! ```no_run
//! use burn::tensor::{Device, Tensor};
//! # fn run(device: &Device) -> metanas_norm::Result<()> {
//! let x = Tensor::<4>::ones([64, 16, 32, 32], device);
//! let (gamma, beta) = (Tensor::<1>::ones([16], device), Tensor::<1>::zeros([16], device));
//! let out = metanas_norm::batch_norm_training(x, gamma, beta, 1e-5)?;
//! assert_eq!(out.mean.dims(), [16]); // and out.variance (biased), out.output [64, 16, 32, 32]
//! # Ok(()) }
//! ```

mod autodiff;
mod batch_norm;
mod composite;
mod error;
mod flex;
// The routing the attribute generates names ndarray, which Burn 0.22 deprecates.
#[allow(deprecated)]
mod ops;

pub use batch_norm::{BatchNormTraining, batch_norm_training};
pub use error::{NormError, Result};
pub use ops::BatchNormOps;
