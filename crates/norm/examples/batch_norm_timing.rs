//! Times `metanas_norm::batch_norm_training` on burn-flex at the batch-norm
//! shapes of the NAS-Bench-201 training step (batch 64; 16 channels at 32×32,
//! 32 at 16×16, 64 at 8×8). For each shape, the 10th percentile of 40 timed
//! runs (after 3 warm-up runs) of the forward pass and of the backward pass
//! (the gradients of the input, `gamma` and `beta`, from a loss that weights
//! the output by a fixed random tensor): the fast end, which other work on a
//! shared machine disturbs least.
//!
//! ```sh
//! cargo run --release -p metanas-norm --example batch_norm_timing
//! ```

use burn::tensor::{Distribution, Tensor};
use metanas_device::BackendChoice;
use std::time::Instant;

/// `(channels, image size)` of each stage.
const SHAPES: [(usize, usize); 3] = [(16, 32), (32, 16), (64, 8)];
const BATCH: usize = 64;
const WARMUP: usize = 3;
const TIMED: usize = 40;
const EPSILON: f64 = 1e-5;

fn fast_end(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 10]
}

fn main() -> metanas_norm::Result<()> {
    let device = BackendChoice::Flex.autodiff_device();
    println!("| channels, size | forward ms | backward ms |");
    println!("|---|---|---|");
    for (channels, size) in SHAPES {
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random([BATCH, channels, size, size], normal, &device);
        let upstream = Tensor::<4>::random([BATCH, channels, size, size], normal, &device);
        let gamma = Tensor::<1>::random([channels], Distribution::Normal(1.0, 0.2), &device);
        let beta = Tensor::<1>::random([channels], normal, &device);
        let (mut forward, mut backward) = (Vec::new(), Vec::new());
        for run in 0..WARMUP + TIMED {
            let start = Instant::now();
            let out =
                metanas_norm::batch_norm_training(x.clone(), gamma.clone(), beta.clone(), EPSILON)?;
            std::hint::black_box(&out);
            let forward_ms = start.elapsed().as_secs_f64() * 1e3;
            let (x, gamma, beta) = (
                x.clone().require_grad(),
                gamma.clone().require_grad(),
                beta.clone().require_grad(),
            );
            let out =
                metanas_norm::batch_norm_training(x.clone(), gamma.clone(), beta.clone(), EPSILON)?;
            let loss = (out.output * upstream.clone()).sum();
            let start = Instant::now();
            let grads = loss.backward();
            std::hint::black_box((x.grad(&grads), gamma.grad(&grads), beta.grad(&grads)));
            let backward_ms = start.elapsed().as_secs_f64() * 1e3;
            if run >= WARMUP {
                forward.push(forward_ms);
                backward.push(backward_ms);
            }
        }
        let (forward, backward) = (fast_end(forward), fast_end(backward));
        println!("| {channels}, {size}×{size} | {forward:.3} | {backward:.3} |");
    }
    Ok(())
}
