//! The product, and the one call into `gemm`.

use crate::error::GemmError;
use crate::matrix::{Matrix, MatrixMut};

/// How many threads one product may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// The calling thread alone (for callers that parallelise over many products).
    One,
    /// Rayon's pool (worth it for one large product; small ones stay on one
    /// thread regardless, as the kernels decide).
    All,
}

/// `dst ← lhs × rhs`, or `dst ← dst + lhs × rhs` when `accumulate` is set.
///
/// The sum over the inner dimension runs in the kernels' order, which depends
/// on the shapes (and the CPU's instruction set), never on the thread count:
/// the same inputs give the same bits with [`Threads::One`] and
/// [`Threads::All`].
///
/// # Errors
/// [`GemmError::ShapeMismatch`] unless `dst` is `[m, n]`, `lhs` `[m, k]` and
/// `rhs` `[k, n]`.
pub fn gemm(
    dst: MatrixMut<'_>,
    accumulate: bool,
    lhs: Matrix<'_>,
    rhs: Matrix<'_>,
    threads: Threads,
) -> Result<(), GemmError> {
    let [m, n] = dst.shape();
    let [lhs_rows, k] = lhs.shape();
    if lhs_rows != m || rhs.shape() != [k, n] {
        return Err(GemmError::ShapeMismatch {
            dst: dst.shape(),
            lhs: lhs.shape(),
            rhs: rhs.shape(),
        });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    dst.data[i * dst.layout.row_stride + j * dst.layout.column_stride] = 0.0;
                }
            }
        }
        return Ok(());
    }
    let parallelism = match threads {
        Threads::One => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(0),
    };
    let stride = |s: usize| isize::try_from(s).unwrap_or(isize::MAX);
    // SAFETY: `Matrix::new` and `MatrixMut::new` checked that every element
    // `(i, j)` of each view, `i·row_stride + j·column_stride`, lies inside its
    // slice, and the shape check above makes the kernel touch exactly the
    // elements `(i < m, j < n)` of `dst`, `(i < m, l < k)` of `lhs` and
    // `(l < k, j < n)` of `rhs` (all dimensions non-zero here, so the strides
    // fit in `isize`: each span is at most a slice's length). `dst`'s elements
    // have distinct addresses (checked by `MatrixMut::new`), so the kernel's
    // threads never write one place twice, and `dst` is a unique borrow that
    // cannot alias `lhs` or `rhs`. `gemm` reads `dst` only when `read_dst`.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            stride(dst.layout.column_stride),
            stride(dst.layout.row_stride),
            accumulate,
            lhs.data.as_ptr(),
            stride(lhs.layout.column_stride),
            stride(lhs.layout.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.layout.column_stride),
            stride(rhs.layout.row_stride),
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}
