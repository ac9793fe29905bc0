//! The op on burn-flex: fused kernels in safe Rust over `f32` slices, shared
//! among rayon's threads; and the other compiled backends' default bodies.
//!
//! For `x` `[B, C, H·W]` (contiguous), with `N = B·H·W` values per channel:
//! * forward: per channel (in parallel), `Σx` and `Σx²` in `f64`, one pass over
//!   its `B` planes in order; then per `(image, channel)` plane (in parallel),
//!   `y = x·s + t` with `s = gamma/√(var + ε)`, `t = beta − mean·s`;
//! * backward: per channel, `Σdy` and `Σdy·(x − mean)`, in `f32` over blocks
//!   of [`BLOCK`] values and in `f64` across blocks; then per plane
//!   `dx = dy·a + x·b + c`, the constants folding
//!   `gamma/σ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N)`.
//!
//! The forward sums stay in `f64` throughout: `Σx²` and `(Σx)²` cancel in the
//! variance when the mean is large beside the spread, and that pass is bound
//! by memory, not arithmetic. The backward's terms are already centred
//! (`x − mean`) and its pass reads two tensors with more arithmetic per value,
//! where the `f64` conversions were the bound. The op's backward on flex,
//! least of six runs of `cargo run --release -p metanas-norm --example
//! batch_norm_timing` (machine C, 2026-12-02): 1.07 → 1.03 ms at
//! `[64, 16, 32, 32]`, 0.32 → 0.29 ms at 32 channels 16×16, 0.20 → 0.18 ms at
//! 64 channels 8×8.

use crate::composite;
use crate::ops::BatchNormOps;
use burn::backend::flex::FlexTensor;
#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
use burn::backend::{Cube, Flex, NdArray};
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;
use std::ops::AddAssign;

#[allow(deprecated)] // Burn 0.22 deprecates ndarray; the workspace still compiles it.
impl BatchNormOps for NdArray {}

impl BatchNormOps for Cube {}

impl BatchNormOps for Flex {
    fn metanas_batch_norm(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let Some(planes) = Planes::of(&x, &[&gamma, &beta]) else {
            return composite::forward::<Flex>(x, gamma, beta, epsilon);
        };
        let (x, gamma, beta) = (contiguous(&x), contiguous(&gamma), contiguous(&beta));
        let (x, gamma, beta) = (values(&x), values(&gamma), values(&beta));
        let sums = planes.channel_sums(|c| {
            let mut sums = LaneSums::default();
            for plane in planes.channel(x, c) {
                sums.add(plane, plane, |v, _| (v, v * v));
            }
            sums.total()
        });
        let count = planes.count() as f64;
        let (mut mean, mut variance) = (Vec::new(), Vec::new());
        let mut coefficients = Vec::with_capacity(planes.channels);
        for (c, &(sum, squares)) in sums.iter().enumerate() {
            let m = sum / count;
            let v = (squares / count - m * m).max(0.0);
            let scale = f64::from(gamma[c]) / (v + epsilon).sqrt();
            coefficients.push((scale as f32, (f64::from(beta[c]) - m * scale) as f32));
            mean.push(m as f32);
            variance.push(v as f32);
        }
        let mut y = zeroed(x.len());
        planes.map_planes(&mut y, |index, out| {
            let (scale, shift) = coefficients[index % planes.channels];
            for (o, &v) in out.iter_mut().zip(planes.plane(x, index)) {
                *o = v * scale + shift;
            }
        });
        (
            tensor(y, planes.shape()),
            tensor(mean, vec![planes.channels]),
            tensor(variance, vec![planes.channels]),
        )
    }

    fn metanas_batch_norm_backward(
        x: FlexTensor,
        gamma: FlexTensor,
        mean: FlexTensor,
        variance: FlexTensor,
        output_grad: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let Some(planes) = Planes::of(&x, &[&gamma, &mean, &variance, &output_grad]) else {
            return composite::backward::<Flex>(x, gamma, mean, variance, output_grad, epsilon);
        };
        let (x, gamma, mean) = (contiguous(&x), contiguous(&gamma), contiguous(&mean));
        let (variance, dy) = (contiguous(&variance), contiguous(&output_grad));
        let (x, gamma, mean) = (values(&x), values(&gamma), values(&mean));
        let (variance, dy) = (values(&variance), values(&dy));
        let sums = planes.channel_sums(|c| {
            let m = mean[c];
            let mut sums = BlockSums::default();
            for (g, v) in planes.channel(dy, c).zip(planes.channel(x, c)) {
                sums.add(g, v, |g, v| (g, g * (v - m)));
            }
            sums.total()
        });
        let count = planes.count() as f64;
        let (mut dgamma, mut dbeta) = (Vec::new(), Vec::new());
        let mut coefficients = Vec::with_capacity(planes.channels);
        for (c, &(sum, dot)) in sums.iter().enumerate() {
            let inverse_std = 1.0 / (f64::from(variance[c]) + epsilon).sqrt();
            let gain = f64::from(gamma[c]) * inverse_std;
            // dx = gain · (dy − sum/N − (x − mean)·inverse_std² · dot/N)
            let slope = -gain * inverse_std * inverse_std * dot / count;
            let offset = -gain * sum / count - slope * f64::from(mean[c]);
            coefficients.push((gain as f32, slope as f32, offset as f32));
            dgamma.push((dot * inverse_std) as f32);
            dbeta.push(sum as f32);
        }
        let mut dx = zeroed(x.len());
        planes.map_planes(&mut dx, |index, out| {
            let (gain, slope, offset) = coefficients[index % planes.channels];
            let (g, v) = (planes.plane(dy, index), planes.plane(x, index));
            for ((o, &g), &v) in out.iter_mut().zip(g).zip(v) {
                *o = g * gain + v * slope + offset;
            }
        });
        (
            tensor(dx, planes.shape()),
            tensor(dgamma, vec![planes.channels]),
            tensor(dbeta, vec![planes.channels]),
        )
    }
}

/// `len` zeros, written by rayon's threads: an output buffer that the kernels
/// then fill, zeroed in parallel rather than by one `memset` on the calling
/// thread while the pool waits.
fn zeroed(len: usize) -> Vec<f32> {
    let mut values = Vec::with_capacity(len);
    values.par_extend(rayon::iter::repeat_n(0.0f32, len));
    values
}

/// Lanes of two running sums in `f64`.
const LANES: usize = 8;

/// Two sums over pairs of `f32` values, kept in [`LANES`] independent lanes
/// (element `i` of a slice goes to lane `i % LANES`, so the compiler can
/// vectorise the loop) and added in a fixed order at the end.
#[derive(Debug, Default)]
struct LaneSums {
    first: [f64; LANES],
    second: [f64; LANES],
}

impl LaneSums {
    /// Adds `terms(a[i], b[i])` for every `i` (`a` and `b` of one length).
    fn add(&mut self, a: &[f32], b: &[f32], terms: impl Fn(f64, f64) -> (f64, f64)) {
        add_in_lanes(a, b, &mut self.first, &mut self.second, |a, b| {
            terms(f64::from(a), f64::from(b))
        });
    }

    /// The two sums.
    fn total(&self) -> (f64, f64) {
        (self.first.iter().sum(), self.second.iter().sum())
    }
}

/// Adds `terms(a[i], b[i])` to lane `i % N` of `first` and of `second`, for
/// every `i` (`a` and `b` of one length): `N` independent running sums per
/// slot, so that the compiler can vectorise the loop.
#[inline(always)]
fn add_in_lanes<T: Copy + AddAssign, const N: usize>(
    a: &[f32],
    b: &[f32],
    first: &mut [T; N],
    second: &mut [T; N],
    terms: impl Fn(f32, f32) -> (T, T),
) {
    let (a_chunks, b_chunks) = (a.chunks_exact(N), b.chunks_exact(N));
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (a, b) in a_chunks.zip(b_chunks) {
        for lane in 0..N {
            let (p, q) = terms(a[lane], b[lane]);
            first[lane] += p;
            second[lane] += q;
        }
    }
    for (lane, (&a, &b)) in a_rest.iter().zip(b_rest).enumerate() {
        let (p, q) = terms(a, b);
        first[lane] += p;
        second[lane] += q;
    }
}

/// Values per `f32` block of [`BlockSums`].
const BLOCK: usize = 256;

/// `f32` lanes within a block of [`BlockSums`].
const BLOCK_LANES: usize = 16;

/// Two sums over pairs of `f32` values: within each block of [`BLOCK`]
/// consecutive values, in [`BLOCK_LANES`] `f32` lanes (so each lane adds at
/// most 16 terms and the loop vectorises without conversions); the blocks'
/// sums added in `f64`, in order.
#[derive(Debug, Default)]
struct BlockSums {
    first: f64,
    second: f64,
}

impl BlockSums {
    /// Adds `terms(a[i], b[i])` for every `i` (`a` and `b` of one length).
    fn add(&mut self, a: &[f32], b: &[f32], terms: impl Fn(f32, f32) -> (f32, f32)) {
        for (a, b) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
            let (mut first, mut second) = ([0.0f32; BLOCK_LANES], [0.0f32; BLOCK_LANES]);
            add_in_lanes(a, b, &mut first, &mut second, &terms);
            self.first += first.iter().map(|&v| f64::from(v)).sum::<f64>();
            self.second += second.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
    }

    /// The two sums.
    fn total(&self) -> (f64, f64) {
        (self.first, self.second)
    }
}

/// The sizes of a contiguous `[B, C, H, W]` `f32` tensor, seen as `B·C`
/// planes of `H·W` values.
#[derive(Debug, Clone, Copy)]
struct Planes {
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
}

impl Planes {
    /// The planes of `x` when the kernels apply (`x` 4-D with at least one value
    /// per channel, every tensor `f32`), else `None`.
    fn of(x: &FlexTensor, others: &[&FlexTensor]) -> Option<Self> {
        let shape = x.layout().shape();
        let all_f32 = x.dtype() == DType::F32 && others.iter().all(|t| t.dtype() == DType::F32);
        if !all_f32 || shape.num_dims() != 4 || shape.num_elements() == 0 {
            return None;
        }
        Some(Self {
            batch: shape[0],
            channels: shape[1],
            height: shape[2],
            width: shape[3],
        })
    }

    fn shape(&self) -> Vec<usize> {
        vec![self.batch, self.channels, self.height, self.width]
    }

    /// Values per plane, `H·W`.
    fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Values per channel, `B·H·W`.
    fn count(&self) -> usize {
        self.batch * self.pixels()
    }

    /// Plane `index` (`image · C + channel`) of `values`.
    fn plane<'a>(&self, values: &'a [f32], index: usize) -> &'a [f32] {
        &values[index * self.pixels()..][..self.pixels()]
    }

    /// Channel `c`'s planes of `values`, image by image.
    fn channel<'a>(
        &self,
        values: &'a [f32],
        c: usize,
    ) -> impl Iterator<Item = &'a [f32]> + use<'a> {
        let planes = *self;
        (0..self.batch).map(move |image| planes.plane(values, image * planes.channels + c))
    }

    /// `sum(c)` for every channel, channels in parallel.
    fn channel_sums(&self, sum: impl Fn(usize) -> (f64, f64) + Sync + Send) -> Vec<(f64, f64)> {
        (0..self.channels).into_par_iter().map(sum).collect()
    }

    /// Calls `fill(plane index, plane of out)` for every plane of `out`, in parallel.
    fn map_planes(&self, out: &mut [f32], fill: impl Fn(usize, &mut [f32]) + Sync + Send) {
        out.par_chunks_mut(self.pixels())
            .enumerate()
            .for_each(|(index, plane)| fill(index, plane));
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
        .expect("a contiguous f32 tensor (checked by Planes::of)")
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
