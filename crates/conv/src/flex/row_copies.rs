//! Stride-1 convolutions one image at a time, by kernel rows over
//! column-shifted copies of the image, computing only the real outputs.
//!
//! For each image, the input is written `k_w` times, copy `j` holding
//! `X_j[c, iy, ox] = x[c, iy, ox + j·d_w − left]` (zero outside the image), with
//! rows `W_out` long: the horizontal padding is in the copies, the vertical
//! padding nowhere. Kernel row `ky` then reaches the output rows `oy` whose
//! input row `oy + ky·d_h − top` exists, `lo..hi`, and for them the `k_w·C_in`
//! rows of the copies, from row `lo + ky·d_h − top` on, are one window
//! `X_ky[k_w·C_in, (hi − lo)·W_out]` (row stride `H·W_out`). So:
//! * forward: `Y[C_out, lo·W_out..hi·W_out] (+)= W_ky[C_out, k_w·C_in] × X_ky`,
//!   one GEMM per kernel row, straight into the image's NCHW output (no column
//!   matrix, no staging of the output);
//! * weight gradient: `dW_ky[C_out, k_w·C_in] += dY[C_out, lo·W_out..hi·W_out] ×
//!   X_kyᵀ`, with the image's `dY` position-major (`[H_out·W_out, C_out]`, the
//!   layout the GEMM kernels read without repacking), the images summed in
//!   [`WEIGHT_GRADIENT_PARTS`](super::WEIGHT_GRADIENT_PARTS) groups as every
//!   weight gradient here.
//!
//! Neither computes an output at a padding position (the
//! [`shifted`](super::shifted) layout computes 27 % more outputs than there are
//! at 8×8 with padding 1, 13 % at 16×16), and a kernel row skips the output rows
//! whose input row lies in the top or bottom padding (im2col multiplies its
//! zeros); the left and right padding are zeros in the copies, multiplied as in
//! im2col. The products are narrower than a tile's (one image's positions,
//! fewer for the kernel rows that meet the padding), which costs where the
//! output channels are few.

use super::{Buffers, Geometry, with_buffers, zero_columns, zeroed};
use metanas_gemm::{Matrix, MatrixMut, gemm};
use rayon::prelude::*;

/// The fewest output channels for which the per-image kernel rows pay: with
/// fewer, the products are too thin beside a tile's (measured with `cargo run
/// --release -p metanas-conv --example conv_timing`; see
/// `docs/decisions/0026-small-images-by-row-copies.md`).
pub const MIN_ROW_COPY_CHANNELS: usize = 32;

/// Whether a forward (or a stride-1 input gradient, a forward) takes the
/// per-image kernel rows: stride 1, a kernel wider than one column, at least
/// [`MIN_ROW_COPY_CHANNELS`] output channels and fewer than the depth of one kernel
/// row's product, `k_w·C_in` (with more, the tiles' layouts, whose products are
/// `k_h·k_w·C_in` deep or a tile wide, are faster).
pub(super) fn forward_pays(geometry: &Geometry) -> bool {
    weight_grad_pays(geometry) && geometry.c_out < geometry.kernel[1] * geometry.c_in
}

/// Whether a weight gradient takes the per-image kernel rows: stride 1, a
/// kernel wider than one column, at least [`MIN_ROW_COPY_CHANNELS`] output channels.
pub(super) fn weight_grad_pays(geometry: &Geometry) -> bool {
    geometry.stride == [1, 1] && geometry.kernel[1] > 1 && geometry.c_out >= MIN_ROW_COPY_CHANNELS
}

/// The output `[B, C_out, H_out, W_out]` of `x` (`[B, C_in, H, W]`) and
/// `weight` (`[C_out, C_in, k_h, k_w]`), both contiguous, at stride 1.
pub(super) fn forward(geometry: &Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
    let image_out = geometry.image_out();
    let (c_in, c_out) = (geometry.c_in, geometry.c_out);
    let k_w = geometry.kernel[1];
    let [out_h, out_w] = geometry.out;
    // The kernel rows that reach the input, each with the output rows it
    // reaches; one that reaches every output row first, so that it writes
    // the output and the others add to it.
    let kernel_rows = kernel_rows(geometry);
    let first_covers_all = kernel_rows
        .first()
        .is_some_and(|&(_, lo, hi)| lo == 0 && hi == out_h);
    // When the first product writes every output, the output's zeros are
    // never read (and `vec!` takes them from fresh pages, without writing them).
    let mut y = if first_covers_all {
        vec![0.0f32; geometry.batch * image_out]
    } else {
        zeroed(geometry.batch * image_out)
    };
    if y.is_empty() {
        return y;
    }
    let taps = super::shifted::row_major_taps(geometry, weight);
    let depth = k_w * c_in;
    let threads = geometry.threads(geometry.batch);
    y.par_chunks_mut(image_out)
        .enumerate()
        .for_each(|(image, out)| {
            with_buffers(|buffers| {
                let copies = &mut buffers.columns;
                let x_image = &x[image * geometry.image_in()..][..geometry.image_in()];
                write_copies(geometry, x_image, copies);
                for (index, &(ky, lo, hi)) in kernel_rows.iter().enumerate() {
                    let accumulate = index > 0 || !first_covers_all;
                    let w_ky = Matrix::row_major(
                        &taps[ky * c_out * depth..][..c_out * depth],
                        c_out,
                        depth,
                    )
                    .expect("[C_out, k_w·C_in]");
                    let columns = (hi - lo) * out_w;
                    let window = copies_window(geometry, copies, (ky, lo, hi));
                    let y_rows =
                        MatrixMut::new(&mut out[lo * out_w..], c_out, columns, out_h * out_w, 1)
                            .expect("the output rows");
                    gemm(y_rows, accumulate, w_ky, window, threads)
                        .expect("[C_out, k_w·C_in] × [k_w·C_in, rows·W_out]");
                }
            })
        });
    y
}

/// Writes the `k_w` column-shifted copies of one image (`[C_in, H, W]`) into
/// `copies` as `[k_w·C_in, H·W_out]` (row `j·C_in + c` the copy `j` of channel
/// `c`), every element (through the ReLU, when fused).
fn write_copies(geometry: &Geometry, image: &[f32], copies: &mut Vec<f32>) {
    let (c_in, height, width) = (geometry.c_in, geometry.height, geometry.width);
    let out_w = geometry.out[1];
    let plane = height * out_w;
    let k_w = geometry.kernel[1];
    copies.resize(k_w * c_in * plane, 0.0);
    for j in 0..k_w {
        let (x_lo, x_hi) = geometry.valid(1, j);
        let block = &mut copies[j * c_in * plane..][..c_in * plane];
        if block.is_empty() {
            continue;
        }
        if x_lo >= x_hi {
            block.fill(0.0);
            continue;
        }
        let ix0 = x_lo + j * geometry.dilation[1] - geometry.padding[1];
        if out_w == width {
            // Rows as wide as the input: the copy is the whole image shifted
            // by a constant, one move from its first valid element to its
            // last, then the columns that wrapped around from the neighbouring
            // rows (and channels) zeroed.
            let (begin, end) = (x_lo, (c_in * height - 1) * out_w + x_hi);
            geometry.copy_input(&mut block[begin..end], &image[ix0..][..end - begin]);
            // Every row's columns outside `x_lo..x_hi`, the block's first
            // `begin` and last `out_w − x_hi` elements among them.
            zero_columns(block, out_w, 0..c_in * height, x_lo, x_hi);
            continue;
        }
        for c in 0..c_in {
            let source = &image[c * height * width..][..height * width];
            let target = &mut block[c * plane..][..plane];
            for (iy, row) in target.chunks_exact_mut(out_w).enumerate() {
                row[..x_lo].fill(0.0);
                row[x_hi..].fill(0.0);
                geometry.copy_input(
                    &mut row[x_lo..x_hi],
                    &source[iy * width + ix0..][..x_hi - x_lo],
                );
            }
        }
    }
}

/// The weight gradient `[C_out, C_in, k_h, k_w]` of a stride-1 convolution from
/// `x` (`[B, C_in, H, W]`) and `dy` (`[B, C_out, H_out, W_out]`), both
/// contiguous: per image and kernel row `ky`, `dW_ky[C_out, k_w·C_in] +=
/// dY[C_out, lo·W_out..hi·W_out] × X_kyᵀ`, the same windows of the same copies
/// as [`forward`] (only the real outputs' gradients); the images summed in
/// [`WEIGHT_GRADIENT_PARTS`](super::WEIGHT_GRADIENT_PARTS) groups, as every
/// weight gradient here.
pub(super) fn weight_grad(geometry: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (c_in, c_out) = (geometry.c_in, geometry.c_out);
    let [k_h, k_w] = geometry.kernel;
    let [out_h, out_w] = geometry.out;
    let depth = k_w * c_in;
    let kernel_rows = kernel_rows(geometry);
    let total = geometry.sum_over_tiles(
        &super::tiles(geometry.batch, 1),
        k_h * c_out * depth,
        |buffers, (first, count), sum, threads| {
            for image in first..first + count {
                let Buffers {
                    columns: copies,
                    staged,
                } = buffers;
                write_copies(
                    geometry,
                    &x[image * geometry.image_in()..][..geometry.image_in()],
                    copies,
                );
                let grads = &dy[image * geometry.image_out()..][..geometry.image_out()];
                // The image's output gradient position-major, `[H_out·W_out, C_out]`.
                staged.resize(geometry.image_out(), 0.0);
                let n = out_h * out_w;
                super::shifted::transpose_rows(staged, c_out, |o| &grads[o * n..][..n]);
                for &(ky, lo, hi) in &kernel_rows {
                    let columns = (hi - lo) * out_w;
                    // `[C_out, k_w·C_in]`, column-major.
                    let dw_ky = MatrixMut::new(
                        &mut sum[ky * c_out * depth..][..c_out * depth],
                        c_out,
                        depth,
                        1,
                        c_out,
                    )
                    .expect("[C_out, k_w·C_in]");
                    let dy_rows =
                        Matrix::new(&staged[lo * out_w * c_out..], c_out, columns, 1, c_out)
                            .expect("the output gradient's rows");
                    let window = copies_window(geometry, copies, (ky, lo, hi)).transposed();
                    gemm(dw_ky, true, dy_rows, window, threads)
                        .expect("[C_out, rows·W_out] × [rows·W_out, k_w·C_in]");
                }
            }
        },
    );
    geometry.weight_from(&total, |o, c, ky, j| {
        (ky * depth + j * c_in + c) * c_out + o
    })
}

/// Kernel row `ky`'s window of one image's copies (from [`write_copies`]) for
/// the output rows `lo..hi`: `[k_w·C_in, (hi − lo)·W_out]`, from input row
/// `lo + ky·d_h − top` on, row stride `H·W_out`.
fn copies_window<'a>(
    geometry: &Geometry,
    copies: &'a [f32],
    (ky, lo, hi): (usize, usize, usize),
) -> Matrix<'a> {
    let out_w = geometry.out[1];
    let first_row = lo + ky * geometry.dilation[0] - geometry.padding[0];
    Matrix::new(
        &copies[first_row * out_w..],
        geometry.kernel[1] * geometry.c_in,
        (hi - lo) * out_w,
        geometry.height * out_w,
        1,
    )
    .expect("the copies' window")
}

/// The kernel rows that reach the input, each with the output rows it reaches,
/// `(ky, lo, hi)`; one that reaches every output row (if any) first.
fn kernel_rows(geometry: &Geometry) -> Vec<(usize, usize, usize)> {
    let mut rows: Vec<(usize, usize, usize)> = (0..geometry.kernel[0])
        .map(|ky| {
            let (lo, hi) = geometry.valid(0, ky);
            (ky, lo, hi)
        })
        .filter(|&(_, lo, hi)| lo < hi)
        .collect();
    rows.sort_by_key(|&(_, lo, hi)| (lo, std::cmp::Reverse(hi)));
    rows
}
