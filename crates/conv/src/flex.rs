//! The op on burn-flex: GEMM kernels in safe Rust over [`metanas_gemm`] (the
//! GEMM kernels flex's matmul runs), parallel over tiles of the batch; and the
//! other compiled backends' default bodies.
//!
//! For `x` `[B, C_in, H, W]`, `weight` `[C_out, C_in, k_h, k_w]`, with
//! `K = C_in·k_h·k_w` and `N = H_out·W_out`, over tiles of `T` images, the
//! tiles shared among rayon's threads, each with buffers it keeps between calls
//! (each product on one thread; one product on all threads when the batch is a
//! single tile):
//! * forward, by im2col: `col_t[K, T·N]`, then `Y_t[C_out, T·N] = W[C_out, K] ×
//!   col_t[K, T·N]`, one product per tile (`[C_out, T·N]`, then each image's
//!   rows moved to their NCHW place; a one-image tile is written in place);
//!   tiles of as many images as [`MAX_COLUMN_ELEMENTS`] allows;
//! * at stride 1 with a kernel wider than one column and at least
//!   [`MIN_ROW_COPY_CHANNELS`] output channels (and, for the forward, fewer
//!   than `k_w·C_in`): the forward and the weight gradient one image at a
//!   time, one GEMM per kernel row over `k_w` column-shifted copies of the
//!   image, only the real outputs computed (the [`row_copies`] module);
//! * otherwise, forward at stride 1 with more input than output channels, or
//!   with few padding positions for its output channels
//!   ([`MAX_PADDING_PRODUCTS`]): one GEMM per kernel row over a shifted window
//!   of `k_w` shifted copies of the padded input; the weight gradient at stride
//!   1: one GEMM per kernel row (per tap at a dilated kernel row) over a
//!   shifted window of the padded input and shifted views of the output
//!   gradient; no column matrix (the [`shifted`] module);
//! * weight gradient at other strides: `dW[C_out, K] = Σ_tiles dY_t[C_out, T·N]
//!   × col_tᵀ[T·N, K]` (the tile's output gradients gathered into one matrix);
//!   every weight gradient is summed over the tiles in [`WEIGHT_GRADIENT_PARTS`]
//!   consecutive groups (a fixed number, so the order of the sum, and every bit
//!   of the result, does not depend on the number of threads), the groups' sums
//!   then added in order, in parallel over the elements (the groups' sums live
//!   in a buffer the calling thread keeps between calls: fresh memory costs a
//!   page fault per 4 KiB);
//! * input gradient at stride 1: the forward on `dY` with the kernel flipped
//!   and its input and output channels swapped (a "full" convolution: depth
//!   `C_out·k_h·k_w` instead of `C_out`, no scatter); at other strides
//!   `dcol_t[K, T·N] = Wᵀ[K, C_out] × dY_t[C_out, T·N]`, then col2im.
//!
//! With the ReLU fused ([`crate::relu_conv2d`]), the input is read through
//! `max(x, 0)` as it is laid out for the GEMMs (im2col, padding or the
//! column-shifted copies), and the
//! input gradient is zeroed where `x ≤ 0`, in parallel, after it is computed.
//!
//! Grouped convolutions and other float types take flex's own convolution
//! (after Burn's ReLU, when fused).

use crate::ops::{ConvOps, burn_conv2d, burn_conv2d_weight_grad, burn_conv2d_x_grad};
use burn::backend::flex::FlexTensor;
#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
use burn::backend::{Cube, Flex, NdArray};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, TensorData};
use metanas_gemm::{Matrix, MatrixMut, Threads, gemm};
use rayon::prelude::*;
use std::cell::RefCell;

mod row_copies;
mod shifted;

pub use row_copies::MIN_ROW_COPY_CHANNELS;
pub use shifted::{MAX_PADDING_PRODUCTS, MAX_TILE_ELEMENTS, MIN_TILES};

/// The most elements one tile's column matrix may hold (512 KiB of `f32`; a
/// tile holds at least one image). Small tiles stay in cache between im2col and
/// the GEMM, and each thread reuses its buffer from tile to tile.
pub const MAX_COLUMN_ELEMENTS: usize = 1 << 17;

/// The weight gradient is summed in this many groups of consecutive tiles (or
/// fewer, when there are fewer tiles), whatever the number of threads.
pub const WEIGHT_GRADIENT_PARTS: usize = 16;

/// A thread's working memory, reused from tile to tile and from call to call.
#[derive(Default)]
struct Buffers {
    /// The tile's column matrix `[K, T·N]` (im2col writes every element, so it
    /// is never cleared; it grows to at most [`MAX_COLUMN_ELEMENTS`] or one
    /// image's columns), or its padded input (`shifted`), or one image's
    /// column-shifted copies (`row_copies`).
    columns: Vec<f32>,
    /// A tile's `[C_out, T·N]` product or output gradient, when the tile holds
    /// more than one image; or its product at every padded position, or its
    /// output gradient position-major (`shifted`; one image's, `row_copies`).
    staged: Vec<f32>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = const {
        RefCell::new(Buffers { columns: Vec::new(), staged: Vec::new() })
    };
}

/// Runs `f` with this thread's buffers (fresh ones if the thread's are in use
/// further up its stack, as when a pool thread steals another tile while
/// waiting).
fn with_buffers<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
    BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffers) => f(&mut buffers),
        Err(_) => f(&mut Buffers::default()),
    })
}

/// The most elements of a weight gradient's partial sums a thread keeps
/// between calls (16 MiB of `f32`); larger ones are allocated for the call.
const MAX_KEPT_PARTIAL_SUMS: usize = 1 << 22;

thread_local! {
    /// The partial sums of the weight gradients this thread asks for, kept
    /// between calls (fresh pages cost a fault each, and these are written
    /// anew by every backward pass).
    static PARTIAL_SUMS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `len` elements of scratch for partial sums (their values
/// unspecified): this thread's kept buffer, or a fresh one if that one is in
/// use further up the stack or `len` is above [`MAX_KEPT_PARTIAL_SUMS`].
fn with_partial_sums<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    if len > MAX_KEPT_PARTIAL_SUMS {
        return f(&mut vec![0.0; len]);
    }
    PARTIAL_SUMS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut kept) => {
            if kept.len() < len {
                kept.resize(len, 0.0);
            }
            f(&mut kept[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// The element-wise sum of the consecutive `length`-element parts of
/// `partial_sums`, added in their order (`((p₀ + p₁) + p₂) + …` for every
/// element, whatever the number of threads), in parallel over the elements.
fn add_in_order(partial_sums: &[f32], length: usize) -> Vec<f32> {
    const CHUNK: usize = 1 << 12;
    let mut total = partial_sums[..length].to_vec();
    total
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(index, chunk)| {
            let offset = index * CHUNK;
            for part in partial_sums.chunks_exact(length).skip(1) {
                for (sum, value) in chunk.iter_mut().zip(&part[offset..]) {
                    *sum += *value;
                }
            }
        });
    total
}

#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
impl ConvOps for NdArray {}

impl ConvOps for Cube {}

impl ConvOps for Flex {
    fn metanas_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FlexTensor {
        match Geometry::of(&x, &weight, &options, relu_input) {
            Some(geometry) => {
                let (x, weight) = (contiguous(&x), contiguous(&weight));
                let y = geometry.forward(values(&x), values(&weight));
                tensor(
                    y,
                    [
                        geometry.batch,
                        geometry.c_out,
                        geometry.out[0],
                        geometry.out[1],
                    ],
                )
            }
            None => burn_conv2d::<Flex>(x, weight, options, relu_input),
        }
    }

    fn metanas_conv2d_x_grad(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FlexTensor {
        match Geometry::of(&x, &weight, &options, relu_input) {
            Some(geometry) => {
                let (weight, dy) = (contiguous(&weight), contiguous(&output_grad));
                let mut dx = geometry.x_grad(values(&weight), values(&dy));
                if relu_input {
                    relu_mask(&mut dx, values(&contiguous(&x)));
                }
                tensor(
                    dx,
                    [
                        geometry.batch,
                        geometry.c_in,
                        geometry.height,
                        geometry.width,
                    ],
                )
            }
            None => burn_conv2d_x_grad::<Flex>(x, weight, output_grad, options, relu_input),
        }
    }

    fn metanas_conv2d_weight_grad(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
        relu_input: bool,
    ) -> FlexTensor {
        match Geometry::of(&x, &weight, &options, relu_input) {
            Some(geometry) => {
                let (x, dy) = (contiguous(&x), contiguous(&output_grad));
                let dw = geometry.weight_grad(values(&x), values(&dy));
                let [k_h, k_w] = geometry.kernel;
                tensor(dw, [geometry.c_out, geometry.c_in, k_h, k_w])
            }
            None => burn_conv2d_weight_grad::<Flex>(x, weight, output_grad, options, relu_input),
        }
    }
}

/// The tiles of `tile` images that cover a batch, as `(first image, images)`.
fn tiles(batch: usize, tile: usize) -> Vec<(usize, usize)> {
    (0..batch)
        .step_by(tile)
        .map(|first| (first, tile.min(batch - first)))
        .collect()
}

/// `len` zeros, written by rayon's threads: an output buffer that the kernels
/// then fill, zeroed in parallel rather than by one `memset` on the calling
/// thread while the pool waits.
fn zeroed(len: usize) -> Vec<f32> {
    let mut values = Vec::with_capacity(len);
    values.par_extend(rayon::iter::repeat_n(0.0f32, len));
    values
}

/// Zeroes the columns outside `x_lo..x_hi` of the rows `rows` of a plane with
/// rows `width` long: a column at a time, so that the one or two elements per
/// row are stores, not a `memset` call each.
fn zero_columns(
    plane: &mut [f32],
    width: usize,
    rows: std::ops::Range<usize>,
    x_lo: usize,
    x_hi: usize,
) {
    if rows.is_empty() {
        return;
    }
    let block = &mut plane[rows.start * width..rows.end * width];
    for x in (0..x_lo).chain(x_hi..width) {
        for value in block[x..].iter_mut().step_by(width) {
            *value = 0.0;
        }
    }
}

/// Zeroes the input gradient `dx` where the input `x` (same shape) is not
/// positive: the gradient of the fused ReLU, as Burn's `relu_backward`.
fn relu_mask(dx: &mut [f32], x: &[f32]) {
    const CHUNK: usize = 1 << 14;
    dx.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(grads, inputs)| {
            // A select, not a branch: it vectorises, and the signs are random.
            for (grad, input) in grads.iter_mut().zip(inputs) {
                *grad = if *input > 0.0 { *grad } else { 0.0 };
            }
        });
}

/// The sizes of one convolution, checked.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    batch: usize,
    c_in: usize,
    height: usize,
    width: usize,
    c_out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    /// Padding before the first row / column.
    padding: [usize; 2],
    /// Padding after the last row / column.
    padding_end: [usize; 2],
    dilation: [usize; 2],
    out: [usize; 2],
    /// The input is read through a ReLU (`max(x, 0)`).
    relu_input: bool,
}

impl Geometry {
    /// The geometry when this module's kernels apply (`f32`, no groups, sizes that
    /// fit), else `None` (flex's own convolution then runs, and reports errors).
    fn of(
        x: &FlexTensor,
        weight: &FlexTensor,
        options: &ConvOptions<2>,
        relu_input: bool,
    ) -> Option<Self> {
        let (xs, ws) = (x.layout().shape(), weight.layout().shape());
        if options.groups != 1
            || x.dtype() != DType::F32
            || weight.dtype() != DType::F32
            || xs.num_dims() != 4
            || ws.num_dims() != 4
            || xs[1] != ws[1]
        {
            return None;
        }
        let mut out = [0; 2];
        for axis in 0..2 {
            let (size, kernel) = (xs[2 + axis], ws[2 + axis]);
            let (stride, dilation) = (options.stride[axis], options.dilation[axis]);
            let (begin, end) = options.padding[axis];
            if stride == 0 || dilation == 0 || kernel == 0 {
                return None;
            }
            let extent = dilation * (kernel - 1) + 1;
            if size + begin + end < extent {
                return None;
            }
            out[axis] = (size + begin + end - extent) / stride + 1;
        }
        Some(Self {
            batch: xs[0],
            c_in: xs[1],
            height: xs[2],
            width: xs[3],
            c_out: ws[0],
            kernel: [ws[2], ws[3]],
            stride: options.stride,
            padding: [options.padding[0].0, options.padding[1].0],
            padding_end: [options.padding[0].1, options.padding[1].1],
            dilation: options.dilation,
            out,
            relu_input,
        })
    }

    /// Rows of the column matrix, `C_in·k_h·k_w`.
    fn patch(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// Output positions per image, `H_out·W_out`.
    fn positions(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// Elements of one input image, `C_in·H·W`.
    fn image_in(&self) -> usize {
        self.c_in * self.height * self.width
    }

    /// Elements of one output image, `C_out·H_out·W_out`.
    fn image_out(&self) -> usize {
        self.c_out * self.positions()
    }

    /// Images per tile.
    fn tile(&self) -> usize {
        let per_image = (self.patch() * self.positions()).max(1);
        (MAX_COLUMN_ELEMENTS / per_image).clamp(1, self.batch.max(1))
    }

    /// The tiles, as `(first image, images)`.
    fn tiles(&self) -> Vec<(usize, usize)> {
        tiles(self.batch, self.tile())
    }

    /// Each product on one thread when the tiles run in parallel, on all
    /// threads when there is a single tile.
    fn threads(&self, parallel_tasks: usize) -> Threads {
        if parallel_tasks > 1 {
            Threads::One
        } else {
            Threads::All
        }
    }

    /// The convolution that computes this one's input gradient at stride 1: over
    /// `dY` (`C_out` channels of `H_out × W_out`), the kernel flipped, padded so
    /// that its output is `H × W`. `None` at other strides, or when the padding
    /// exceeds the dilated kernel's reach.
    fn flipped(&self) -> Option<Self> {
        if self.stride != [1, 1] {
            return None;
        }
        let mut padding = [0; 2];
        let mut padding_end = [0; 2];
        for axis in 0..2 {
            let reach = self.dilation[axis] * (self.kernel[axis] - 1);
            if self.padding[axis] > reach || self.padding_end[axis] > reach {
                return None;
            }
            padding[axis] = reach - self.padding[axis];
            padding_end[axis] = reach - self.padding_end[axis];
        }
        Some(Self {
            batch: self.batch,
            c_in: self.c_out,
            height: self.out[0],
            width: self.out[1],
            c_out: self.c_in,
            kernel: self.kernel,
            stride: [1, 1],
            padding,
            padding_end,
            dilation: self.dilation,
            out: [self.height, self.width],
            relu_input: false,
        })
    }

    /// The outputs `o` along `axis` whose input index `o·stride + offset·dilation −
    /// padding` lies inside the input, as a range `lo..hi` (possibly empty).
    fn valid(&self, axis: usize, offset: usize) -> (usize, usize) {
        let (stride, size) = (self.stride[axis], [self.height, self.width][axis]);
        let shift = offset * self.dilation[axis];
        let pad = self.padding[axis];
        let lo = if pad > shift {
            (pad - shift).div_ceil(stride)
        } else {
            0
        };
        let hi = if size + pad > shift {
            ((size + pad - shift - 1) / stride + 1).min(self.out[axis])
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// An input value as the convolution reads it (through the ReLU, if fused).
    fn input_value(&self, value: f32) -> f32 {
        if self.relu_input {
            value.max(0.0)
        } else {
            value
        }
    }

    /// Copies input values into a layout for the GEMMs (through the ReLU, if
    /// fused).
    fn copy_input(&self, target: &mut [f32], source: &[f32]) {
        if self.relu_input {
            for (slot, value) in target.iter_mut().zip(source) {
                *slot = if *value > 0.0 { *value } else { 0.0 };
            }
        } else {
            target.copy_from_slice(source);
        }
    }

    /// Writes the column matrix `[K, count·N]` of the `count` images in
    /// `images` (`[count, C_in, H, W]`, contiguous) into `col`, every element.
    fn im2col(&self, images: &[f32], count: usize, col: &mut Vec<f32>) {
        let (n, columns) = (self.positions(), count * self.positions());
        let [k_h, k_w] = self.kernel;
        let out_w = self.out[1];
        let plane = self.height * self.width;
        col.resize(self.patch() * columns, 0.0);
        for c in 0..self.c_in {
            for ky in 0..k_h {
                let (y_lo, y_hi) = self.valid(0, ky);
                for kx in 0..k_w {
                    let (x_lo, x_hi) = self.valid(1, kx);
                    let row = (c * k_h + ky) * k_w + kx;
                    for t in 0..count {
                        let image = &images[(t * self.c_in + c) * plane..][..plane];
                        let target = &mut col[row * columns + t * n..][..n];
                        if x_lo == x_hi {
                            target.fill(0.0);
                            continue;
                        }
                        target[..y_lo * out_w].fill(0.0);
                        target[y_hi * out_w..].fill(0.0);
                        let ix0 = x_lo * self.stride[1] + kx * self.dilation[1] - self.padding[1];
                        if self.stride == [1, 1] && out_w == self.width && y_lo < y_hi {
                            // Rows as wide as the input, stride 1: the valid block is
                            // the image shifted by a constant, so one copy from its
                            // first valid element to its last; then the columns that
                            // wrapped around from the neighbouring rows are zeroed.
                            let iy0 = y_lo + ky * self.dilation[0] - self.padding[0];
                            let begin = y_lo * out_w + x_lo;
                            let end = (y_hi - 1) * out_w + x_hi;
                            let source = &image[iy0 * self.width + ix0..][..end - begin];
                            self.copy_input(&mut target[begin..end], source);
                            zero_columns(target, out_w, y_lo..y_hi, x_lo, x_hi);
                            continue;
                        }
                        zero_columns(target, out_w, y_lo..y_hi, x_lo, x_hi);
                        for oy in y_lo..y_hi {
                            let iy = oy * self.stride[0] + ky * self.dilation[0] - self.padding[0];
                            let source = &image[iy * self.width..][..self.width];
                            let line = &mut target[oy * out_w..][..out_w];
                            if self.stride[1] == 1 {
                                self.copy_input(
                                    &mut line[x_lo..x_hi],
                                    &source[ix0..ix0 + (x_hi - x_lo)],
                                );
                            } else {
                                for (slot, ix) in line[x_lo..x_hi]
                                    .iter_mut()
                                    .zip((ix0..).step_by(self.stride[1]))
                                {
                                    *slot = self.input_value(source[ix]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the column gradient `[K, count·N]` of `count` images into `dx`
    /// (`[count, C_in, H, W]`).
    fn col2im(&self, dcol: &[f32], count: usize, dx: &mut [f32]) {
        let (n, columns) = (self.positions(), count * self.positions());
        let [k_h, k_w] = self.kernel;
        let plane = self.height * self.width;
        for c in 0..self.c_in {
            for ky in 0..k_h {
                let (y_lo, y_hi) = self.valid(0, ky);
                for kx in 0..k_w {
                    let (x_lo, x_hi) = self.valid(1, kx);
                    if x_lo == x_hi {
                        continue;
                    }
                    let row = (c * k_h + ky) * k_w + kx;
                    let ix0 = x_lo * self.stride[1] + kx * self.dilation[1] - self.padding[1];
                    for t in 0..count {
                        let image = &mut dx[(t * self.c_in + c) * plane..][..plane];
                        let base = row * columns + t * n;
                        for oy in y_lo..y_hi {
                            let iy = oy * self.stride[0] + ky * self.dilation[0] - self.padding[0];
                            let target = &mut image[iy * self.width..][..self.width];
                            let source = &dcol[base + oy * self.out[1]..][x_lo..x_hi];
                            if self.stride[1] == 1 {
                                for (slot, value) in
                                    target[ix0..ix0 + source.len()].iter_mut().zip(source)
                                {
                                    *slot += *value;
                                }
                            } else {
                                for (value, ix) in
                                    source.iter().zip((ix0..).step_by(self.stride[1]))
                                {
                                    target[ix] += *value;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The output `[B, C_out, H_out, W_out]` of `x` (`[B, C_in, H, W]`) and
    /// `weight` (`[C_out, C_in, k_h, k_w]`), both contiguous.
    fn forward(&self, x: &[f32], weight: &[f32]) -> Vec<f32> {
        if self.c_in == 0 {
            // Nothing to sum: zeros (the layouts below assume an input).
            return zeroed(self.batch * self.image_out());
        }
        if row_copies::forward_pays(self) {
            return row_copies::forward(self, x, weight);
        }
        if let Some(layout) = shifted::Layout::of(self)
            && layout.forward_pays(self)
        {
            return layout.forward(self, x, weight);
        }
        let (k, n, image_out) = (self.patch(), self.positions(), self.image_out());
        let mut y = zeroed(self.batch * image_out);
        if y.is_empty() {
            return y;
        }
        let tile = self.tile();
        let threads = self.threads(self.batch.div_ceil(tile));
        let w = Matrix::row_major(weight, self.c_out, k).expect("the weight is [C_out, K]");
        y.par_chunks_mut(tile * image_out)
            .enumerate()
            .for_each(|(index, out)| {
                with_buffers(|buffers| {
                    let (first, count) = (index * tile, out.len() / image_out);
                    let images = &x[first * self.image_in()..][..count * self.image_in()];
                    self.im2col(images, count, &mut buffers.columns);
                    let col = Matrix::row_major(&buffers.columns, k, count * n)
                        .expect("the tile's columns");
                    if count == 1 {
                        let y = MatrixMut::row_major(out, self.c_out, n).expect("[C_out, N]");
                        gemm(y, false, w, col, threads).expect("[C_out, K] × [K, N]");
                        return;
                    }
                    // One product for the tile, `[C_out, T·N]`, then each image's
                    // rows moved to their place in the NCHW output.
                    let staged = &mut buffers.staged;
                    staged.resize(self.c_out * count * n, 0.0);
                    let y =
                        MatrixMut::row_major(staged, self.c_out, count * n).expect("[C_out, T·N]");
                    gemm(y, false, w, col, threads).expect("[C_out, K] × [K, T·N]");
                    self.scatter_tile(staged, count, out);
                })
            });
        y
    }

    /// Moves a tile's product `[C_out, T·N]` into its NCHW place `[T, C_out, N]`.
    fn scatter_tile(&self, staged: &[f32], count: usize, out: &mut [f32]) {
        let n = self.positions();
        for (t, image) in out.chunks_mut(self.image_out()).enumerate() {
            for (o, row) in image.chunks_mut(n).enumerate() {
                row.copy_from_slice(&staged[(o * count + t) * n..][..n]);
            }
        }
    }

    /// The output gradients of the tile `(first, count)` as one `[C_out, T·N]`
    /// matrix: the image's own `[C_out, N]` block of `dy` (NCHW) for a
    /// one-image tile, else the images' rows gathered into `staged`.
    fn output_grad_tile<'s>(
        &self,
        dy: &'s [f32],
        (first, count): (usize, usize),
        staged: &'s mut Vec<f32>,
    ) -> Matrix<'s> {
        let (n, image_out) = (self.positions(), self.image_out());
        let images = &dy[first * image_out..][..count * image_out];
        let values = if count == 1 {
            images
        } else {
            staged.resize(self.c_out * count * n, 0.0);
            for (t, image) in images.chunks(image_out).enumerate() {
                for (o, row) in image.chunks(n).enumerate() {
                    staged[(o * count + t) * n..][..n].copy_from_slice(row);
                }
            }
            &staged[..]
        };
        Matrix::row_major(values, self.c_out, count * n).expect("[C_out, T·N]")
    }

    /// The weight gradient `[C_out, C_in, k_h, k_w]` from `x` and `dy`
    /// (`[B, C_out, H_out, W_out]`), both contiguous.
    fn weight_grad(&self, x: &[f32], dy: &[f32]) -> Vec<f32> {
        if self.c_in == 0 {
            return Vec::new(); // `[C_out, 0, k_h, k_w]`
        }
        if row_copies::weight_grad_pays(self) {
            return row_copies::weight_grad(self, x, dy);
        }
        if let Some(layout) = shifted::Layout::of(self) {
            return layout.weight_grad(self, x, dy);
        }
        self.sum_over_tiles(
            &self.tiles(),
            self.c_out * self.patch(),
            |buffers, tile, sum, threads| self.add_weight_grad(x, dy, tile, buffers, sum, threads),
        )
    }

    /// The sum over `tiles` of what `add_tile` adds for each to a `length`-element
    /// buffer (given the thread's buffers, the tile, the sum and the threads one
    /// product may use): the tiles in [`WEIGHT_GRADIENT_PARTS`] groups of
    /// consecutive tiles (or fewer, when there are fewer tiles) shared among
    /// rayon's threads, each group summed from zero into its part of this
    /// thread's kept buffer ([`with_partial_sums`]), the groups' sums then added
    /// in order ([`add_in_order`]), so that every bit of the result is
    /// independent of the number of threads.
    fn sum_over_tiles(
        &self,
        tiles: &[(usize, usize)],
        length: usize,
        add_tile: impl Fn(&mut Buffers, (usize, usize), &mut [f32], Threads) + Sync,
    ) -> Vec<f32> {
        let parts = WEIGHT_GRADIENT_PARTS.min(tiles.len()).max(1);
        let per_part = tiles.len().div_ceil(parts).max(1);
        let groups = tiles.len().div_ceil(per_part);
        if groups == 0 || length == 0 {
            return vec![0.0; length];
        }
        let threads = self.threads(groups);
        with_partial_sums(groups * length, |partial_sums| {
            partial_sums
                .par_chunks_mut(length)
                .zip(tiles.par_chunks(per_part))
                .for_each(|(sum, group)| {
                    sum.fill(0.0);
                    with_buffers(|buffers| {
                        for &tile in group {
                            add_tile(buffers, tile, sum, threads);
                        }
                    });
                });
            add_in_order(partial_sums, length)
        })
    }

    /// Adds the weight gradient of the tile `(first, count)` of images to `sum`
    /// (`[C_out, K]`): `dY_tile[C_out, T·N] × col_tileᵀ[T·N, K]`, one product.
    fn add_weight_grad(
        &self,
        x: &[f32],
        dy: &[f32],
        (first, count): (usize, usize),
        buffers: &mut Buffers,
        sum: &mut [f32],
        threads: Threads,
    ) {
        let (k, n) = (self.patch(), self.positions());
        let images = &x[first * self.image_in()..][..count * self.image_in()];
        self.im2col(images, count, &mut buffers.columns);
        let col = Matrix::row_major(&buffers.columns, k, count * n)
            .expect("the tile's columns")
            .transposed();
        let dy_tile = self.output_grad_tile(dy, (first, count), &mut buffers.staged);
        let sum = MatrixMut::row_major(sum, self.c_out, k).expect("[C_out, K]");
        gemm(sum, true, dy_tile, col, threads).expect("[C_out, T·N] × [T·N, K]");
    }

    /// The input gradient `[B, C_in, H, W]` from `weight` and `dy`, both contiguous.
    fn x_grad(&self, weight: &[f32], dy: &[f32]) -> Vec<f32> {
        if self.c_in == 0 {
            return Vec::new(); // `[B, 0, H, W]`
        }
        if let Some(flipped) = self.flipped() {
            return flipped.forward(dy, &self.flipped_weight(weight));
        }
        let (k, n, image_in) = (self.patch(), self.positions(), self.image_in());
        let mut dx = zeroed(self.batch * image_in);
        if dx.is_empty() {
            return dx;
        }
        let tile = self.tile();
        let threads = self.threads(self.batch.div_ceil(tile));
        // [K, C_out], a view of the [C_out, K] weight
        let w_t = Matrix::row_major(weight, self.c_out, k)
            .expect("the weight is [C_out, K]")
            .transposed();
        dx.par_chunks_mut(tile * image_in)
            .enumerate()
            .for_each(|(index, dx_tile)| {
                with_buffers(|buffers| {
                    let (first, count) = (index * tile, dx_tile.len() / image_in);
                    let dy_tile = self.output_grad_tile(dy, (first, count), &mut buffers.staged);
                    // Every element is written by the product.
                    let dcol = &mut buffers.columns;
                    dcol.resize(k * count * n, 0.0);
                    let dcol_tile =
                        MatrixMut::row_major(dcol, k, count * n).expect("the tile's columns");
                    gemm(dcol_tile, false, w_t, dy_tile, threads)
                        .expect("[K, C_out] × [C_out, T·N]");
                    self.col2im(dcol, count, dx_tile);
                })
            });
        dx
    }

    /// A weight gradient in Burn's layout `[C_out, C_in, k_h, k_w]` from a sum
    /// laid out otherwise: element `(o, c, ky, kx)` is `sum[index(o, c, ky, kx)]`.
    fn weight_from(
        &self,
        sum: &[f32],
        index: impl Fn(usize, usize, usize, usize) -> usize,
    ) -> Vec<f32> {
        let [k_h, k_w] = self.kernel;
        let mut dw = Vec::with_capacity(sum.len());
        for o in 0..self.c_out {
            for c in 0..self.c_in {
                for ky in 0..k_h {
                    dw.extend((0..k_w).map(|kx| sum[index(o, c, ky, kx)]));
                }
            }
        }
        dw
    }

    /// `[C_in, C_out, k_h, k_w]` with `w'[c, o, y, x] = w[o, c, k_h−1−y, k_w−1−x]`:
    /// the weight of [`Self::flipped`]'s convolution.
    fn flipped_weight(&self, weight: &[f32]) -> Vec<f32> {
        let [k_h, k_w] = self.kernel;
        let mut flipped = vec![0.0f32; weight.len()];
        for o in 0..self.c_out {
            for c in 0..self.c_in {
                for y in 0..k_h {
                    for x in 0..k_w {
                        flipped[((c * self.c_out + o) * k_h + y) * k_w + x] = weight
                            [((o * self.c_in + c) * k_h + (k_h - 1 - y)) * k_w + (k_w - 1 - x)];
                    }
                }
            }
        }
        flipped
    }
}

fn contiguous(t: &FlexTensor) -> FlexTensor {
    if t.is_contiguous() {
        t.clone()
    } else {
        t.to_contiguous()
    }
}

/// The `f32` values of a contiguous tensor.
fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("a contiguous f32 tensor (checked by Geometry::of)")
}

fn tensor(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}
