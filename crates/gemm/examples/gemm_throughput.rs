//! GFLOPS of `metanas_gemm::gemm` on one thread, at the GEMM shapes of the
//! NAS-Bench-201 network's convolutions (batch tile of one image).
//!
//! ```sh
//! cargo run --release -p metanas-gemm --example gemm_throughput                        # AVX-512 kernels (default)
//! cargo run --release -p metanas-gemm --example gemm_throughput --no-default-features  # AVX2/FMA kernels only
//! ```

use metanas_gemm::{Matrix, MatrixMut, Threads, gemm};
use std::time::Instant;

/// Best-of-5 GFLOPS of `reps` products `[m, k] × [k, n]`.
fn throughput(m: usize, n: usize, k: usize, reps: usize) -> Result<f64, metanas_gemm::GemmError> {
    let lhs: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let rhs: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut dst = vec![0.0f32; m * n];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..reps {
            gemm(
                MatrixMut::row_major(&mut dst, m, n)?,
                false,
                Matrix::row_major(&lhs, m, k)?,
                Matrix::row_major(&rhs, k, n)?,
                Threads::One,
            )?;
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(2.0 * (m * n * k * reps) as f64 / best / 1e9)
}

fn main() -> Result<(), metanas_gemm::GemmError> {
    println!("| product (one image) | [m, k] × [k, n] | GFLOPS, 1 thread |");
    println!("|---|---|---|");
    for (name, m, n, k) in [
        ("forward, 16 ch 32×32", 16, 1024, 144),
        ("weight gradient, 16 ch 32×32", 16, 144, 1024),
        ("forward, 64 ch 8×8", 64, 64, 576),
        ("weight gradient, 64 ch 8×8", 64, 576, 64),
    ] {
        println!(
            "| {name} | [{m}, {k}] × [{k}, {n}] | {:.1} |",
            throughput(m, n, k, 200)?
        );
    }
    Ok(())
}
