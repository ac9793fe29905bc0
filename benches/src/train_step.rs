//! `cargo xtask bench-train-step`: training-step throughput of one NAS-Bench-201
//! network on each Burn CPU backend, beside the same network in PyTorch.

use crate::statistics::median;
use anyhow::{Context, bail};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use metanas_device::BackendChoice;
use metanas_net::{CellNetwork, CellNetworkConfig, OptimizerConfig, ToCellPlan, on_compute_pool};
use metanas_space::nb201::Nb201Cell;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// The benchmark's best CIFAR-10 cell (94.37% test accuracy): the default of `--cell`.
const DEFAULT_CELL: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

/// Arguments of `cargo xtask bench-train-step`.
#[derive(Debug, clap::Args)]
pub struct BenchTrainStepArgs {
    /// Timed steps per backend (the median is reported).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Untimed warm-up steps per backend.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Images per batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Backends to time (comma separated: flex, ndarray, wgpu).
    #[arg(long, default_value = "flex,ndarray", value_delimiter = ',')]
    backends: Vec<BackendChoice>,
    /// Python interpreter with PyTorch for the reference (skipped when it has none).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Time the network's blocks one at a time (3×3 convolution forward,
    /// forward + backward, batch norm) instead of the whole step: where the
    /// step's time goes, beside PyTorch.
    #[arg(long)]
    layers: bool,
    /// Also time each backend with Burn's own convolution
    /// (`CellNetworkConfig::own_convolution = Some(false)`) in a row of its
    /// own, beside the default (`metanas_conv::conv2d`).
    #[arg(long)]
    burn_convolution: bool,
    /// The cell of the timed network, in NAS-Bench-201's notation (the cells
    /// a search returns differ in speed: pools, 1×1 and 3×3 convolutions).
    #[arg(long, default_value = DEFAULT_CELL)]
    cell: String,
}

struct Timing {
    name: String,
    median_ms: f64,
    images_per_second: f64,
}

/// Runs the harness and prints the table.
pub fn run(args: &BenchTrainStepArgs) -> anyhow::Result<()> {
    if args.layers {
        return crate::layer_breakdown::run(
            &args.backends,
            args.batch,
            args.steps,
            args.warmup,
            &args.python,
        );
    }
    let cell: Nb201Cell = args
        .cell
        .parse()
        .with_context(|| format!("--cell {}", args.cell))?;
    let config = CellNetworkConfig::new(cell.cell_plan(), [3, 32, 32], 10);
    println!(
        "NAS-Bench-201 network, C=16, N=5, batch {}, 3×32×32, {} parameters, SGD-Nesterov step\ncell {}\n",
        args.batch,
        config.complexity().params,
        args.cell
    );
    let mut rows = Vec::new();
    let burn_config = config.clone().with_own_convolution(Some(false));
    for &backend in &args.backends {
        eprintln!("timing {backend} …");
        rows.push(time_burn(backend, &config, args, "")?);
        if args.burn_convolution {
            eprintln!("timing {backend} with Burn's convolution …");
            rows.push(time_burn(backend, &burn_config, args, " (Burn's conv2d)")?);
        }
    }
    match time_pytorch(args) {
        Ok(row) => rows.push(row),
        Err(e) => eprintln!("PyTorch reference skipped: {e:#}"),
    }
    let reference = rows
        .iter()
        .find(|r| r.name.starts_with("pytorch"))
        .map(|r| r.images_per_second);
    println!("| backend | median ms/step | images/s | vs PyTorch |");
    println!("|---|---|---|---|");
    for r in &rows {
        let ratio = reference.map_or("—".to_string(), |p| {
            format!("{:.2}×", r.images_per_second / p)
        });
        println!(
            "| {} | {:.1} | {:.0} | {ratio} |",
            r.name, r.median_ms, r.images_per_second
        );
    }
    Ok(())
}

fn time_burn(
    backend: BackendChoice,
    config: &CellNetworkConfig,
    args: &BenchTrainStepArgs,
    label: &str,
) -> anyhow::Result<Timing> {
    let device: Device = backend.autodiff_device();
    let mut model = metanas_seeding::seeded_module(&device, 0, || config.init(&device))?;
    let mut optimizer = OptimizerConfig::sgd_nesterov(0.05).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let b = args.batch;
    let pixels: Vec<f32> = (0..b * 3 * 32 * 32)
        .map(|i| ((i * 7919) % 255) as f32 / 255.0)
        .collect();
    let labels: Vec<i64> = (0..b).map(|i| (i % 10) as i64).collect();
    let images = Tensor::<4>::from_data(TensorData::new(pixels, [b, 3, 32, 32]), &device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [b]), &device);
    let mut times = Vec::with_capacity(args.steps);
    for step in 0..args.warmup + args.steps {
        let start = Instant::now();
        let mut run = |model: CellNetwork| {
            let loss = loss_fn.forward(model.forward(images.clone()), targets.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let model = optimizer.step(0.05, model, grads);
            // Reading the loss waits for the device to finish the step.
            let value: f32 = loss.into_scalar();
            (model, value)
        };
        // As the training loops run it (`metanas_net::on_compute_pool`).
        let (next, value) = on_compute_pool(&device, || run(model));
        model = next;
        if !value.is_finite() {
            bail!("{backend}: loss became {value}");
        }
        if step >= args.warmup {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    let median = median(&times);
    Ok(Timing {
        name: format!("metanas / burn-{backend}{label}"),
        median_ms: median * 1e3,
        images_per_second: b as f64 / median,
    })
}

/// Runs the PyTorch reference `benches/pytorch/<script>` with `python` and
/// `args`, and returns its standard output (its last stderr line on failure).
pub(crate) fn run_pytorch_script(
    python: &str,
    script: &str,
    args: &[String],
) -> anyhow::Result<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("pytorch")
        .join(script);
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .with_context(|| format!("could not run {python}"))?;
    if !output.status.success() {
        bail!(
            "{}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn time_pytorch(args: &BenchTrainStepArgs) -> anyhow::Result<Timing> {
    let script_args = [
        "--arch".to_string(),
        args.cell.clone(),
        "--batch".to_string(),
        args.batch.to_string(),
        "--steps".to_string(),
        args.steps.to_string(),
        "--warmup".to_string(),
        args.warmup.to_string(),
    ];
    let line = run_pytorch_script(&args.python, "nb201_train_step.py", &script_args)?;
    let json: serde_json::Value =
        serde_json::from_str(line.trim()).context("the script's JSON line")?;
    let field = |k: &str| {
        json.get(k)
            .and_then(serde_json::Value::as_f64)
            .with_context(|| format!("no `{k}`"))
    };
    Ok(Timing {
        name: format!(
            "pytorch {} ({} threads)",
            json.get("version").and_then(|v| v.as_str()).unwrap_or("?"),
            field("threads")?
        ),
        median_ms: field("median_step_ms")?,
        images_per_second: field("images_per_second")?,
    })
}
