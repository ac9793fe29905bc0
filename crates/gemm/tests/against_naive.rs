//! `metanas_gemm::gemm` against a naive triple loop, over many shapes, strides,
//! transposes, offsets into larger slices, accumulation and thread counts; and
//! every malformed view or product refused with its error.

use metanas_gemm::{GemmError, Matrix, MatrixMut, Threads, gemm};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A stored matrix: its elements in a slice with a layout.
struct Stored {
    data: Vec<f32>,
    offset: usize,
    rows: usize,
    columns: usize,
    row_stride: usize,
    column_stride: usize,
}

impl Stored {
    /// A random `rows × columns` matrix, row- or column-major, with padding
    /// between rows/columns and an offset into its slice.
    fn random(rng: &mut StdRng, rows: usize, columns: usize) -> Self {
        let pad = rng.random_range(0..3);
        let offset = rng.random_range(0..4);
        let (row_stride, column_stride) = if rng.random_bool(0.5) {
            (columns + pad, 1)
        } else {
            (1, rows + pad)
        };
        let span = if rows == 0 || columns == 0 {
            0
        } else {
            (rows - 1) * row_stride + (columns - 1) * column_stride + 1
        };
        let data = (0..offset + span + rng.random_range(0..3))
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        Self {
            data,
            offset,
            rows,
            columns,
            row_stride,
            column_stride,
        }
    }

    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[self.offset + i * self.row_stride + j * self.column_stride]
    }

    fn view(&self) -> Matrix<'_> {
        Matrix::new(
            &self.data[self.offset..],
            self.rows,
            self.columns,
            self.row_stride,
            self.column_stride,
        )
        .expect("a valid view")
    }

    fn view_mut(&mut self) -> MatrixMut<'_> {
        MatrixMut::new(
            &mut self.data[self.offset..],
            self.rows,
            self.columns,
            self.row_stride,
            self.column_stride,
        )
        .expect("a valid view")
    }
}

fn check_case(rng: &mut StdRng, m: usize, n: usize, k: usize, accumulate: bool, threads: Threads) {
    let lhs = Stored::random(rng, m, k);
    let rhs = Stored::random(rng, k, n);
    let mut dst = Stored::random(rng, m, n);
    let before = dst.data.clone();
    let expected: Vec<f64> = (0..m * n)
        .map(|e| {
            let (i, j) = (e / n, e % n);
            let product: f64 = (0..k)
                .map(|l| f64::from(lhs.at(i, l)) * f64::from(rhs.at(l, j)))
                .sum();
            product
                + if accumulate {
                    f64::from(dst.at(i, j))
                } else {
                    0.0
                }
        })
        .collect();
    gemm(dst.view_mut(), accumulate, lhs.view(), rhs.view(), threads).expect("shapes chain");
    for i in 0..m {
        for j in 0..n {
            let got = f64::from(dst.at(i, j));
            let want = expected[i * n + j];
            assert!(
                (got - want).abs() <= 1e-5 * (k as f64 + 1.0),
                "m {m} n {n} k {k} acc {accumulate} {threads:?}: ({i}, {j}) = {got}, expected {want}"
            );
        }
    }
    // Elements outside the view are untouched.
    let inside: std::collections::HashSet<usize> = (0..m)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| dst.offset + i * dst.row_stride + j * dst.column_stride)
        .collect();
    for (index, (now, was)) in dst.data.iter().zip(&before).enumerate() {
        if !inside.contains(&index) {
            assert_eq!(
                now.to_bits(),
                was.to_bits(),
                "element {index} outside the view changed"
            );
        }
    }
}

#[test]
fn products_equal_the_naive_loop_over_many_shapes_and_layouts() {
    let mut rng = StdRng::seed_from_u64(7);
    let sizes = [0, 1, 2, 3, 7, 16, 17, 33, 64, 100];
    let mut cases = 0;
    for &m in &sizes {
        for &n in &sizes {
            for &k in &[0, 1, 5, 16, 144, 300] {
                let accumulate = rng.random_bool(0.5);
                let threads = if rng.random_bool(0.5) {
                    Threads::One
                } else {
                    Threads::All
                };
                check_case(&mut rng, m, n, k, accumulate, threads);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 600);
}

#[test]
fn the_thread_count_does_not_change_a_single_bit() {
    let mut rng = StdRng::seed_from_u64(3);
    // Large enough for the kernels to use several threads.
    let (m, n, k) = (320, 300, 600);
    let lhs = Stored::random(&mut rng, m, k);
    let rhs = Stored::random(&mut rng, k, n);
    let mut one = vec![0.0f32; m * n];
    let mut all = vec![0.0f32; m * n];
    for (dst, threads) in [(&mut one, Threads::One), (&mut all, Threads::All)] {
        let view = MatrixMut::row_major(dst, m, n).expect("fits");
        gemm(view, false, lhs.view(), rhs.view(), threads).expect("shapes chain");
    }
    assert!(
        one.iter()
            .zip(&all)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    assert!(one.iter().any(|v| *v != 0.0));
}

#[test]
fn malformed_views_and_products_are_refused() {
    let data = vec![0.0f32; 12];
    assert!(matches!(
        Matrix::row_major(&data, 4, 4),
        Err(GemmError::OutOfBounds {
            needed: 16,
            available: 12,
            ..
        })
    ));
    assert!(matches!(
        Matrix::new(&data, 2, 2, usize::MAX, 1),
        Err(GemmError::OutOfBounds { .. })
    ));
    let mut out = vec![0.0f32; 12];
    assert!(matches!(
        MatrixMut::new(&mut out, 3, 3, 1, 1),
        Err(GemmError::Overlapping { .. })
    ));
    assert!(matches!(
        MatrixMut::new(&mut out, 2, 2, 0, 1),
        Err(GemmError::Overlapping { .. })
    ));
    // A zero stride is fine to read (a broadcast) but not to write.
    assert!(Matrix::new(&data, 3, 3, 0, 1).is_ok());
    let lhs = Matrix::row_major(&data, 3, 4).expect("fits");
    let rhs = Matrix::row_major(&data, 3, 4).expect("fits");
    let dst = MatrixMut::row_major(&mut out, 3, 4).expect("fits");
    assert_eq!(
        gemm(dst, false, lhs, rhs, Threads::One),
        Err(GemmError::ShapeMismatch {
            dst: [3, 4],
            lhs: [3, 4],
            rhs: [3, 4]
        })
    );
}
