//! `cargo xtask bench-train-step --layers`: where a training step's time
//! goes, one building block at a time, on each Burn backend beside PyTorch.
//!
//! Each case times one block of the NAS-Bench-201 network at the shapes the
//! C=16 network trains on (batch 64): a 3×3 convolution's forward pass, the
//! same convolution's forward + backward (gradients of input and weight), and
//! batch norm's forward + backward; each also in metanas's own version
//! ([`metanas_conv::conv2d`], [`metanas_net::batch_norm`]), and
//! NAS-Bench-201's 3×3 average pool (Burn's and [`metanas_net::AveragePool3x3`]),
//! compared with
//! PyTorch's same block. `benches/pytorch/nb201_layers.py` times the same cases
//! with the same names.

use crate::statistics::median;
use crate::train_step::run_pytorch_script;
use anyhow::{Context, bail};
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::AvgPool2dConfig;
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use metanas_device::BackendChoice;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Instant;

/// What a case runs.
#[derive(Debug, Clone, Copy)]
enum Block {
    /// 3×3 convolution (padding 1, no bias), forward only.
    ConvForward,
    /// 3×3 convolution, forward and backward (input and weight gradients).
    ConvForwardBackward,
    /// Batch norm (training mode), forward and backward.
    BatchNormForwardBackward,
    /// The same with [`metanas_net::batch_norm`] (reductions without transposes).
    MetanasBatchNormForwardBackward,
    /// The 3×3 convolution with [`metanas_conv::conv2d`], forward only.
    MetanasConvForward,
    /// The same, forward and backward (its own im2col + GEMM backward on flex).
    MetanasConvForwardBackward,
    /// NAS-Bench-201's `avg_pool_3x3` (3×3, stride 1, padding 1 not
    /// counted) with Burn's `AvgPool2d`, forward and backward.
    AveragePoolForwardBackward,
    /// The same with [`metanas_net::AveragePool3x3`] (metanas-pool's op).
    MetanasAveragePoolForwardBackward,
}

/// One timed case: a block at `[batch, channels, size, size]`.
#[derive(Debug, Clone, Copy)]
struct Case {
    block: Block,
    channels: usize,
    size: usize,
}

impl Case {
    fn name(&self) -> String {
        let block = match self.block {
            Block::ConvForward => "conv3x3 fwd",
            Block::ConvForwardBackward => "conv3x3 fwd+bwd",
            Block::BatchNormForwardBackward => "batchnorm fwd+bwd",
            Block::MetanasBatchNormForwardBackward => "batchnorm (metanas) fwd+bwd",
            Block::MetanasConvForward => "conv3x3 (metanas) fwd",
            Block::MetanasConvForwardBackward => "conv3x3 (metanas) fwd+bwd",
            Block::AveragePoolForwardBackward => "avgpool3x3 fwd+bwd",
            Block::MetanasAveragePoolForwardBackward => "avgpool3x3 (metanas) fwd+bwd",
        };
        format!("{block} {}ch {}×{}", self.channels, self.size, self.size)
    }

    /// The name of the PyTorch case this one is compared with: metanas's
    /// versions of a block against PyTorch's same block.
    fn reference_name(&self) -> String {
        let block = match self.block {
            Block::ConvForward | Block::MetanasConvForward => Block::ConvForward,
            Block::ConvForwardBackward | Block::MetanasConvForwardBackward => {
                Block::ConvForwardBackward
            }
            Block::BatchNormForwardBackward | Block::MetanasBatchNormForwardBackward => {
                Block::BatchNormForwardBackward
            }
            Block::AveragePoolForwardBackward | Block::MetanasAveragePoolForwardBackward => {
                Block::AveragePoolForwardBackward
            }
        };
        Case { block, ..*self }.name()
    }
}

/// The cases: each block at the first stage's and the last stage's shape.
fn cases() -> Vec<Case> {
    let blocks = [
        Block::ConvForward,
        Block::MetanasConvForward,
        Block::ConvForwardBackward,
        Block::MetanasConvForwardBackward,
        Block::BatchNormForwardBackward,
        Block::MetanasBatchNormForwardBackward,
        Block::AveragePoolForwardBackward,
        Block::MetanasAveragePoolForwardBackward,
    ];
    [(16, 32), (64, 8)]
        .into_iter()
        .flat_map(|(channels, size)| {
            blocks.map(|block| Case {
                block,
                channels,
                size,
            })
        })
        .collect()
}

/// Times every case on `backends` and in PyTorch (`python`, skipped when it
/// has none) and prints the table: median milliseconds and the ratio of
/// PyTorch's time to each backend's (above 1: faster than PyTorch).
///
/// # Errors
/// When a backend's run fails.
pub fn run(
    backends: &[BackendChoice],
    batch: usize,
    steps: usize,
    warmup: usize,
    python: &str,
) -> anyhow::Result<()> {
    let cases = cases();
    let mut columns: Vec<(String, BTreeMap<String, f64>)> = Vec::new();
    for &backend in backends {
        eprintln!("timing blocks on {backend} …");
        let device = backend.autodiff_device();
        let times = cases
            .iter()
            .map(|case| Ok((case.name(), time_case(case, batch, steps, warmup, &device)?)))
            .collect::<anyhow::Result<_>>()?;
        columns.push((format!("burn-{backend}"), times));
    }
    let reference = match time_pytorch(batch, steps, warmup, python) {
        Ok(times) => Some(times),
        Err(e) => {
            eprintln!("PyTorch reference skipped: {e:#}");
            None
        }
    };
    println!("Blocks of the NAS-Bench-201 network, batch {batch}: median ms over {steps} runs\n");
    let header: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("{name} ms"))
        .collect();
    let ratios: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("PyTorch / {name}"))
        .collect();
    let pytorch_header = if reference.is_some() {
        "| PyTorch ms "
    } else {
        ""
    };
    println!(
        "| block | {} {pytorch_header}| {} |",
        header.join(" | "),
        ratios.join(" | ")
    );
    println!(
        "|---|{}{}",
        "---|".repeat(columns.len() * 2),
        if reference.is_some() { "---|" } else { "" }
    );
    for case in &cases {
        let name = case.name();
        let ours: Vec<f64> = columns.iter().map(|(_, times)| times[&name]).collect();
        let theirs = reference
            .as_ref()
            .and_then(|r| r.get(&case.reference_name()).copied());
        let cells: Vec<String> = ours.iter().map(|t| format!("{t:.1}")).collect();
        let ratio_cells: Vec<String> = ours
            .iter()
            .map(|t| theirs.map_or("—".to_string(), |p| format!("{:.2}×", p / t)))
            .collect();
        let pytorch_cell = match (&reference, theirs) {
            (Some(_), Some(p)) => format!("| {p:.1} "),
            (Some(_), None) => "| — ".to_string(),
            (None, _) => String::new(),
        };
        println!(
            "| {name} | {} {pytorch_cell}| {} |",
            cells.join(" | "),
            ratio_cells.join(" | ")
        );
    }
    Ok(())
}

/// Median milliseconds of one case on `device` (an autodiff device).
fn time_case(
    case: &Case,
    batch: usize,
    steps: usize,
    warmup: usize,
    device: &Device,
) -> anyhow::Result<f64> {
    let (c, s) = (case.channels, case.size);
    // Modules through `seeded_module`, which draws their lazily initialised
    // parameters at once (not at their first use, on a pool thread).
    let conv = metanas_seeding::seeded_module(device, 0, || {
        Ok::<_, Infallible>(
            Conv2dConfig::new([c, c], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
        )
    })?;
    let norm = metanas_seeding::seeded_module(device, 1, || {
        Ok::<_, Infallible>(BatchNormConfig::new(c).init(device))
    })?;
    let pool = AvgPool2dConfig::new([3, 3])
        .with_strides([1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_count_include_pad(false)
        .init();
    let (input, upstream) = metanas_seeding::seeded(device, 2, || {
        let input = Tensor::<4>::random([batch, c, s, s], Distribution::Normal(0.0, 1.0), device);
        let upstream =
            Tensor::<4>::random([batch, c, s, s], Distribution::Normal(0.0, 1.0), device);
        (input, upstream)
    });
    // The options of `conv` (stride 1, padding 1).
    let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let mut times = Vec::with_capacity(steps);
    for run in 0..warmup + steps {
        let x = input.clone().detach().require_grad();
        // The input and weight gradients of `y = conv(x)`, and the input gradient
        // of `y = f(x)`, read as one number each.
        let conv_gradients = |y: Tensor<4>| -> anyhow::Result<f32> {
            let grads = (y * upstream.clone()).sum().backward();
            let input_grad = x.grad(&grads).context("no input gradient")?;
            let weight_grad = conv.weight.grad(&grads).context("no weight gradient")?;
            Ok(input_grad.sum().into_scalar::<f32>() + weight_grad.sum().into_scalar::<f32>())
        };
        let input_gradient = |y: Tensor<4>| -> anyhow::Result<f32> {
            let grads = (y * upstream.clone()).sum().backward();
            Ok(x.grad(&grads)
                .context("no input gradient")?
                .sum()
                .into_scalar())
        };
        let start = Instant::now();
        // Each case ends by reading a number, which waits for the device; run
        // on rayon's pool as the training loops run their steps.
        let check: f32 = metanas_net::on_compute_pool(device, || -> anyhow::Result<f32> {
            Ok(match case.block {
                Block::ConvForward => conv.forward(input.clone().detach()).sum().into_scalar(),
                Block::ConvForwardBackward => conv_gradients(conv.forward(x.clone()))?,
                Block::BatchNormForwardBackward => input_gradient(norm.forward(x.clone()))?,
                Block::MetanasBatchNormForwardBackward => {
                    input_gradient(metanas_net::batch_norm(&norm, x.clone()))?
                }
                Block::AveragePoolForwardBackward => input_gradient(pool.forward(x.clone()))?,
                Block::MetanasAveragePoolForwardBackward => {
                    input_gradient(metanas_net::AveragePool3x3.forward(x.clone()))?
                }
                Block::MetanasConvForward => metanas_conv::conv2d(
                    input.clone().detach(),
                    conv.weight.val(),
                    None,
                    options(),
                )?
                .sum()
                .into_scalar(),
                Block::MetanasConvForwardBackward => conv_gradients(metanas_conv::conv2d(
                    x.clone(),
                    conv.weight.val(),
                    None,
                    options(),
                )?)?,
            })
        })?;
        if !check.is_finite() {
            bail!("{}: result {check}", case.name());
        }
        if run >= warmup {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(median(&times))
}

/// The same cases in PyTorch: name → median ms.
fn time_pytorch(
    batch: usize,
    steps: usize,
    warmup: usize,
    python: &str,
) -> anyhow::Result<BTreeMap<String, f64>> {
    let args = [
        "--batch".to_string(),
        batch.to_string(),
        "--steps".to_string(),
        steps.to_string(),
        "--warmup".to_string(),
        warmup.to_string(),
    ];
    let text = run_pytorch_script(python, "nb201_layers.py", &args)?;
    serde_json::from_str(text.trim()).context("the script's JSON line (case name → median ms)")
}
