//! Times `metanas_conv::conv2d` on burn-flex at the convolution shapes of the
//! NAS-Bench-201 training step (batch 64, 3×3, stride 1, padding 1): each
//! stage's edge convolution, and the same with three times the output or the
//! input channels (where the wider side changes the kernels' choice). For
//! each shape, the 10th percentile of 40 timed runs (after 3 warm-up runs) of
//! the forward pass and of the backward pass (input and weight gradients): the
//! fast end, which other work on a shared machine disturbs least; and their
//! medians. `--runs N` times N runs instead of 40, `--shape C_IN,C_OUT,SIZE`
//! (repeatable) times only those shapes.
//!
//! ```sh
//! cargo run --release -p metanas-conv --example conv_timing
//! cargo run --release -p metanas-conv --example conv_timing -- --runs 500 --shape 64,64,8
//! ```

use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};
use metanas_device::BackendChoice;
use std::time::Instant;

/// `(input channels, output channels, image size)`.
type Shape = (usize, usize, usize);

/// A stage's edge (C→C), and three times the output (C→3C) or the input
/// channels (3C→C).
const SHAPES: [Shape; 8] = [
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

/// The 10th percentile and the median of `values`.
fn fast_end_and_median(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    (values[values.len() / 10], values[values.len() / 2])
}

/// The timed runs and the shapes, from `--runs N` and `--shape C_IN,C_OUT,SIZE`.
fn arguments() -> Result<(usize, Vec<Shape>), String> {
    let (mut runs, mut shapes) = (TIMED, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => {
                runs = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--runs takes a positive count, got {value}"))?;
            }
            "--shape" => {
                let sizes: Vec<usize> = value
                    .split(',')
                    .map(|part| part.trim().parse().ok().filter(|&n: &usize| n > 0))
                    .collect::<Option<_>>()
                    .filter(|sizes: &Vec<usize>| sizes.len() == 3)
                    .ok_or(format!(
                        "--shape takes C_IN,C_OUT,SIZE (positive), got {value}"
                    ))?;
                shapes.push((sizes[0], sizes[1], sizes[2]));
            }
            _ => {
                return Err(format!(
                    "unknown argument {flag} (expected --runs or --shape)"
                ));
            }
        }
    }
    if shapes.is_empty() {
        shapes = SHAPES.to_vec();
    }
    Ok((runs, shapes))
}

fn main() -> metanas_conv::Result<()> {
    let (timed, shapes) = match arguments() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("conv_timing: {message}");
            std::process::exit(2);
        }
    };
    let device = BackendChoice::Flex.autodiff_device();
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    println!(
        "| C_in → C_out, size | forward ms | backward ms | forward median ms | backward median ms |"
    );
    println!("|---|---|---|---|---|");
    let (mut forward_total, mut backward_total) = (0.0, 0.0);
    let (mut forward_median_total, mut backward_median_total) = (0.0, 0.0);
    for (c_in, c_out, size) in shapes {
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random([BATCH, c_in, size, size], normal, &device);
        let weight = Tensor::<4>::random([c_out, c_in, 3, 3], normal, &device);
        let upstream = Tensor::<4>::random([BATCH, c_out, size, size], normal, &device);
        let (mut forward, mut backward) = (Vec::new(), Vec::new());
        for run in 0..WARMUP + timed {
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
        let (forward, forward_median) = fast_end_and_median(forward);
        let (backward, backward_median) = fast_end_and_median(backward);
        forward_total += forward;
        backward_total += backward;
        forward_median_total += forward_median;
        backward_median_total += backward_median;
        println!(
            "| {c_in} → {c_out}, {size}×{size} | {forward:.2} | {backward:.2} | {forward_median:.2} | {backward_median:.2} |"
        );
    }
    println!(
        "| all | {forward_total:.2} | {backward_total:.2} | {forward_median_total:.2} | {backward_median_total:.2} |"
    );
    Ok(())
}
