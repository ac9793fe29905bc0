//! Times `metanas_conv::conv2d` on burn-flex at the convolution shapes of the
//! NAS-Bench-201 training step (batch 64, 3×3, stride 1, padding 1): each
//! stage's edge convolution, and the same with three times the output or the
//! input channels (where the wider side changes the kernels' choice). For
//! each shape, the 10th percentile of 40 timed runs (after 3 warm-up runs) of
//! the forward pass and of the backward pass (input and weight gradients): the
//! fast end, which other work on a shared machine disturbs least.
//!
//! ```sh
//! cargo run --release -p metanas-conv --example conv_timing
//! ```

use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};
use metanas_device::BackendChoice;
use std::time::Instant;

/// `(input channels, output channels, image size)`: a stage's edge (C→C), and
/// three times the output (C→3C) or the input channels (3C→C).
const SHAPES: [(usize, usize, usize); 8] = [
    (16, 16, 32),
    (16, 48, 32),
    (48, 16, 32),
    (32, 32, 16),
    (32, 96, 16),
    (64, 64, 8),
    (64, 192, 8),
    (192, 64, 8),
];
const BATCH: usize = 64;
const WARMUP: usize = 3;
const TIMED: usize = 40;

fn fast_end(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 10]
}

fn main() -> metanas_conv::Result<()> {
    let device = BackendChoice::Flex.autodiff_device();
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    println!("| C_in → C_out, size | forward ms | backward ms |");
    println!("|---|---|---|");
    let (mut forward_total, mut backward_total) = (0.0, 0.0);
    for (c_in, c_out, size) in SHAPES {
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random([BATCH, c_in, size, size], normal, &device);
        let weight = Tensor::<4>::random([c_out, c_in, 3, 3], normal, &device);
        let upstream = Tensor::<4>::random([BATCH, c_out, size, size], normal, &device);
        let (mut forward, mut backward) = (Vec::new(), Vec::new());
        for run in 0..WARMUP + TIMED {
            let start = Instant::now();
            let y = metanas_conv::conv2d(x.clone(), weight.clone(), None, options.clone())?;
            std::hint::black_box(&y);
            let forward_ms = start.elapsed().as_secs_f64() * 1e3;
            let (x, weight) = (x.clone().require_grad(), weight.clone().require_grad());
            let y = metanas_conv::conv2d(x.clone(), weight.clone(), None, options.clone())?;
            let loss = (y * upstream.clone()).sum();
            let start = Instant::now();
            let grads = loss.backward();
            std::hint::black_box((x.grad(&grads), weight.grad(&grads)));
            let backward_ms = start.elapsed().as_secs_f64() * 1e3;
            if run >= WARMUP {
                forward.push(forward_ms);
                backward.push(backward_ms);
            }
        }
        let (forward, backward) = (fast_end(forward), fast_end(backward));
        forward_total += forward;
        backward_total += backward;
        println!("| {c_in} → {c_out}, {size}×{size} | {forward:.2} | {backward:.2} |");
    }
    println!("| all | {forward_total:.2} | {backward_total:.2} |");
    Ok(())
}
