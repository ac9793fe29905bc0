//! Stride-1 convolutions without a column matrix: GEMMs over shifted windows
//! of the padded input, one per kernel row.
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
//! * forward: the padded input is written `k_w` times, copy `j` shifted left by
//!   `j·d_w` positions, so that the `k_w` taps of a kernel row read one window
//!   of the copies, `[k_w·C_in, Q]`; then `Y[C_out, Q] = Σ_ky W_ky[C_out,
//!   k_w·C_in] × X_ky[k_w·C_in, Q]`, one GEMM per kernel row accumulating into
//!   the same tile, and the real positions copied to the NCHW output. Each
//!   input element is written `k_w` times per tile (not `k_h·k_w` times, as a
//!   column matrix is), and the GEMMs read the windows in place.
//! * weight gradient: `dW_tap[C_out, C_in] += dY[C_out, Q] × X_shiftedᵀ[Q, C_in]`,
//!   with `dY` laid out position-major (`[Q, C_out]`, zeros at the padding
//!   positions, so that they add nothing), the layout the GEMM kernels read
//!   without repacking; the taps of a kernel row share one GEMM, `k_w·C_out`
//!   rows tall, over one window of the input and `k_w` shifted views of `dY`
//!   (at `d_w = 1`; one GEMM per tap otherwise).
//!
//! The padding positions cost extra products: `(rows·pitch)/(H_out·W_out)` − 1,
//! 6 % at 32×32 with padding 1, 27 % at 8×8.

use super::{Buffers, Geometry, tiles, with_buffers, zeroed};
use metanas_gemm::{Matrix, MatrixMut, Threads, gemm};
use rayon::prelude::*;

/// The most elements one tile's buffers may hold together (1 MiB of `f32`, a
/// tile holds at least one image): the padded input (`k_w` copies of it in
/// the forward), and the output (forward) or output gradient (weight gradient).
pub const MAX_TILE_ELEMENTS: usize = 1 << 18;

/// Batches of at least this many images are cut into at least this many tiles,
/// so that the threads share the work evenly (a fixed number, not the thread
/// count: the tiles set the order of the weight gradient's sums).
pub const MIN_TILES: usize = 8;

/// The most products per real output position and input row that the padding
/// positions may add for a stride-1 forward with no more input than output
/// channels to take the shifted windows: `(rows·pitch − H_out·W_out)·C_out ≤
/// 4·H_out·W_out`, with `rows·pitch` the padded positions per image. Measured with
/// `cargo run --release -p metanas-conv --example conv_timing` (batch 64, 3×3,
/// C → C): at 16 ch 32×32 (1 product) the shifted windows are faster, at
/// 32 ch 16×16 (4) the two are even, at 64 ch 8×8 (17) the column matrix is
/// faster.
pub const MAX_PADDING_PRODUCTS: usize = 4;

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
        let per_image =
            layout.image_positions() * (geometry.kernel[1] * geometry.c_in + geometry.c_out);
        let tile = (MAX_TILE_ELEMENTS / per_image.max(1))
            .min(geometry.batch.div_ceil(MIN_TILES))
            .max(1);
        Some(Self { tile, ..layout })
    }

    /// Whether the forward (and the stride-1 input gradient, a forward) should
    /// take the shifted windows rather than a column matrix: always when the
    /// input is the wider side (the column matrix would copy it `k_h·k_w`
    /// times), otherwise when the padding positions add at most
    /// [`MAX_PADDING_PRODUCTS`] products per real output position and input row
    /// (`(rows·pitch − H_out·W_out)·C_out ≤ 4·H_out·W_out`). With many output
    /// channels the column matrix's copies are cheap beside its GEMM, and the
    /// padding positions' wasted products are not.
    pub(super) fn forward_pays(&self, geometry: &Geometry) -> bool {
        let (real, padded) = (geometry.positions(), self.image_positions());
        geometry.c_in > geometry.c_out
            || (padded - real) * geometry.c_out <= MAX_PADDING_PRODUCTS * real
    }

    /// Positions per image, `rows·pitch`.
    fn image_positions(&self) -> usize {
        self.rows * self.pitch
    }

    /// Where row `y` of image `t` of a tile starts among the tile's positions:
    /// its first output there, and its first input pixel `lead` further on.
    fn row_position(&self, t: usize, y: usize) -> usize {
        t * self.image_positions() + y * self.pitch
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
    /// into `padded` as `copies` blocks of `[C, length]`, zeros around them:
    /// block `j` is the padded input shifted left by `j·d_w` positions (its
    /// position `p` holds the padded input's `p + j·d_w`), written as a copy of
    /// block 0, so that the input (and its ReLU, when fused) is read once.
    fn pad(
        &self,
        geometry: &Geometry,
        images: &[f32],
        count: usize,
        copies: usize,
        padded: &mut Vec<f32>,
    ) {
        let (channels, length) = (geometry.c_in, self.channel_length(geometry, count));
        let (height, width) = (geometry.height, geometry.width);
        // Every element is written below, each block in order: the pixels, and
        // zeros in the gaps between them (no clearing of the whole buffer first).
        padded.resize(copies * channels * length, 0.0);
        let (first, others) = padded[..copies * channels * length].split_at_mut(channels * length);
        for (c, block) in first.chunks_mut(length).enumerate() {
            let mut written = 0;
            for t in 0..count {
                let plane = &images[(t * channels + c) * height * width..][..height * width];
                for (y, row) in plane.chunks(width).enumerate() {
                    let at = self.lead + self.row_position(t, y);
                    zero(&mut block[written..at]);
                    geometry.copy_input(&mut block[at..][..width], row);
                    written = at + width;
                }
            }
            zero(&mut block[written..]);
        }
        // Copy `j` is the first one shifted left by `j·d_w`: one move per
        // channel, zeros after it (the padded input's zeros beyond its end).
        for (index, block) in others.chunks_mut(length).enumerate() {
            let (copy, c) = (index / channels + 1, index % channels);
            let shift = (copy * geometry.dilation[1]).min(length);
            let source = &first[c * length..][shift..length];
            block[..length - shift].copy_from_slice(source);
            zero(&mut block[length - shift..]);
        }
    }

    /// The output `[B, C_out, H_out, W_out]` of `x` and `weight`, both contiguous.
    pub(super) fn forward(&self, geometry: &Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
        let image_out = geometry.image_out();
        let mut y = zeroed(geometry.batch * image_out);
        if y.is_empty() {
            return y;
        }
        let threads = geometry.threads(geometry.batch.div_ceil(self.tile));
        let rows = row_major_taps(geometry, weight);
        y.par_chunks_mut(self.tile * image_out)
            .enumerate()
            .for_each(|(index, out)| {
                with_buffers(|Buffers { columns, staged }| {
                    let (first, count) = (index * self.tile, out.len() / image_out);
                    let images = &x[first * geometry.image_in()..][..count * geometry.image_in()];
                    self.pad(geometry, images, count, geometry.kernel[1], columns);
                    let positions = self.positions(count);
                    staged.resize(geometry.c_out * positions, 0.0);
                    self.forward_tile(geometry, &rows, columns, count, staged, threads);
                    self.unpad_output(geometry, staged, count, out);
                })
            });
        y
    }

    /// `Y[C_out, Q] = Σ_ky W_ky × X_ky` for one tile: for kernel row `ky`,
    /// `W_ky` is `[C_out, k_w·C_in]` (column `j·C_in + c` the weight of tap
    /// `(ky, j)` on channel `c`), and `X_ky` the `k_w` shifted copies of the
    /// padded input, `[k_w·C_in, Q]`, read from `ky·d_h` rows down.
    fn forward_tile(
        &self,
        geometry: &Geometry,
        rows: &[f32],
        copies: &[f32],
        count: usize,
        staged: &mut [f32],
        threads: Threads,
    ) {
        let (depth, c_out) = (geometry.kernel[1] * geometry.c_in, geometry.c_out);
        let (positions, length) = (self.positions(count), self.channel_length(geometry, count));
        for ky in 0..geometry.kernel[0] {
            let w = Matrix::row_major(&rows[ky * c_out * depth..][..c_out * depth], c_out, depth)
                .expect("a kernel row's weight is [C_out, k_w·C_in]");
            let window = Matrix::new(
                &copies[self.shift(geometry, ky, 0)..],
                depth,
                positions,
                length,
                1,
            )
            .expect("the shifted window lies inside the padded copies");
            let y = MatrixMut::row_major(staged, c_out, positions).expect("[C_out, Q]");
            gemm(y, ky > 0, w, window, threads).expect("[C_out, k_w·C_in] × [k_w·C_in, Q]");
        }
    }

    /// Copies a tile's real output positions from `staged` (`[C_out, Q]`) to
    /// `out` (`[count, C_out, H_out, W_out]`).
    fn unpad_output(&self, geometry: &Geometry, staged: &[f32], count: usize, out: &mut [f32]) {
        let positions = self.positions(count);
        let [out_h, out_w] = geometry.out;
        for (t, image) in out.chunks_mut(geometry.image_out()).enumerate() {
            for (o, plane) in image.chunks_mut(out_h * out_w).enumerate() {
                for (y, row) in plane.chunks_mut(out_w).enumerate() {
                    let at = o * positions + self.row_position(t, y);
                    row.copy_from_slice(&staged[at..][..out_w]);
                }
            }
        }
    }

    /// The weight gradient `[C_out, C_in, k_h, k_w]` from `x` and `dy`, both
    /// contiguous; summed over the tiles by [`Geometry::sum_over_tiles`].
    pub(super) fn weight_grad(&self, geometry: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let (c_in, c_out) = (geometry.c_in, geometry.c_out);
        let [k_h, k_w] = geometry.kernel;
        let rows = k_w * c_out;
        // Per kernel row `ky`, a `[k_w·C_out, C_in]` sum, column-major, its row
        // `(k_w − 1 − kx)·C_out + o` tap `(ky, kx)`'s output channel `o`.
        let total = geometry.sum_over_tiles(
            &self.tiles(geometry.batch),
            k_h * c_in * rows,
            |Buffers { columns, staged }, (first, count), sum, threads| {
                let images = &x[first * geometry.image_in()..][..count * geometry.image_in()];
                self.pad(geometry, images, count, 1, columns);
                let grads = &dy[first * geometry.image_out()..][..count * geometry.image_out()];
                self.position_major(geometry, grads, count, staged);
                self.add_weight_grad_tile(geometry, columns, staged, count, sum, threads);
            },
        );
        geometry.weight_from(&total, |o, c, ky, kx| {
            (ky * c_in + c) * rows + (k_w - 1 - kx) * c_out + o
        })
    }

    /// Zero positions before and after the output gradient's positions in its
    /// position-major layout, `(k_w − 1)·d_w`: the reach of a kernel row's taps.
    fn margin(&self, geometry: &Geometry) -> usize {
        (geometry.kernel[1] - 1) * geometry.dilation[1]
    }

    /// Writes the output gradients of `count` images (`[count, C_out, H_out,
    /// W_out]`) into `staged` as `[margin + Q + margin, C_out]`, zeros at the
    /// padding positions and in the margins.
    fn position_major(
        &self,
        geometry: &Geometry,
        grads: &[f32],
        count: usize,
        staged: &mut Vec<f32>,
    ) {
        let c_out = geometry.c_out;
        let [out_h, out_w] = geometry.out;
        let margin = self.margin(geometry);
        let plane = out_h * out_w;
        // Every element is written below, in order: each output row's
        // `[W_out, C_out]` block, and zeros in the gaps between the blocks.
        let length = (self.positions(count) + 2 * margin) * c_out;
        staged.resize(length, 0.0);
        let staged = &mut staged[..length];
        let mut written = 0;
        for (t, image) in grads.chunks(geometry.image_out()).enumerate() {
            for y in 0..out_h {
                let line = (margin + self.row_position(t, y)) * c_out;
                zero(&mut staged[written..line]);
                let block = &mut staged[line..][..out_w * c_out];
                transpose_rows(block, c_out, |o| &image[o * plane + y * out_w..][..out_w]);
                written = line + out_w * c_out;
            }
        }
        zero(&mut staged[written..]);
    }

    /// Adds one tile's weight gradient to the sums of [`Self::weight_grad`].
    /// With `q' = q + kx·d_w`, tap `(ky, kx)`'s gradient is `Σ_q' dY[q' −
    /// kx·d_w] X[q' + ky·d_h·pitch]`: every tap of a kernel row reads the same
    /// window of the input, and the output gradient shifted by `kx·d_w`
    /// positions, which in the position-major layout is `kx·d_w·C_out`
    /// elements. At `d_w = 1` the `k_w` taps' shifted gradients are then one
    /// `[k_w·C_out, Q + margin]` view of the layout (row stride 1, column
    /// stride `C_out`), and the kernel row is one GEMM, `k_w·C_out` rows tall;
    /// at other dilations, one GEMM per tap.
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
        let [k_h, k_w] = geometry.kernel;
        let (margin, dilation) = (self.margin(geometry), geometry.dilation[1]);
        let (depth, rows) = (positions + margin, k_w * c_out);
        let group = if dilation == 1 { k_w } else { 1 };
        for ky in 0..k_h {
            let window = Matrix::new(
                &padded[self.shift(geometry, ky, 0)..],
                depth,
                c_in,
                1,
                length,
            )
            .expect("the shifted window lies inside the padded tile");
            let block = &mut sum[ky * c_in * rows..][..c_in * rows];
            for first in (0..k_w).step_by(group) {
                // Taps `first..first + group`; the last one's rows come first.
                let last = first + group - 1;
                let dy = Matrix::new(
                    &grads[(margin - last * dilation) * c_out..],
                    group * c_out,
                    depth,
                    1,
                    c_out,
                )
                .expect("the shifted output gradients lie inside the layout");
                let dw = MatrixMut::new(
                    &mut block[(k_w - 1 - last) * c_out..],
                    group * c_out,
                    c_in,
                    1,
                    rows,
                )
                .expect("the taps' rows of the kernel row's sum");
                gemm(dw, true, dy, window, threads).expect("[g·C_out, Q'] × [Q', C_in]");
            }
        }
    }
}

/// Writes `channels` rows of `width` values (`row(o)`, each `width` long) into
/// `block` (`[width, channels]`) transposed: `block[x·channels + o] = row(o)[x]`.
/// Eight rows at a time, so that each position's eight values are one
/// contiguous store and the eight rows are read as sequential streams.
pub(super) fn transpose_rows<'a>(
    block: &mut [f32],
    channels: usize,
    row: impl Fn(usize) -> &'a [f32],
) {
    const ROWS: usize = 8;
    let width = block.len() / channels.max(1);
    let mut first = 0;
    while first + ROWS <= channels {
        let rows: [&[f32]; ROWS] = std::array::from_fn(|i| &row(first + i)[..width]);
        for (x, slots) in block.chunks_exact_mut(channels).enumerate() {
            for (slot, values) in slots[first..first + ROWS].iter_mut().zip(&rows) {
                *slot = values[x];
            }
        }
        first += ROWS;
    }
    for o in first..channels {
        for (slot, value) in block[o..].iter_mut().step_by(channels).zip(row(o)) {
            *slot = *value;
        }
    }
}

/// Zeroes `values`: a single element by a store (the one-element gap after
/// each row of a padding-1 layout), longer runs by `fill`.
fn zero(values: &mut [f32]) {
    match values {
        [] => {}
        [value] => *value = 0.0,
        _ => values.fill(0.0),
    }
}

/// The weight `[C_out, C_in, k_h, k_w]` as one `[C_out, k_w·C_in]` matrix per
/// kernel row `ky`, column `j·C_in + c` holding `w[o, c, ky, j]`.
pub(super) fn row_major_taps(geometry: &Geometry, weight: &[f32]) -> Vec<f32> {
    let (c_in, c_out) = (geometry.c_in, geometry.c_out);
    let [k_h, k_w] = geometry.kernel;
    let mut out = vec![0.0f32; weight.len()];
    for o in 0..c_out {
        for c in 0..c_in {
            for ky in 0..k_h {
                for j in 0..k_w {
                    out[((ky * c_out + o) * k_w + j) * c_in + c] =
                        weight[((o * c_in + c) * k_h + ky) * k_w + j];
                }
            }
        }
    }
    out
}
