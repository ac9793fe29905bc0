//! Stride-1 convolutions without a column matrix: each kernel tap is one GEMM
//! over a shifted window of the padded input.
//!
//! A tile of `T` images is laid out once, per channel, as one flat buffer of
//! padded rows: each row `pitch` elements long (the image's `W` pixels, then
//! zeros, at least as many as the left or right padding needs), each image
//! `rows` rows long (its `H` rows, then zero rows, at least as many as the top
//! or bottom padding needs), the images one after the other. The left padding of
//! a row is then the zeros at the end of the row before it, the top padding of an
//! image the zero rows after the image before it. An output position `(t, y, x)`
//! is the flat index `q = (t·rows + y)·pitch + x`, and the input pixel its tap
//! `(ky, kx)` reads lies at `q + ky·d_h·pitch + kx·d_w` (plus a constant
//! lead): a window of the buffer shifted by one number. So, with `Q` positions
//! per tile (the real outputs and the padding positions between them):
//! * forward: `Y[C_out, Q] = Σ_taps W_tap[C_out, C_in] × X_shifted[C_in, Q]`, one
//!   GEMM per tap accumulating into the same tile, then the real positions
//!   copied to the NCHW output. Each input element is written once per tile
//!   (not `k_h·k_w` times, as a column matrix is), and the GEMM reads the windows
//!   in place.
//! * weight gradient: `dW_tap[C_out, C_in] += dY[C_out, Q] × X_shiftedᵀ[Q, C_in]`,
//!   with `dY` laid out position-major (`[Q, C_out]`, zeros at the padding
//!   positions, so that they add nothing), the layout the GEMM kernels read
//!   without repacking.
//!
//! The padding positions cost extra products: `(rows·pitch)/(H_out·W_out)` − 1,
//! 6 % at 32×32 with padding 1, 27 % at 8×8.

use super::{Buffers, Geometry, tiles, with_buffers};
use metanas_gemm::{Matrix, MatrixMut, Threads, gemm};
use rayon::prelude::*;

/// The most elements one tile's buffers may hold together (1 MiB of `f32`, a
/// tile holds at least one image): the padded input, and the output (forward)
/// or output gradient (weight gradient).
pub const MAX_TILE_ELEMENTS: usize = 1 << 18;

/// Batches of at least this many images are cut into at least this many tiles,
/// so that the threads share the work evenly (a fixed number, not the thread
/// count: the tiles set the order of the weight gradient's sums).
pub const MIN_TILES: usize = 8;

/// Where a tile's values lie in its flat per-channel buffers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// Elements per padded row (`W` pixels, then zeros).
    pitch: usize,
    /// Padded rows per image (`H` rows, then zero rows).
    rows: usize,
    /// Zeros before the first image's first pixel (its top and left padding).
    lead: usize,
    /// Images per tile.
    tile: usize,
}

impl Layout {
    /// The layout of a stride-1 convolution, `None` at other strides.
    pub(super) fn of(geometry: &Geometry) -> Option<Self> {
        if geometry.stride != [1, 1] {
            return None;
        }
        let [top, left] = geometry.padding;
        let [bottom, right] = geometry.padding_end;
        // The zeros after a row serve as its right padding and the next row's
        // left padding; the output row must fit in it too.
        let pitch = (geometry.width + left.max(right)).max(geometry.out[1]);
        let rows = (geometry.height + top.max(bottom)).max(geometry.out[0]);
        let layout = Self {
            pitch,
            rows,
            lead: top * pitch + left,
            tile: 1,
        };
        let per_image = layout.image_positions() * (geometry.c_in + geometry.c_out);
        let tile = (MAX_TILE_ELEMENTS / per_image.max(1))
            .min(geometry.batch.div_ceil(MIN_TILES))
            .max(1);
        Some(Self { tile, ..layout })
    }

    /// Positions per image, `rows·pitch`.
    fn image_positions(&self) -> usize {
        self.rows * self.pitch
    }

    /// Positions of a tile of `count` images.
    fn positions(&self, count: usize) -> usize {
        count * self.image_positions()
    }

    /// The furthest shift of a tap.
    fn max_shift(&self, geometry: &Geometry) -> usize {
        self.shift(geometry, geometry.kernel[0] - 1, geometry.kernel[1] - 1)
    }

    /// How far tap `(ky, kx)`'s window lies from position 0.
    fn shift(&self, geometry: &Geometry, ky: usize, kx: usize) -> usize {
        ky * geometry.dilation[0] * self.pitch + kx * geometry.dilation[1]
    }

    /// Elements per channel of a tile's padded input: every position's reach,
    /// and every pixel.
    fn channel_length(&self, geometry: &Geometry, count: usize) -> usize {
        (self.positions(count) + self.max_shift(geometry)).max(self.lead + self.positions(count))
    }

    /// The tiles, as `(first image, images)`.
    fn tiles(&self, batch: usize) -> Vec<(usize, usize)> {
        tiles(batch, self.tile)
    }

    /// Writes the `count` images of `images` (`[count, C, H, W]`, contiguous)
    /// into `padded` as `[C, length]`, zeros around them.
    fn pad(&self, geometry: &Geometry, images: &[f32], count: usize, padded: &mut Vec<f32>) {
        let (channels, length) = (geometry.c_in, self.channel_length(geometry, count));
        let (height, width) = (geometry.height, geometry.width);
        padded.clear();
        padded.resize(channels * length, 0.0);
        for (t, image) in images.chunks(channels * height * width).enumerate() {
            for (c, plane) in image.chunks(height * width).enumerate() {
                let start = c * length + self.lead + t * self.image_positions();
                for (y, row) in plane.chunks(width).enumerate() {
                    geometry.copy_input(&mut padded[start + y * self.pitch..][..width], row);
                }
            }
        }
    }

    /// The output `[B, C_out, H_out, W_out]` of `x` and `weight`, both contiguous.
    pub(super) fn forward(&self, geometry: &Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
        let image_out = geometry.image_out();
        let mut y = vec![0.0f32; geometry.batch * image_out];
        if y.is_empty() {
            return y;
        }
        let threads = geometry.threads(geometry.batch.div_ceil(self.tile));
        let taps = tap_major(geometry, weight);
        y.par_chunks_mut(self.tile * image_out)
            .enumerate()
            .for_each(|(index, out)| {
                with_buffers(|Buffers { columns, staged }| {
                    let (first, count) = (index * self.tile, out.len() / image_out);
                    let images = &x[first * geometry.image_in()..][..count * geometry.image_in()];
                    self.pad(geometry, images, count, columns);
                    let positions = self.positions(count);
                    staged.resize(geometry.c_out * positions, 0.0);
                    self.forward_tile(geometry, &taps, columns, count, staged, threads);
                    self.unpad_output(geometry, staged, count, out);
                })
            });
        y
    }

    /// `Y[C_out, Q] = Σ_taps W_tap × X_shifted` for one tile.
    fn forward_tile(
        &self,
        geometry: &Geometry,
        taps: &[f32],
        padded: &[f32],
        count: usize,
        staged: &mut [f32],
        threads: Threads,
    ) {
        let (c_in, c_out) = (geometry.c_in, geometry.c_out);
        let (positions, length) = (self.positions(count), self.channel_length(geometry, count));
        let [k_h, k_w] = geometry.kernel;
        for ky in 0..k_h {
            for kx in 0..k_w {
                let tap = ky * k_w + kx;
                let w = Matrix::row_major(&taps[tap * c_out * c_in..][..c_out * c_in], c_out, c_in)
                    .expect("a tap's weight is [C_out, C_in]");
                let window = Matrix::new(
                    &padded[self.shift(geometry, ky, kx)..],
                    c_in,
                    positions,
                    length,
                    1,
                )
                .expect("the shifted window lies inside the padded tile");
                let y = MatrixMut::row_major(staged, c_out, positions).expect("[C_out, Q]");
                gemm(y, tap > 0, w, window, threads).expect("[C_out, C_in] × [C_in, Q]");
            }
        }
    }

    /// Copies a tile's real output positions from `staged` (`[C_out, Q]`) to
    /// `out` (`[count, C_out, H_out, W_out]`).
    fn unpad_output(&self, geometry: &Geometry, staged: &[f32], count: usize, out: &mut [f32]) {
        let positions = self.positions(count);
        let [out_h, out_w] = geometry.out;
        for (t, image) in out.chunks_mut(geometry.image_out()).enumerate() {
            for (o, plane) in image.chunks_mut(out_h * out_w).enumerate() {
                let start = o * positions + t * self.image_positions();
                for (y, row) in plane.chunks_mut(out_w).enumerate() {
                    row.copy_from_slice(&staged[start + y * self.pitch..][..out_w]);
                }
            }
        }
    }

    /// The weight gradient `[C_out, C_in, k_h, k_w]` from `x` and `dy`, both
    /// contiguous; summed over the tiles by [`Geometry::sum_over_tiles`].
    pub(super) fn weight_grad(&self, geometry: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let (c_in, c_out) = (geometry.c_in, geometry.c_out);
        let taps = geometry.kernel[0] * geometry.kernel[1];
        // Each tap's `[C_in, C_out]` sum (column-major `[C_out, C_in]`), tap-major.
        let total = geometry.sum_over_tiles(
            &self.tiles(geometry.batch),
            taps * c_in * c_out,
            |Buffers { columns, staged }, (first, count), sum, threads| {
                let images = &x[first * geometry.image_in()..][..count * geometry.image_in()];
                self.pad(geometry, images, count, columns);
                let grads = &dy[first * geometry.image_out()..][..count * geometry.image_out()];
                self.position_major(geometry, grads, count, staged);
                self.add_weight_grad_tile(geometry, columns, staged, count, sum, threads);
            },
        );
        let mut dw = vec![0.0f32; total.len()];
        for tap in 0..taps {
            for c in 0..c_in {
                for o in 0..c_out {
                    dw[(o * c_in + c) * taps + tap] = total[(tap * c_in + c) * c_out + o];
                }
            }
        }
        dw
    }

    /// Writes the output gradients of `count` images (`[count, C_out, H_out,
    /// W_out]`) into `staged` as `[Q, C_out]`, zeros at the padding positions.
    fn position_major(
        &self,
        geometry: &Geometry,
        grads: &[f32],
        count: usize,
        staged: &mut Vec<f32>,
    ) {
        let c_out = geometry.c_out;
        let [out_h, out_w] = geometry.out;
        staged.clear();
        staged.resize(self.positions(count) * c_out, 0.0);
        let plane = out_h * out_w;
        for (t, image) in grads.chunks(geometry.image_out()).enumerate() {
            // Row by row, so that the row's `[W_out, C_out]` block stays in cache
            // while each channel's row is written into it.
            for y in 0..out_h {
                let line = t * self.image_positions() + y * self.pitch;
                let block = &mut staged[line * c_out..][..out_w * c_out];
                for o in 0..c_out {
                    let row = &image[o * plane + y * out_w..][..out_w];
                    for (slot, value) in block[o..].iter_mut().step_by(c_out).zip(row) {
                        *slot = *value;
                    }
                }
            }
        }
    }

    /// Adds one tile's `dY × X_shiftedᵀ` to each tap's sum.
    fn add_weight_grad_tile(
        &self,
        geometry: &Geometry,
        padded: &[f32],
        grads: &[f32],
        count: usize,
        sum: &mut [f32],
        threads: Threads,
    ) {
        let (c_in, c_out) = (geometry.c_in, geometry.c_out);
        let (positions, length) = (self.positions(count), self.channel_length(geometry, count));
        let dy =
            Matrix::new(grads, c_out, positions, 1, c_out).expect("[C_out, Q], position-major");
        let [k_h, k_w] = geometry.kernel;
        for ky in 0..k_h {
            for kx in 0..k_w {
                let tap = ky * k_w + kx;
                let window = Matrix::new(
                    &padded[self.shift(geometry, ky, kx)..],
                    positions,
                    c_in,
                    1,
                    length,
                )
                .expect("the shifted window lies inside the padded tile");
                let dw = MatrixMut::new(
                    &mut sum[tap * c_in * c_out..][..c_in * c_out],
                    c_out,
                    c_in,
                    1,
                    c_out,
                )
                .expect("a tap's [C_out, C_in], column-major");
                gemm(dw, true, dy, window, threads).expect("[C_out, Q] × [Q, C_in]");
            }
        }
    }
}

/// The weight `[C_out, C_in, k_h, k_w]` as one `[C_out, C_in]` matrix per tap.
fn tap_major(geometry: &Geometry, weight: &[f32]) -> Vec<f32> {
    let (c_in, c_out) = (geometry.c_in, geometry.c_out);
    let taps = geometry.kernel[0] * geometry.kernel[1];
    let mut out = vec![0.0f32; weight.len()];
    for o in 0..c_out {
        for c in 0..c_in {
            for tap in 0..taps {
                out[(tap * c_out + o) * c_in + c] = weight[(o * c_in + c) * taps + tap];
            }
        }
    }
    out
}
