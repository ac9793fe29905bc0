//! The throughput of [`metanas_gemm::gemm`] at the products of the 64-channel
//! stage's convolution (batch 64, 3×3, 64 → 64 at 8×8): `[64, K] × [K, N]` with
//! `K` one kernel row's depth (192, the per-image kernel rows over
//! column-shifted copies) or the whole kernel's (576, im2col) and `N` one
//! image's positions (64) or a tile's (192, 512); on one thread, then on two
//! threads at once (one product each: whether both cores keep the kernels'
//! pace). GFLOP/s, `2·M·N·K` per product.
//!
//! ```sh
//! cargo run --release -p metanas-gemm --example row_copy_products
//! ```

use metanas_gemm::{GemmError, Matrix, MatrixMut, Threads, gemm};
use std::time::Instant;

const M: usize = 64;
const SHAPES: [(usize, usize); 5] = [(192, 64), (192, 192), (576, 64), (576, 192), (576, 512)];
/// Multiply-adds per timed run of one shape (about 0.5 s on one core).
const WORK: usize = 25_000_000_000;

/// GFLOP/s of `repeats` products `[M, k] × [k, n]` on the calling thread.
fn throughput(k: usize, n: usize, repeats: usize) -> Result<f64, GemmError> {
    let lhs: Vec<f32> = (0..M * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let rhs: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut dst = vec![0.0f32; M * n];
    let start = Instant::now();
    for _ in 0..repeats {
        gemm(
            MatrixMut::row_major(&mut dst, M, n)?,
            false,
            Matrix::row_major(&lhs, M, k)?,
            Matrix::row_major(&rhs, k, n)?,
            Threads::One,
        )?;
    }
    std::hint::black_box(&dst);
    Ok(2.0 * (M * n * k * repeats) as f64 / start.elapsed().as_secs_f64() / 1e9)
}

fn main() -> Result<(), GemmError> {
    println!("| [M, K] × [K, N] | one thread, GFLOP/s | two threads at once, GFLOP/s each |");
    println!("|---|---|---|");
    for (k, n) in SHAPES {
        let repeats = (WORK / (M * n * k)).max(1);
        throughput(k, n, repeats / 10)?; // warm-up
        let one = throughput(k, n, repeats)?;
        let both = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..2)
                .map(|_| scope.spawn(move || throughput(k, n, repeats)))
                .collect();
            runs.into_iter()
                .map(|run| run.join().expect("a timing thread"))
                .collect::<Result<Vec<f64>, GemmError>>()
        })?;
        println!(
            "| [{M}, {k}] × [{k}, {n}] | {one:.0} | {:.0} + {:.0} |",
            both[0], both[1]
        );
    }
    Ok(())
}
