//! # metanas-pool
//!
//! NAS-Bench-201's `avg_pool_3x3` (a 3×3 window, stride 1, padding 1, the
//! padding not counted: PyTorch's `AvgPool2d(3, 1, 1, count_include_pad=False)`)
//! as one op with its own backward, for training on CPU. Burn's `avg_pool2d`
//! on flex is slow, and the same pool composed from slices, pads and sums reads
//! and writes the activation about a dozen times each way; this crate's
//! [`average_pool_3x3`] runs, on flex, one pass forward (`y = box₃ₓ₃(x) / n`,
//! `n` the window's in-bounds positions) and one backward (`dx = box₃ₓ₃(dy / n)`:
//! the window is symmetric, so the positions that read an input are those of
//! its own window), each `(image, channel)` plane on a thread of rayon's pool.
//! Every sum runs in a fixed order, so the results do not depend on the number
//! of threads. On every other backend the op is Burn's `avg_pool2d` and its
//! backward.
//!
//! The op is a Burn backend extension ([`AveragePoolOps`],
//! `#[backend_extension]`) with a hand-written backward on `Autodiff<B>`; the
//! backends are named inside this crate only (`ops.rs`, `flex.rs`,
//! `autodiff.rs`).
//!
//! ```no_run
//! use burn::tensor::{Device, Tensor};
//! # fn run(device: &Device) {
//! let x = Tensor::<4>::ones([64, 16, 32, 32], device);
//! let y = metanas_pool::average_pool_3x3(x); // [64, 16, 32, 32], every value 1
//! # }
//! ```

mod autodiff;
mod average_pool;
mod flex;
// The routing the attribute generates names ndarray, which Burn 0.22 deprecates.
#[allow(deprecated)]
mod ops;

pub use average_pool::average_pool_3x3;
pub use ops::AveragePoolOps;
