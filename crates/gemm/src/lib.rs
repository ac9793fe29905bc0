//! # metanas-gemm
//!
//! `dst ← A × B` (or `dst ← dst + A × B`) for `f32` matrices given as slices with
//! row and column strides, on the [`gemm`](https://docs.rs/gemm) crate's kernels
//! (the ones burn-flex's matmul runs). The workspace forbids `unsafe`; this crate
//! is the one exception: it checks, before the single unsafe call, that every
//! element the kernel reads or writes lies inside its slice and that no two
//! destination elements share an address, so callers stay in safe Rust.
//!
//! ```
//! use metanas_gemm::{Matrix, MatrixMut, Threads, gemm};
//! # fn main() -> Result<(), metanas_gemm::GemmError> {
//! let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
//! let b = [1.0, 0.0, 0.0, 1.0]; // identity
//! let mut c = [0.0; 4];
//! gemm(
//!     MatrixMut::row_major(&mut c, 2, 2)?,
//!     false,
//!     Matrix::row_major(&a, 2, 2)?,
//!     Matrix::row_major(&b, 2, 2)?.transposed(),
//!     Threads::One,
//! )?;
//! assert_eq!(c, a);
//! # Ok(()) }
//! ```

mod error;
mod matrix;
mod product;

pub use error::GemmError;
pub use matrix::{Matrix, MatrixMut};
pub use product::{Threads, gemm};
