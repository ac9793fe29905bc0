//! Matrix views over slices, checked when they are made.

use crate::error::GemmError;

/// A `rows × columns` matrix's place in a slice: element `(i, j)` is at
/// `i·row_stride + j·column_stride`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) rows: usize,
    pub(crate) columns: usize,
    pub(crate) row_stride: usize,
    pub(crate) column_stride: usize,
}

impl Layout {
    /// Elements the layout spans (0 when empty); `None` when that overflows.
    fn span(&self) -> Option<usize> {
        if self.rows == 0 || self.columns == 0 {
            return Some(0);
        }
        (self.rows - 1)
            .checked_mul(self.row_stride)?
            .checked_add((self.columns - 1).checked_mul(self.column_stride)?)?
            .checked_add(1)
    }

    /// The layout, when every element lies inside a slice of `available` elements.
    fn within(self, available: usize) -> Result<Self, GemmError> {
        match self.span() {
            Some(needed) if needed <= available => Ok(self),
            needed => Err(GemmError::OutOfBounds {
                rows: self.rows,
                columns: self.columns,
                row_stride: self.row_stride,
                column_stride: self.column_stride,
                needed: needed.unwrap_or(usize::MAX),
                available,
            }),
        }
    }

    /// Whether no two elements share an address (one stride steps over a whole
    /// row or column of the other).
    fn distinct(&self) -> bool {
        let Self {
            rows,
            columns,
            row_stride,
            column_stride,
        } = *self;
        rows <= 1 && (columns <= 1 || column_stride >= 1)
            || columns <= 1 && row_stride >= 1
            || column_stride >= 1 && row_stride >= columns.saturating_mul(column_stride)
            || row_stride >= 1 && column_stride >= rows.saturating_mul(row_stride)
    }

    fn transposed(self) -> Self {
        Self {
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
        }
    }

    fn shape(&self) -> [usize; 2] {
        [self.rows, self.columns]
    }
}

/// A read-only `rows × columns` matrix: element `(i, j)` is
/// `data[i·row_stride + j·column_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) layout: Layout,
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
        let layout = Layout {
            rows,
            columns,
            row_stride,
            column_stride,
        }
        .within(data.len())?;
        Ok(Self { data, layout })
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
            layout: self.layout.transposed(),
            ..self
        }
    }

    /// `[rows, columns]`.
    pub fn shape(&self) -> [usize; 2] {
        self.layout.shape()
    }
}

/// A writable `rows × columns` matrix whose elements have distinct addresses:
/// element `(i, j)` is `data[i·row_stride + j·column_stride]`.
#[derive(Debug)]
pub struct MatrixMut<'a> {
    pub(crate) data: &'a mut [f32],
    pub(crate) layout: Layout,
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
        let layout = Layout {
            rows,
            columns,
            row_stride,
            column_stride,
        }
        .within(data.len())?;
        if !layout.distinct() {
            return Err(GemmError::Overlapping {
                rows,
                columns,
                row_stride,
                column_stride,
            });
        }
        Ok(Self { data, layout })
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
        self.layout.shape()
    }
}
