//! The op on burn-flex: im2col + GEMM kernels in safe Rust over flex's own
//! (strided, parallel) matmul, and the other compiled backends' default bodies.
//!
//! For `x` `[B, C_in, H, W]`, `weight` `[C_out, C_in, k_h, k_w]`, with
//! `K = C_in·k_h·k_w` and `N = H_out·W_out`, over tiles of `T` images (as many
//! as [`MAX_COLUMN_ELEMENTS`] allows, at least one):
//! * forward: `Y_t[C_out, T·N] = W[C_out, K] × col_t[K, T·N]`, scattered to NCHW;
//! * weight gradient: `dW[C_out, K] = Σ_t dY_t[C_out, T·N] × col_tᵀ[T·N, K]` (one
//!   GEMM per tile, summed);
//! * input gradient: `dcol_t[K, T·N] = Wᵀ[K, C_out] × dY_t[C_out, T·N]`, then col2im.
//!
//! Grouped convolutions and other float types take flex's own convolution.

use crate::ops::ConvOps;
use burn::backend::flex::{FlexTensor, ops::matmul::matmul};
use burn::backend::ops::{FloatTensorOps, ModuleOps};
#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
use burn::backend::{Cube, Flex, NdArray};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Shape, TensorData};

/// The most elements one tile's column matrix may hold (512 KiB of `f32`; a
/// tile holds at least one image). Small tiles stay in cache between im2col and
/// the GEMM, and the allocator reuses their buffers, where buffers of many MiB
/// are fresh pages from the kernel on every call: one GEMM over the whole batch
/// measured slower (page faults and zeroing) than a GEMM per tile.
pub const MAX_COLUMN_ELEMENTS: usize = 1 << 17;

#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
impl ConvOps for NdArray {}

impl ConvOps for Cube {}

impl ConvOps for Flex {
    fn metanas_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        match Geometry::of(&x, &weight, &options) {
            Some(geometry) => geometry.forward(&x, &weight),
            None => Flex::conv2d(x, weight, None, options),
        }
    }

    fn metanas_conv2d_x_grad(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        match Geometry::of(&x, &weight, &options) {
            Some(geometry) => geometry.x_grad(&weight, &output_grad),
            None => Flex::conv2d_x_backward(x, weight, output_grad, options),
        }
    }

    fn metanas_conv2d_weight_grad(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        match Geometry::of(&x, &weight, &options) {
            Some(geometry) => geometry.weight_grad(&x, &output_grad),
            None => Flex::conv2d_weight_backward(x, weight, output_grad, options),
        }
    }
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
    padding: [usize; 2],
    dilation: [usize; 2],
    out: [usize; 2],
}

impl Geometry {
    /// The geometry when this module's kernels apply (`f32`, no groups, sizes that
    /// fit), else `None` (flex's own convolution then runs, and reports errors).
    fn of(x: &FlexTensor, weight: &FlexTensor, options: &ConvOptions<2>) -> Option<Self> {
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
            let extent = dilation * (kernel - 1) + 1;
            if stride == 0 || dilation == 0 || kernel == 0 || size + begin + end < extent {
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
            dilation: options.dilation,
            out,
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

    /// Images per tile.
    fn tile(&self) -> usize {
        let per_image = (self.patch() * self.positions()).max(1);
        (MAX_COLUMN_ELEMENTS / per_image).clamp(1, self.batch.max(1))
    }

    /// The tiles, as `(first image, images)`.
    fn tiles(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (batch, tile) = (self.batch, self.tile());
        (0..batch)
            .step_by(tile)
            .map(move |first| (first, tile.min(batch - first)))
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

    /// The column matrix `[K, count·N]` of images `first..first + count` of `x`
    /// (`[B, C_in, H, W]`, contiguous).
    fn im2col(&self, x: &[f32], first: usize, count: usize) -> Vec<f32> {
        let (n, columns) = (self.positions(), count * self.positions());
        let [k_h, k_w] = self.kernel;
        let plane = self.height * self.width;
        let mut col = vec![0.0f32; self.patch() * columns];
        for c in 0..self.c_in {
            for ky in 0..k_h {
                let (y_lo, y_hi) = self.valid(0, ky);
                for kx in 0..k_w {
                    let (x_lo, x_hi) = self.valid(1, kx);
                    if x_lo == x_hi {
                        continue;
                    }
                    let row = (c * k_h + ky) * k_w + kx;
                    for t in 0..count {
                        let image = &x[((first + t) * self.c_in + c) * plane..][..plane];
                        let base = row * columns + t * n;
                        for oy in y_lo..y_hi {
                            let iy = oy * self.stride[0] + ky * self.dilation[0] - self.padding[0];
                            let source = &image[iy * self.width..][..self.width];
                            let target = &mut col[base + oy * self.out[1]..][..self.out[1]];
                            let ix0 =
                                x_lo * self.stride[1] + kx * self.dilation[1] - self.padding[1];
                            if self.stride[1] == 1 {
                                target[x_lo..x_hi]
                                    .copy_from_slice(&source[ix0..ix0 + (x_hi - x_lo)]);
                            } else {
                                for (slot, ix) in target[x_lo..x_hi]
                                    .iter_mut()
                                    .zip((ix0..).step_by(self.stride[1]))
                                {
                                    *slot = source[ix];
                                }
                            }
                        }
                    }
                }
            }
        }
        col
    }

    /// Adds the column gradient `[K, count·N]` of images `first..first + count`
    /// into `dx` (`[B, C_in, H, W]`).
    fn col2im(&self, dcol: &[f32], first: usize, count: usize, dx: &mut [f32]) {
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
                    for t in 0..count {
                        let image = &mut dx[((first + t) * self.c_in + c) * plane..][..plane];
                        let base = row * columns + t * n;
                        for oy in y_lo..y_hi {
                            let iy = oy * self.stride[0] + ky * self.dilation[0] - self.padding[0];
                            let target = &mut image[iy * self.width..][..self.width];
                            let source = &dcol[base + oy * self.out[1]..][..self.out[1]];
                            let ix0 =
                                x_lo * self.stride[1] + kx * self.dilation[1] - self.padding[1];
                            let source = &source[x_lo..x_hi];
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

    /// `dY` of images `first..first + count` as `[C_out, count·N]`, from
    /// `[B, C_out, H_out, W_out]` (contiguous): a view of one image's slab, a
    /// copy for several images.
    fn gather_output_grad(&self, dy: &FlexTensor, first: usize, count: usize) -> FlexTensor {
        let (n, columns) = (self.positions(), count * self.positions());
        if count == 1 {
            return dy
                .narrow(0, first, 1)
                .reshape(Shape::from(vec![self.c_out, n]));
        }
        let dy = values(dy);
        let mut gathered = vec![0.0f32; self.c_out * columns];
        for o in 0..self.c_out {
            for t in 0..count {
                gathered[o * columns + t * n..][..n]
                    .copy_from_slice(&dy[((first + t) * self.c_out + o) * n..][..n]);
            }
        }
        matrix(gathered, self.c_out, columns)
    }

    /// The weight as the matrix `[C_out, K]`.
    fn weight_matrix(&self, weight: &FlexTensor) -> FlexTensor {
        contiguous(weight).reshape(Shape::from(vec![self.c_out, self.patch()]))
    }

    fn forward(&self, x: &FlexTensor, weight: &FlexTensor) -> FlexTensor {
        let x = contiguous(x);
        let x = values(&x);
        let weight = self.weight_matrix(weight);
        let n = self.positions();
        let mut y = vec![0.0f32; self.batch * self.c_out * n];
        for (first, count) in self.tiles() {
            let col = matrix(self.im2col(x, first, count), self.patch(), count * n);
            // [C_out, count·N]
            let tile = matmul(weight.clone(), col);
            let tile = values(&tile);
            for o in 0..self.c_out {
                for t in 0..count {
                    y[((first + t) * self.c_out + o) * n..][..n]
                        .copy_from_slice(&tile[(o * count + t) * n..][..n]);
                }
            }
        }
        tensor(y, vec![self.batch, self.c_out, self.out[0], self.out[1]])
    }

    fn weight_grad(&self, x: &FlexTensor, output_grad: &FlexTensor) -> FlexTensor {
        let x = contiguous(x);
        let x = values(&x);
        let dy = contiguous(output_grad);
        let n = self.positions();
        let mut sum: Option<FlexTensor> = None;
        for (first, count) in self.tiles() {
            let col = matrix(self.im2col(x, first, count), self.patch(), count * n);
            let dy_tile = self.gather_output_grad(&dy, first, count);
            // [C_out, count·N] × [count·N, K] (a strided view, no copy)
            let part = matmul(dy_tile, col.transpose(0, 1));
            sum = Some(match sum {
                None => part,
                Some(sum) => Flex::float_add(sum, part),
            });
        }
        let sum = sum.unwrap_or_else(|| {
            FlexTensor::zeros(Shape::from(vec![self.c_out, self.patch()]), DType::F32)
        });
        contiguous(&sum).reshape(Shape::from(vec![
            self.c_out,
            self.c_in,
            self.kernel[0],
            self.kernel[1],
        ]))
    }

    fn x_grad(&self, weight: &FlexTensor, output_grad: &FlexTensor) -> FlexTensor {
        let dy = contiguous(output_grad);
        // [K, C_out] (a strided view, no copy)
        let weight_t = self.weight_matrix(weight).transpose(0, 1);
        let mut dx = vec![0.0f32; self.batch * self.c_in * self.height * self.width];
        for (first, count) in self.tiles() {
            let dy_tile = self.gather_output_grad(&dy, first, count);
            // [K, count·N]
            let dcol = matmul(weight_t.clone(), dy_tile);
            self.col2im(values(&dcol), first, count, &mut dx);
        }
        tensor(dx, vec![self.batch, self.c_in, self.height, self.width])
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

fn matrix(values: Vec<f32>, rows: usize, columns: usize) -> FlexTensor {
    tensor(values, vec![rows, columns])
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
