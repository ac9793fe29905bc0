//! The op on burn-flex: one fused pass each way in safe Rust over `f32`
//! planes, shared among rayon's threads; and the other compiled backends'
//! default bodies.
//!
//! For a plane of `H × W` values, with `r(i)` and `c(j)` the in-bounds rows and
//! columns of the 3-wide window centred on row `i` and column `j` (2 at an
//! edge, else 3; 1 for a side of length 1), each output row sums its window's
//! rows into a buffer of column sums, then three neighbouring column sums:
//! * forward: `y[i, j] = Σ x[window] / (r(i)·c(j))`;
//! * backward: `dx[i, j] = Σ_{(p, q) in the window of (i, j)} dy[p, q] / (r(p)·c(q))`
//!   (the rows' factors applied while summing rows, the columns' to the column
//!   sums).

use crate::ops::{AveragePoolOps, burn_average_pool_3x3, burn_average_pool_3x3_backward};
use burn::backend::flex::FlexTensor;
#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
use burn::backend::{Cube, Flex, NdArray};
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;

#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
impl AveragePoolOps for NdArray {}

impl AveragePoolOps for Cube {}

impl AveragePoolOps for Flex {
    fn metanas_average_pool_3x3(x: FlexTensor) -> FlexTensor {
        match Planes::of(&x) {
            Some(planes) => planes.pool(&x, Pass::Forward),
            None => burn_average_pool_3x3::<Flex>(x),
        }
    }

    fn metanas_average_pool_3x3_backward(x: FlexTensor, output_grad: FlexTensor) -> FlexTensor {
        match Planes::of(&output_grad) {
            Some(planes) if x.layout().shape() == output_grad.layout().shape() => {
                planes.pool(&output_grad, Pass::Backward)
            }
            _ => burn_average_pool_3x3_backward::<Flex>(x, output_grad),
        }
    }
}

/// Which pass a plane's loop computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Each output divided by its own window's count.
    Forward,
    /// Each input (an output gradient) divided by its window's count before
    /// the sums.
    Backward,
}

/// Values per task of rayon's pool, at least (small planes are grouped).
const MIN_TASK_VALUES: usize = 4096;

/// The sizes of a contiguous `[B, C, H, W]` `f32` tensor, seen as `B·C`
/// planes of `H × W` values.
#[derive(Debug, Clone, Copy)]
struct Planes {
    shape: [usize; 4],
}

impl Planes {
    /// The planes of `x` when the kernel applies (`x` 4-D `f32` with no zero
    /// dimension), else `None`.
    fn of(x: &FlexTensor) -> Option<Self> {
        let shape = x.layout().shape();
        if x.dtype() != DType::F32 || shape.num_dims() != 4 || shape.num_elements() == 0 {
            return None;
        }
        Some(Self {
            shape: [shape[0], shape[1], shape[2], shape[3]],
        })
    }

    /// The pass over every plane of `input`, planes in parallel.
    fn pool(&self, input: &FlexTensor, pass: Pass) -> FlexTensor {
        let [_, _, height, width] = self.shape;
        let input = if input.is_contiguous() {
            input.clone()
        } else {
            input.to_contiguous()
        };
        let values = input
            .as_slice::<f32>()
            .expect("a contiguous f32 tensor (checked by Planes::of)");
        let (row_factors, column_factors) = (inverse_counts(height), inverse_counts(width));
        let kernel = PlaneKernel {
            height,
            width,
            row_factors: &row_factors,
            column_factors: &column_factors,
            pass,
        };
        let pixels = height * width;
        let mut output = Vec::with_capacity(values.len());
        output.par_extend(rayon::iter::repeat_n(0.0f32, values.len()));
        output
            .par_chunks_mut(pixels)
            .zip(values.par_chunks(pixels))
            .with_min_len(MIN_TASK_VALUES.div_ceil(pixels))
            .for_each_init(
                || vec![0.0f32; width],
                |column_sums, (out, plane)| kernel.run(plane, out, column_sums),
            );
        FlexTensor::from_data(TensorData::new(output, self.shape.to_vec()))
    }
}

/// `1 / n` for each position of a side of `len`, `n` the in-bounds positions
/// of the 3-wide window centred on it.
fn inverse_counts(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| 1.0 / ((i + 1).min(len - 1) + 1 - i.saturating_sub(1)) as f32)
        .collect()
}

/// One plane's pass.
#[derive(Debug)]
struct PlaneKernel<'a> {
    height: usize,
    width: usize,
    /// `1 / r(i)` per row.
    row_factors: &'a [f32],
    /// `1 / c(j)` per column.
    column_factors: &'a [f32],
    pass: Pass,
}

impl PlaneKernel<'_> {
    /// Writes the pass of `plane` into `out` (both `height × width`), with
    /// `column_sums` (`width` values) as scratch.
    fn run(&self, plane: &[f32], out: &mut [f32], column_sums: &mut [f32]) {
        let w = self.width;
        for (i, out_row) in out.chunks_exact_mut(w).enumerate() {
            column_sums.fill(0.0);
            for r in i.saturating_sub(1)..=(i + 1).min(self.height - 1) {
                let row = &plane[r * w..][..w];
                match self.pass {
                    Pass::Forward => {
                        for (sum, &v) in column_sums.iter_mut().zip(row) {
                            *sum += v;
                        }
                    }
                    Pass::Backward => {
                        let factor = self.row_factors[r];
                        for (sum, &v) in column_sums.iter_mut().zip(row) {
                            *sum += v * factor;
                        }
                    }
                }
            }
            if self.pass == Pass::Backward {
                for (sum, &factor) in column_sums.iter_mut().zip(self.column_factors) {
                    *sum *= factor;
                }
            }
            neighbour_sums(column_sums, out_row);
            if self.pass == Pass::Forward {
                let factor = self.row_factors[i];
                for (o, &column_factor) in out_row.iter_mut().zip(self.column_factors) {
                    *o *= factor * column_factor;
                }
            }
        }
    }
}

/// `out[j] = sums[j − 1] + sums[j] + sums[j + 1]`, the terms out of range left
/// out (`sums` and `out` of one length).
fn neighbour_sums(sums: &[f32], out: &mut [f32]) {
    let w = sums.len();
    if w == 1 {
        out[0] = sums[0];
        return;
    }
    out[0] = sums[0] + sums[1];
    for (o, window) in out[1..w - 1].iter_mut().zip(sums.windows(3)) {
        *o = window[0] + window[1] + window[2];
    }
    out[w - 1] = sums[w - 2] + sums[w - 1];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_at_the_edges() {
        assert_eq!(inverse_counts(1), vec![1.0]);
        assert_eq!(inverse_counts(2), vec![0.5, 0.5]);
        assert_eq!(inverse_counts(4), vec![0.5, 1.0 / 3.0, 1.0 / 3.0, 0.5]);
    }

    #[test]
    fn neighbour_sums_leave_out_the_padding() {
        let mut out = vec![0.0; 4];
        neighbour_sums(&[1.0, 2.0, 3.0, 4.0], &mut out);
        assert_eq!(out, vec![3.0, 6.0, 9.0, 7.0]);
        let mut one = vec![0.0];
        neighbour_sums(&[5.0], &mut one);
        assert_eq!(one, vec![5.0]);
    }
}
