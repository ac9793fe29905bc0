//! Stride-1 3×3 convolutions by Winograd's minimal filtering, `F(2×2, 3×3)`:
//! each 2×2 block of outputs from a 4×4 block of the (padded) input in 16
//! products per channel pair instead of 36, so the GEMMs do 4/9 of the
//! column matrix's multiplications.
//!
//! With `d` a 4×4 input block, `g` a 3×3 kernel and the transforms
//!
//! ```text
//!      | 1  0 -1  0 |        | 1    0    0  |
//! Bᵀ = | 0  1  1  0 |    G = | 1/2  1/2  1/2|    Aᵀ = | 1  1  1  0 |
//!      | 0 -1  1  0 |        | 1/2 -1/2  1/2|         | 0  1 -1 -1 |
//!      | 0  1  0 -1 |        | 0    0    1  |
//! ```
//!
//! the 2×2 outputs are `Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A`. Over a tile of `T`
//! images with `P` 2×2 blocks in all, that is, for each of the 16 points `ξ`
//! of the 4×4 transforms, one GEMM `M_ξ[C_out, P] = U_ξ[C_out, C_in] ×
//! V_ξ[C_in, P]` (`U = G g Gᵀ`, the weight's transform; `V = Bᵀ d B`, the
//! input's), then `Aᵀ M A` per block into the NCHW output. The transforms are
//! additions only (and halves in `G`); they run along rows of blocks with the
//! padded input split into its even and odd columns, so that every loop reads
//! and writes consecutive values.
//!
//! The input's transform holds 4× its values (a column matrix 9×), the
//! product's 4× the output's. Rounding differs from the direct sum by a few
//! units in the last place of the largest terms (the transforms' additions).

use super::{Buffers, Geometry, tiles, with_buffers, zeroed};
use crate::flex::shifted::MIN_TILES;
use metanas_gemm::{Matrix, MatrixMut, gemm};
use rayon::prelude::*;

/// Points of the 4×4 transforms.
const POINTS: usize = 16;

/// The most elements one tile's transforms may hold together (1 MiB of `f32`;
/// a tile holds at least one image): the input's (`16·C_in·P`) and the
/// product's (`16·C_out·P`).
pub const MAX_WINOGRAD_ELEMENTS: usize = 1 << 18;

/// The fewest input and output channels for which a stride-1 3×3 forward takes
/// Winograd's transforms rather than a column matrix or shifted windows: with
/// few channels the transforms' passes over the data cost more than the
/// multiplications they save.
pub const MIN_WINOGRAD_CHANNELS: usize = 32;

/// Where a tile's blocks lie.
#[derive(Debug, Clone, Copy)]
pub(super) struct Winograd {
    /// 2×2 output blocks per image, down and across.
    blocks: [usize; 2],
    /// Images per tile.
    tile: usize,
}

impl Winograd {
    /// The layout of a 3×3, stride-1, undilated convolution; `None` otherwise.
    pub(super) fn of(geometry: &Geometry) -> Option<Self> {
        if geometry.kernel != [3, 3] || geometry.stride != [1, 1] || geometry.dilation != [1, 1] {
            return None;
        }
        let blocks = [geometry.out[0].div_ceil(2), geometry.out[1].div_ceil(2)];
        let per_image = POINTS * blocks[0] * blocks[1] * (geometry.c_in + geometry.c_out);
        let tile = (MAX_WINOGRAD_ELEMENTS / per_image.max(1))
            .min(geometry.batch.div_ceil(MIN_TILES))
            .max(1);
        Some(Self { blocks, tile })
    }

    /// Whether the forward should take this layout: with at least
    /// [`MIN_WINOGRAD_CHANNELS`] input and output channels.
    pub(super) fn pays(geometry: &Geometry) -> bool {
        geometry.c_in.min(geometry.c_out) >= MIN_WINOGRAD_CHANNELS
    }

    /// 2×2 blocks per image.
    fn image_blocks(&self) -> usize {
        self.blocks[0] * self.blocks[1]
    }

    /// Rows of an image's padded plane: two per block row, and two more (the
    /// last block's 4×4 reach).
    fn padded_rows(&self) -> usize {
        2 * self.blocks[0] + 2
    }

    /// Elements per half row (its even or its odd columns) of the padded
    /// plane, whose rows are two per block column and two more long.
    fn half_width(&self) -> usize {
        self.blocks[1] + 1
    }

    /// The output `[B, C_out, H_out, W_out]` of `x` and `weight`, both
    /// contiguous, through the ReLU when fused.
    pub(super) fn forward(&self, geometry: &Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
        let image_out = geometry.image_out();
        let mut y = zeroed(geometry.batch * image_out);
        if y.is_empty() {
            return y;
        }
        let threads = geometry.threads(tiles(geometry.batch, self.tile).len());
        let u = weight_transform(geometry, weight);
        y.par_chunks_mut(self.tile * image_out)
            .enumerate()
            .for_each(|(index, out)| {
                with_buffers(|Buffers { columns, staged }| {
                    let (first, count) = (index * self.tile, out.len() / image_out);
                    let images = &x[first * geometry.image_in()..][..count * geometry.image_in()];
                    let p = count * self.image_blocks();
                    // Every element of both is written below.
                    columns.resize(POINTS * geometry.c_in * p, 0.0);
                    staged.resize(POINTS * geometry.c_out * p, 0.0);
                    self.input_transform(geometry, images, count, columns);
                    for point in 0..POINTS {
                        let m = &mut staged[point * geometry.c_out * p..][..geometry.c_out * p];
                        let v = &columns[point * geometry.c_in * p..][..geometry.c_in * p];
                        let u = &u[point * geometry.c_out * geometry.c_in..]
                            [..geometry.c_out * geometry.c_in];
                        gemm(
                            MatrixMut::row_major(m, geometry.c_out, p).expect("[C_out, P]"),
                            false,
                            Matrix::row_major(u, geometry.c_out, geometry.c_in)
                                .expect("[C_out, C_in]"),
                            Matrix::row_major(v, geometry.c_in, p).expect("[C_in, P]"),
                            threads,
                        )
                        .expect("[C_out, C_in] × [C_in, P]");
                    }
                    self.output_transform(geometry, staged, count, out);
                })
            });
        y
    }

    /// The weight gradient `[C_out, C_in, 3, 3]` from `x` and `dy`
    /// (`[B, C_out, H_out, W_out]`), both contiguous: the forward's map from the
    /// weight to the output, transposed, `dW = Gᵀ [Σ_blocks (A dY Aᵀ) ⊙ V] G`.
    /// Per tile, the input's transform `V` (`[16, C_in, P]`, as in the forward)
    /// and the output gradient's `Ŷ = A dY Aᵀ` (`[16, C_out, P]`), then 16 GEMMs
    /// `Z_ξ[C_out, C_in] += Ŷ_ξ[C_out, P] × V_ξᵀ[P, C_in]`, each `P` deep; the
    /// tiles summed as every weight gradient is ([`Geometry::sum_over_tiles`]),
    /// then `Gᵀ Z G` per channel pair.
    pub(super) fn weight_grad(&self, geometry: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let (c_in, c_out) = (geometry.c_in, geometry.c_out);
        let pairs = c_out * c_in;
        let z = geometry.sum_over_tiles(
            &tiles(geometry.batch, self.tile),
            POINTS * pairs,
            |Buffers { columns, staged }, (first, count), sum, threads| {
                let images = &x[first * geometry.image_in()..][..count * geometry.image_in()];
                let grads = &dy[first * geometry.image_out()..][..count * geometry.image_out()];
                let p = count * self.image_blocks();
                // Every element of both is written below.
                columns.resize(POINTS * c_in * p, 0.0);
                staged.resize(POINTS * c_out * p, 0.0);
                self.input_transform(geometry, images, count, columns);
                self.output_grad_transform(geometry, grads, count, staged);
                for point in 0..POINTS {
                    let y_hat = &staged[point * c_out * p..][..c_out * p];
                    let v = &columns[point * c_in * p..][..c_in * p];
                    gemm(
                        MatrixMut::row_major(&mut sum[point * pairs..][..pairs], c_out, c_in)
                            .expect("[C_out, C_in]"),
                        true,
                        Matrix::row_major(y_hat, c_out, p).expect("[C_out, P]"),
                        Matrix::row_major(v, c_in, p)
                            .expect("[C_in, P]")
                            .transposed(),
                        threads,
                    )
                    .expect("[C_out, P] × [P, C_in]");
                }
            },
        );
        // Gᵀ applied to four values: [a + (b + c)/2, (b − c)/2, (b + c)/2 + d].
        let g_t =
            |a: f32, b: f32, c: f32, d: f32| [a + 0.5 * (b + c), 0.5 * (b - c), 0.5 * (b + c) + d];
        let mut dw = vec![0.0f32; pairs * 9];
        for (pair, kernel) in dw.chunks_exact_mut(9).enumerate() {
            let at = |i: usize, j: usize| z[(4 * i + j) * pairs + pair];
            // Gᵀ Z: each column of Z through Gᵀ, giving 3 rows of 4.
            let columns: [[f32; 3]; 4] =
                std::array::from_fn(|j| g_t(at(0, j), at(1, j), at(2, j), at(3, j)));
            for y in 0..3 {
                let row = g_t(columns[0][y], columns[1][y], columns[2][y], columns[3][y]);
                kernel[3 * y..3 * y + 3].copy_from_slice(&row);
            }
        }
        dw
    }

    /// Writes `Ŷ = A dY Aᵀ` of every 2×2 block of the output gradients of
    /// `count` images (`[count, C_out, H_out, W_out]`; zero beyond the last
    /// row and column) into `y_hat`, `[16, C_out, P]`, the blocks in the
    /// forward's order. With `A = [[1, 0], [1, 1], [1, −1], [0, −1]]`, a
    /// block's 4×4 values are `r_i0, r_i0 + r_i1, r_i0 − r_i1, −r_i1` for the
    /// rows `r = g_0, g_0 + g_1, g_0 − g_1, −g_1` of its 2×2 values `g`.
    fn output_grad_transform(
        &self,
        geometry: &Geometry,
        grads: &[f32],
        count: usize,
        y_hat: &mut [f32],
    ) {
        let (c_out, p, bw) = (geometry.c_out, count * self.image_blocks(), self.blocks[1]);
        let [out_h, out_w] = geometry.out;
        // A block row's two output rows, split into even and odd columns.
        let mut g = vec![0.0f32; 4 * bw];
        // A block row's 4×4 rows `r`, even and odd columns: [r_i0 | r_i1] per i.
        let mut r = vec![0.0f32; 8 * bw];
        for o in 0..c_out {
            for image in 0..count {
                let plane = &grads[(image * c_out + o) * out_h * out_w..][..out_h * out_w];
                for by in 0..self.blocks[0] {
                    g.fill(0.0);
                    for a in 0..2 {
                        let oy = 2 * by + a;
                        if oy >= out_h {
                            break;
                        }
                        let (even, odd) = g[2 * a * bw..][..2 * bw].split_at_mut(bw);
                        let mut pairs = plane[oy * out_w..][..out_w].chunks_exact(2);
                        for ((e, o), pair) in
                            even.iter_mut().zip(odd.iter_mut()).zip(pairs.by_ref())
                        {
                            *e = pair[0];
                            *o = pair[1];
                        }
                        if let [last] = pairs.remainder() {
                            even[bw - 1] = *last;
                        }
                    }
                    // Down: r_0 = g_0, r_1 = g_0 + g_1, r_2 = g_0 − g_1, r_3 = −g_1,
                    // for the even (b = 0) and odd (b = 1) columns.
                    for b in 0..2 {
                        let (g0, g1) = (&g[b * bw..][..bw], &g[(2 + b) * bw..][..bw]);
                        let (r0, rest) = r.split_at_mut(2 * bw);
                        let (r1, rest) = rest.split_at_mut(2 * bw);
                        let (r2, r3) = rest.split_at_mut(2 * bw);
                        let (r0, r1) = (&mut r0[b * bw..][..bw], &mut r1[b * bw..][..bw]);
                        let (r2, r3) = (&mut r2[b * bw..][..bw], &mut r3[b * bw..][..bw]);
                        for k in 0..bw {
                            r0[k] = g0[k];
                            r1[k] = g0[k] + g1[k];
                            r2[k] = g0[k] - g1[k];
                            r3[k] = -g1[k];
                        }
                    }
                    // Across, into the 16 points' rows of channel o.
                    let at = image * self.image_blocks() + by * bw;
                    for i in 0..4 {
                        let (first, second) = r[2 * i * bw..][..2 * bw].split_at(bw);
                        let target = |j: usize| ((4 * i + j) * c_out + o) * p + at;
                        for (k, slot) in y_hat[target(0)..][..bw].iter_mut().enumerate() {
                            *slot = first[k];
                        }
                        for (k, slot) in y_hat[target(1)..][..bw].iter_mut().enumerate() {
                            *slot = first[k] + second[k];
                        }
                        for (k, slot) in y_hat[target(2)..][..bw].iter_mut().enumerate() {
                            *slot = first[k] - second[k];
                        }
                        for (k, slot) in y_hat[target(3)..][..bw].iter_mut().enumerate() {
                            *slot = -second[k];
                        }
                    }
                }
            }
        }
    }

    /// Writes `V = Bᵀ d B` of every block of the `count` images (`[count, C_in,
    /// H, W]`) into `v`, `[16, C_in, P]` with `P = count ·` blocks per image:
    /// per channel, the padded planes split into their even and odd columns
    /// (block `k` reads columns `2k .. 2k + 4`: even `k`, odd `k`, even
    /// `k + 1`, odd `k + 1`), the transform down the blocks' rows read from
    /// them into 16 rows of `P`, then the transform across, along those rows.
    fn input_transform(&self, geometry: &Geometry, images: &[f32], count: usize, v: &mut [f32]) {
        let (c_in, p, bw) = (geometry.c_in, count * self.image_blocks(), self.blocks[1]);
        let half = self.half_width();
        let plane = geometry.height * geometry.width;
        let mut even = vec![0.0f32; self.padded_rows() * half];
        let mut odd = vec![0.0f32; self.padded_rows() * half];
        let mut t = vec![0.0f32; POINTS * p];
        for c in 0..c_in {
            for image in 0..count {
                let source = &images[(image * c_in + c) * plane..][..plane];
                self.split_padded(geometry, source, &mut even, &mut odd);
                for by in 0..self.blocks[0] {
                    let at = image * self.image_blocks() + by * bw;
                    // Down the block's rows: t(i, s) = Σ_r Bᵀ(i, r)·d(r, s)
                    // (kept at row 4·s + i), with d(r, s) of the blocks of this
                    // block row read from row 2·by + r of the split plane: even
                    // columns at k (s = 0) and k + 1 (s = 2), odd ones at k
                    // (s = 1) and k + 1 (s = 3).
                    for (parity, columns) in [&even, &odd].into_iter().enumerate() {
                        let d = |r: usize| &columns[(2 * by + r) * half..][..half];
                        let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
                        // Rows 4·s .. 4·s + 4 for s = parity (at k) and
                        // s = parity + 2 (at k + 1).
                        let (near, far) = t[4 * parity * p..].split_at_mut(8 * p);
                        let (n0, rest) = near.split_at_mut(p);
                        let (n1, rest) = rest.split_at_mut(p);
                        let (n2, rest) = rest.split_at_mut(p);
                        let n3 = &mut rest[..p];
                        let (f0, rest) = far.split_at_mut(p);
                        let (f1, rest) = rest.split_at_mut(p);
                        let (f2, rest) = rest.split_at_mut(p);
                        let f3 = &mut rest[..p];
                        let (n0, n1, n2, n3) = (
                            &mut n0[at..][..bw],
                            &mut n1[at..][..bw],
                            &mut n2[at..][..bw],
                            &mut n3[at..][..bw],
                        );
                        let (f0, f1, f2, f3) = (
                            &mut f0[at..][..bw],
                            &mut f1[at..][..bw],
                            &mut f2[at..][..bw],
                            &mut f3[at..][..bw],
                        );
                        let (e0, e1, e2, e3) = (&d0[1..], &d1[1..], &d2[1..], &d3[1..]);
                        difference(n0, d0, d2);
                        sum(n1, d1, d2);
                        difference(n2, d2, d1);
                        difference(n3, d1, d3);
                        difference(f0, e0, e2);
                        sum(f1, e1, e2);
                        difference(f2, e2, e1);
                        difference(f3, e1, e3);
                    }
                }
            }
            // Across: V(i, j) = Σ_s Bᵀ(j, s)·t(i, s), into channel c's row of
            // each of the 16 points.
            for i in 0..4 {
                let row = |s: usize| &t[(4 * s + i) * p..][..p];
                let (t0, t1, t2, t3) = (row(0), row(1), row(2), row(3));
                let (v0, rest) = v[4 * i * c_in * p..][..4 * c_in * p].split_at_mut(c_in * p);
                let (v1, rest) = rest.split_at_mut(c_in * p);
                let (v2, v3) = rest.split_at_mut(c_in * p);
                let (v0, v1) = (&mut v0[c * p..][..p], &mut v1[c * p..][..p]);
                let (v2, v3) = (&mut v2[c * p..][..p], &mut v3[c * p..][..p]);
                for k in 0..p {
                    v0[k] = t0[k] - t2[k];
                    v1[k] = t1[k] + t2[k];
                    v2[k] = t2[k] - t1[k];
                    v3[k] = t1[k] - t3[k];
                }
            }
        }
    }

    /// Writes the padded plane of `image` (`[H, W]`; through the ReLU when
    /// fused), `2·blocks + 2` rows and columns with the image at the top and
    /// left padding's offset, as its even and its odd columns.
    fn split_padded(&self, geometry: &Geometry, image: &[f32], even: &mut [f32], odd: &mut [f32]) {
        let half = self.half_width();
        let [top, left] = geometry.padding;
        even.fill(0.0);
        odd.fill(0.0);
        for (iy, source) in image.chunks_exact(geometry.width).enumerate() {
            let e = &mut even[(iy + top) * half..][..half];
            let o = &mut odd[(iy + top) * half..][..half];
            // Pixel `ix` is column `left + ix`: with `left` even, pixel pairs
            // (2j, 2j + 1) go to even and odd column `left / 2 + j`; with
            // `left` odd, to odd column `left / 2 + j` and even column
            // `left / 2 + 1 + j`.
            let (first, second) = if left % 2 == 0 {
                (&mut e[left / 2..], &mut o[left / 2..])
            } else {
                (&mut o[left / 2..], &mut e[left / 2 + 1..])
            };
            let pairs = source.chunks_exact(2);
            let rest = pairs.remainder();
            let mut written = 0;
            for ((a, b), pair) in first.iter_mut().zip(second.iter_mut()).zip(pairs) {
                *a = geometry.input_value(pair[0]);
                *b = geometry.input_value(pair[1]);
                written += 1;
            }
            if let [last] = rest {
                first[written] = geometry.input_value(*last);
            }
        }
    }

    /// Writes `Aᵀ M A` of every block into the `count` images of `out`
    /// (`[count, C_out, H_out, W_out]`) from the products `m` (`[16, C_out, P]`):
    /// per output channel, the transform along rows of `P`, then each block's
    /// 2×2 values scattered to their places.
    fn output_transform(&self, geometry: &Geometry, m: &[f32], count: usize, out: &mut [f32]) {
        let (c_out, p, bw) = (geometry.c_out, count * self.image_blocks(), self.blocks[1]);
        let [out_h, out_w] = geometry.out;
        let mut s = vec![0.0f32; 8 * p];
        let mut y = vec![0.0f32; 4 * p];
        for o in 0..c_out {
            let row = |point: usize| &m[(point * c_out + o) * p..][..p];
            // Down: s(a, j) = Σ_r Aᵀ(a, r)·m(r, j).
            for j in 0..4 {
                let (m0, m1, m2, m3) = (row(j), row(4 + j), row(8 + j), row(12 + j));
                let (s0, s1) = s.split_at_mut(4 * p);
                let (a, b) = (&mut s0[j * p..][..p], &mut s1[j * p..][..p]);
                for k in 0..p {
                    a[k] = m0[k] + m1[k] + m2[k];
                    b[k] = m1[k] - m2[k] - m3[k];
                }
            }
            // Across: y(a, b) = Σ_j Aᵀ(b, j)·s(a, j).
            for a in 0..2 {
                let part = |j: usize| &s[(4 * a + j) * p..][..p];
                let (s0, s1, s2, s3) = (part(0), part(1), part(2), part(3));
                let (first, second) = y[2 * a * p..][..2 * p].split_at_mut(p);
                for k in 0..p {
                    first[k] = s0[k] + s1[k] + s2[k];
                    second[k] = s1[k] - s2[k] - s3[k];
                }
            }
            for image in 0..count {
                let plane = &mut out[(image * c_out + o) * out_h * out_w..][..out_h * out_w];
                for by in 0..self.blocks[0] {
                    let at = image * self.image_blocks() + by * bw;
                    for a in 0..2 {
                        let oy = 2 * by + a;
                        if oy >= out_h {
                            break;
                        }
                        let (even, odd) =
                            (&y[2 * a * p + at..][..bw], &y[(2 * a + 1) * p + at..][..bw]);
                        let mut pairs = plane[oy * out_w..][..out_w].chunks_exact_mut(2);
                        for ((pair, &e), &o) in pairs.by_ref().zip(even).zip(odd) {
                            pair[0] = e;
                            pair[1] = o;
                        }
                        // An odd width: the last block's first column only.
                        if let [last] = pairs.into_remainder() {
                            *last = even[bw - 1];
                        }
                    }
                }
            }
        }
    }
}

/// `out[k] = a[k] − b[k]` over `out`'s length (a loop the compiler vectorises).
fn difference(out: &mut [f32], a: &[f32], b: &[f32]) {
    for (slot, (&a, &b)) in out.iter_mut().zip(a.iter().zip(b)) {
        *slot = a - b;
    }
}

/// `out[k] = a[k] + b[k]` over `out`'s length.
fn sum(out: &mut [f32], a: &[f32], b: &[f32]) {
    for (slot, (&a, &b)) in out.iter_mut().zip(a.iter().zip(b)) {
        *slot = a + b;
    }
}

/// `U = G g Gᵀ` of every kernel `g` of `weight` (`[C_out, C_in, 3, 3]`), as
/// `[16, C_out, C_in]`.
fn weight_transform(geometry: &Geometry, weight: &[f32]) -> Vec<f32> {
    let pairs = geometry.c_out * geometry.c_in;
    let mut u = vec![0.0f32; POINTS * pairs];
    // G applied to three values: [a, (a + b + c)/2, (a − b + c)/2, c].
    let g = |a: f32, b: f32, c: f32| [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
    for (pair, kernel) in weight.chunks_exact(9).enumerate().take(pairs) {
        // G g: each column of g through G, giving 4 rows of 3.
        let columns: [[f32; 4]; 3] =
            std::array::from_fn(|x| g(kernel[x], kernel[3 + x], kernel[6 + x]));
        for i in 0..4 {
            let row = g(columns[0][i], columns[1][i], columns[2][i]);
            for (j, value) in row.into_iter().enumerate() {
                u[(4 * i + j) * pairs + pair] = value;
            }
        }
    }
    u
}
