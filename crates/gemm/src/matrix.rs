//! Matrix views over slices, checked when they are made.

use crate::error::GemmError;

/// Elements a `rows × columns` view with these strides spans (0 when empty).
fn span(rows: usize, columns: usize, row_stride: usize, column_stride: usize) -> Option<usize> {
    if rows == 0 || columns == 0 {
        return Some(0);
    }
    (rows - 1)
        .checked_mul(row_stride)?
        .checked_add((columns - 1).checked_mul(column_stride)?)?
        .checked_add(1)
}

fn check(
    available: usize,
    rows: usize,
    columns: usize,
    row_stride: usize,
    column_stride: usize,
) -> Result<(), GemmError> {
    let out_of_bounds = |needed| GemmError::OutOfBounds {
        rows,
        columns,
        row_stride,
        column_stride,
        needed,
        available,
    };
    match span(rows, columns, row_stride, column_stride) {
        Some(needed) if needed <= available => Ok(()),
        Some(needed) => Err(out_of_bounds(needed)),
        None => Err(out_of_bounds(usize::MAX)),
    }
}

/// A read-only `rows × columns` matrix: element `(i, j)` is
/// `data[i·row_stride + j·column_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) columns: usize,
    pub(crate) row_stride: usize,
    pub(crate) column_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A view with the given strides.
    ///
    /// # Errors
    /// [`GemmError::OutOfBounds`] when an element lies past the end of `data`.
    pub fn new(
        data: &'a [f32],
        rows: usize,
        columns: usize,
        row_stride: usize,
        column_stride: usize,
    ) -> Result<Self, GemmError> {
        check(data.len(), rows, columns, row_stride, column_stride)?;
        Ok(Self {
            data,
            rows,
            columns,
            row_stride,
            column_stride,
        })
    }

    /// A contiguous row-major view (row stride `columns`, column stride 1).
    ///
    /// # Errors
    /// [`GemmError::OutOfBounds`] when `data` is shorter than `rows · columns`.
    pub fn row_major(data: &'a [f32], rows: usize, columns: usize) -> Result<Self, GemmError> {
        Self::new(data, rows, columns, columns, 1)
    }

    /// The transpose (a view of the same elements, no copy).
    pub fn transposed(self) -> Self {
        Self {
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
            ..self
        }
    }

    /// `[rows, columns]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.columns]
    }
}

/// A writable `rows × columns` matrix whose elements have distinct addresses:
/// element `(i, j)` is `data[i·row_stride + j·column_stride]`.
#[derive(Debug)]
pub struct MatrixMut<'a> {
    pub(crate) data: &'a mut [f32],
    pub(crate) rows: usize,
    pub(crate) columns: usize,
    pub(crate) row_stride: usize,
    pub(crate) column_stride: usize,
}

impl<'a> MatrixMut<'a> {
    /// A view with the given strides.
    ///
    /// # Errors
    /// [`GemmError::OutOfBounds`] when an element lies past the end of `data`;
    /// [`GemmError::Overlapping`] when two elements would share an address (one
    /// stride must step over a whole row or column of the other).
    pub fn new(
        data: &'a mut [f32],
        rows: usize,
        columns: usize,
        row_stride: usize,
        column_stride: usize,
    ) -> Result<Self, GemmError> {
        check(data.len(), rows, columns, row_stride, column_stride)?;
        let distinct = rows <= 1 && (columns <= 1 || column_stride >= 1)
            || columns <= 1 && row_stride >= 1
            || column_stride >= 1 && row_stride >= columns.saturating_mul(column_stride)
            || row_stride >= 1 && column_stride >= rows.saturating_mul(row_stride);
        if !distinct {
            return Err(GemmError::Overlapping {
                rows,
                columns,
                row_stride,
                column_stride,
            });
        }
        Ok(Self {
            data,
            rows,
            columns,
            row_stride,
            column_stride,
        })
    }

    /// A contiguous row-major view (row stride `columns`, column stride 1).
    ///
    /// # Errors
    /// [`GemmError::OutOfBounds`] when `data` is shorter than `rows · columns`.
    pub fn row_major(data: &'a mut [f32], rows: usize, columns: usize) -> Result<Self, GemmError> {
        Self::new(data, rows, columns, columns, 1)
    }

    /// `[rows, columns]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.columns]
    }
}
