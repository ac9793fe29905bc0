//! The crate's error type.

/// Why a matrix view or a product cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GemmError {
    /// The view's last element lies past the end of its slice.
    #[error(
        "a {rows}×{columns} view with strides ({row_stride}, {column_stride}) needs {needed} elements, the slice has {available}"
    )]
    OutOfBounds {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        columns: usize,
        /// Elements between consecutive rows.
        row_stride: usize,
        /// Elements between consecutive columns.
        column_stride: usize,
        /// Elements the view spans.
        needed: usize,
        /// Elements of the slice.
        available: usize,
    },
    /// Two elements of a destination view would share an address.
    #[error(
        "a {rows}×{columns} destination with strides ({row_stride}, {column_stride}) has overlapping elements"
    )]
    Overlapping {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        columns: usize,
        /// Elements between consecutive rows.
        row_stride: usize,
        /// Elements between consecutive columns.
        column_stride: usize,
    },
    /// The shapes do not chain: `dst[m, n] = lhs[m, k] × rhs[k, n]`.
    #[error("cannot multiply {lhs:?} by {rhs:?} into {dst:?}")]
    ShapeMismatch {
        /// `[rows, columns]` of the destination.
        dst: [usize; 2],
        /// `[rows, columns]` of the left factor.
        lhs: [usize; 2],
        /// `[rows, columns]` of the right factor.
        rhs: [usize; 2],
    },
}
