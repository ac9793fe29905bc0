//! The model a user takes home: the model saved by a real (short) search runs
//! in onnxruntime with Burn's logits and reloads from its safetensors file;
//! every NAS-Bench-201 operation (and NAS-Bench-101's) exports; `cargo xtask predict` classifies
//! images; a bad model folder or bad images are one clear error each.
//!
//! The ONNX checks run `scripts/check_onnx.py` with the Python interpreter
//! named by `METANAS_TEST_PYTHON` (one with `onnx`, `onnxruntime` and
//! `numpy`; `.ci/run` makes one). Without it the checks are skipped with a
//! printed line, except under CI (`CI` set), where they fail.

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use flate2::read::GzDecoder;
use metanas_data::{ImageDataset, Normalisation};
use metanas_net::{
    CellNetworkConfig, ModelMetadata, ONNX_FILE, SAFETENSORS_FILE, SavedModel, ToCellPlan,
};
use metanas_space::nb101::Nb101Cell;
use metanas_space::nb201::Nb201Cell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The variable that names the Python interpreter of the ONNX checks.
const PYTHON_ENV: &str = "METANAS_TEST_PYTHON";
/// Largest ONNX-vs-Burn logit difference allowed, relative to an image's largest logit.
const RELATIVE_TOLERANCE: f64 = 1e-4;

/// The workspace of the xtask package cargo runs the test for (the path built
/// in is only the fallback: a test binary reused from a clone elsewhere still
/// reads this clone's files).
fn workspace() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("the workspace holds xtask")
        .to_path_buf()
}

fn scratch_folder() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("metanas-export-")
        .tempdir()
        .expect("scratch folder")
}

fn xtask(arguments: &[&str], paths: &[&Path]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(arguments).args(paths);
    command.output().expect("runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    GzDecoder::new(std::fs::File::open(path).expect("shipped file"))
        .read_to_end(&mut bytes)
        .expect("gzip");
    bytes
}

/// The first `n` items of a shipped IDX file (images `[N, 28, 28]` or labels `[N]`).
fn idx_head(path: &Path, n: usize) -> Vec<u8> {
    let bytes = gunzip(path);
    let dims = usize::from(bytes[3]);
    let item: usize = (1..dims)
        .map(|d| {
            let at = 4 + 4 * d;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .product();
    let header = 4 + 4 * dims;
    let mut out = bytes[..header].to_vec();
    out[4..8].copy_from_slice(&(n as u32).to_be_bytes());
    out.extend_from_slice(&bytes[header..header + n * item]);
    out
}

/// The IDX bytes of `images` (`[N, C, H, W]`, or `[N, H, W]` for one channel).
fn idx_of(images: &ImageDataset) -> Vec<u8> {
    let [c, h, w] = images.shape();
    let mut dims = vec![images.len()];
    if c > 1 {
        dims.push(c);
    }
    dims.extend([h, w]);
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend(images.pixels().iter().map(|p| (p * 255.0).round() as u8));
    out
}

/// The interpreter for the ONNX checks, or `None` (skip) when there is none
/// outside CI.
///
/// # Panics
/// Under CI, when the variable is unset or the packages are missing.
fn onnx_python() -> Option<PathBuf> {
    let ci = std::env::var_os("CI").is_some();
    let missing = |why: String| {
        assert!(!ci, "CI needs the ONNX checks: {why}");
        eprintln!("skipping the onnxruntime and onnx.checker checks: {why}");
        None
    };
    let python = match std::env::var_os(PYTHON_ENV) {
        Some(python) if !python.is_empty() => PathBuf::from(python),
        _ => {
            return missing(format!(
                "{PYTHON_ENV} is not set (a Python with onnx, onnxruntime and numpy)"
            ));
        }
    };
    let imports = Command::new(&python)
        .args(["-c", "import onnx, onnxruntime, numpy"])
        .output();
    match imports {
        Ok(output) if output.status.success() => Some(python),
        Ok(output) => missing(format!(
            "{} cannot import onnx, onnxruntime and numpy: {}",
            python.display(),
            stderr(&output).trim()
        )),
        Err(e) => missing(format!("{} does not run: {e}", python.display())),
    }
}

/// Runs `scripts/check_onnx.py` on `model_dir`'s ONNX file, the images and
/// Burn's logits of them; returns its report.
fn check_onnx(python: &Path, model_dir: &Path, images: &Path, logits: &Path) -> serde_json::Value {
    let output = Command::new(python)
        .arg(workspace().join("scripts/check_onnx.py"))
        .arg(model_dir.join(ONNX_FILE))
        .arg(images)
        .arg(logits)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "check_onnx.py: {}",
        stderr(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
            .expect("one JSON line");
    eprintln!("{}: {report}", model_dir.display());
    report
}

fn assert_same_logits(report: &serde_json::Value, images: u64) {
    assert_eq!(report["images"].as_u64(), Some(images), "{report}");
    let relative = report["max_relative_difference"]
        .as_f64()
        .expect("a number");
    assert!(
        relative <= RELATIVE_TOLERANCE,
        "ONNX logits differ from Burn's by {relative} (relative): {report}"
    );
    assert_eq!(report["classes_agree"].as_bool(), Some(true), "{report}");
    assert_eq!(
        report["probabilities_sum_to_one"].as_bool(),
        Some(true),
        "{report}"
    );
}

/// Logits of `images` by the model in `dir`, read from its Burn record or its safetensors file.
fn logits(dir: &Path, images: &ImageDataset, safetensors: bool) -> Vec<Vec<f32>> {
    let device = metanas_device::test_device();
    let model = if safetensors {
        SavedModel::load_safetensors(dir, &device)
    } else {
        SavedModel::load(dir, &device)
    }
    .expect("loads");
    model
        .predictions(images, &device)
        .expect("predicts")
        .into_iter()
        .map(|p| p.logits)
        .collect()
}

#[test]
fn a_searched_model_runs_in_onnxruntime_and_reloads_from_safetensors() {
    let scratch = scratch_folder();
    let shipped = workspace().join("datasets/fashion-mnist");
    // 3,000 Fashion-MNIST images: searched (2 cells, 20 steps each) and the
    // winner trained for one epoch, on 2,400 of them.
    let (images, labels) = (
        scratch.path().join("images-idx3-ubyte"),
        scratch.path().join("labels-idx1-ubyte"),
    );
    let training = 3000;
    std::fs::write(
        &images,
        idx_head(&shipped.join("train10k-images-idx3-ubyte.gz"), training),
    )
    .expect("write");
    std::fs::write(
        &labels,
        idx_head(&shipped.join("train10k-labels-idx1-ubyte.gz"), training),
    )
    .expect("write");
    let out = scratch.path().join("search");
    let search = xtask(
        &[
            "search",
            "--task",
            "dataset",
            "--strategy",
            "random",
            "--budget",
            "2",
            "--steps",
            "20",
            "--final-epochs",
            "1",
            "--quiet",
            "--dataset",
        ],
        &[
            &images,
            Path::new("--labels"),
            &labels,
            Path::new("--out"),
            &out,
        ],
    );
    assert!(search.status.success(), "{}", stderr(&search));
    let model = out.join("model");
    assert!(model.join(ONNX_FILE).is_file() && model.join(SAFETENSORS_FILE).is_file());

    // 64 test images, classified by `cargo xtask predict` with their logits.
    let probe = scratch.path().join("probe-idx3-ubyte");
    std::fs::write(
        &probe,
        idx_head(&shipped.join("t10k-images-idx3-ubyte.gz"), 64),
    )
    .expect("write");
    let predictions = scratch.path().join("predictions.csv");
    let predict = xtask(
        &["predict", "--logits", "--model"],
        &[&model, &probe, Path::new("--out"), &predictions],
    );
    assert!(predict.status.success(), "{}", stderr(&predict));
    let written = std::fs::read_to_string(&predictions).expect("predictions written");
    assert_eq!(
        written.lines().count(),
        65,
        "a header and one row per image"
    );
    // An IDX dataset has no class names: the classes are numbers.
    assert!(
        written.starts_with("input,class,probability,p_0,p_1,"),
        "{written}"
    );

    // The safetensors file holds the same network as the Burn record.
    let probe_images = metanas_data::ImageInputs::read(&probe, [1, 28, 28])
        .expect("reads")
        .images;
    assert_eq!(
        logits(&model, &probe_images, true),
        logits(&model, &probe_images, false)
    );

    if let Some(python) = onnx_python() {
        let report = check_onnx(&python, &model, &probe, &predictions);
        assert_same_logits(&report, 64);
    }
}

/// Every operation of NAS-Bench-201, `none` included, and a node with no
/// input (node 1: its one edge is `none`) that feeds two others.
const EVERY_OPERATION: &str =
    "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|";

/// A NAS-Bench-101 cell: 3×3 and 1×1 conv-BN-ReLU and 3×3 max pooling.
const NB101_CELL: &str =
    "input,conv3x3-bn-relu,maxpool3x3,conv1x1-bn-relu,output:01100/00011/00010/00001/00000";

#[test]
fn every_operation_and_odd_image_sizes_export() {
    let Some(python) = onnx_python() else {
        return;
    };
    let scratch = scratch_folder();
    // Colour images of an odd size: each reduction pads a row or a column.
    let shape = [3, 9, 11];
    let nb201: Nb201Cell = EVERY_OPERATION.parse().expect("valid cell");
    let nb101: Nb101Cell = NB101_CELL.parse().expect("valid cell");
    let cells = [
        ("nas-bench-201", nb201.to_string(), nb201.cell_plan(), "Pad"),
        (
            "nas-bench-101",
            nb101.to_string(),
            nb101.cell_plan(),
            "MaxPool",
        ),
    ];
    for (space, architecture, plan, op) in cells {
        let device = metanas_device::test_device().autodiff();
        let config = CellNetworkConfig::new(plan, shape, 4)
            .with_channels(4)
            .with_cells_per_stage(2);
        let network = metanas_seeding::seeded_module(&device, 11, || config.init(&device))
            .expect("valid settings");
        // A training-mode pass moves the batch-norm running statistics.
        let [c, h, w] = shape;
        let batch = metanas_seeding::seeded(&device, 12, || {
            Tensor::<4>::random([8, c, h, w], Distribution::Normal(0.5, 0.3), &device)
        });
        let _ = network.forward(batch);
        let model = SavedModel {
            network: network.valid(),
            config,
            metadata: ModelMetadata {
                space: space.into(),
                architecture,
                normalisation: Some(Normalisation {
                    mean: vec![0.5, 0.4, 0.3],
                    std: vec![0.2, 0.25, 0.3],
                }),
                class_names: None,
                files_resized_to: None,
            },
        };
        let dir = scratch.path().join(space);
        model.save(&dir).expect("saves");
        let size = c * h * w;
        let pixels = (0..16 * size)
            .map(|i| (i * 37 % 256) as f32 / 255.0)
            .collect();
        let images = ImageDataset::new(pixels, vec![0; 16], shape, 1).expect("valid");
        let probe = scratch.path().join("probe-idx4-ubyte");
        std::fs::write(&probe, idx_of(&images)).expect("write");
        let predictions = scratch.path().join(format!("{space}.csv"));
        let predict = xtask(
            &["predict", "--logits", "--model"],
            &[&dir, &probe, Path::new("--out"), &predictions],
        );
        assert!(predict.status.success(), "{}", stderr(&predict));
        let report = check_onnx(&python, &dir, &probe, &predictions);
        assert_same_logits(&report, 16);
        let ops: Vec<&str> = report["ops"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|op| op.as_str())
            .collect();
        for op in ["AveragePool", "Conv", "BatchNormalization", "Add", op] {
            assert!(ops.contains(&op), "{op} in {ops:?}");
        }
    }
}

#[test]
fn bad_model_folders_and_images_are_one_clear_error_each() {
    let scratch = scratch_folder();
    let save = |cell: &str, shape: [usize; 3], name: &str| {
        let device = metanas_device::test_device();
        let cell: Nb201Cell = cell.parse().expect("valid cell");
        let config = CellNetworkConfig::new(cell.cell_plan(), shape, 3)
            .with_channels(4)
            .with_cells_per_stage(1);
        let network = metanas_seeding::seeded_module(&device, 1, || config.init(&device))
            .expect("valid settings");
        let dir = scratch.path().join(name);
        SavedModel {
            network,
            config,
            metadata: ModelMetadata {
                space: "nas-bench-201".into(),
                architecture: cell.to_string(),
                normalisation: None,
                class_names: None,
                files_resized_to: None,
            },
        }
        .save(&dir)
        .expect("saves");
        dir
    };
    let grey = save(EVERY_OPERATION, [1, 8, 8], "grey");
    let other = save(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        [1, 8, 8],
        "other",
    );
    let colour = ImageDataset::new(vec![0.5; 2 * 3 * 64], vec![0, 0], [3, 8, 8], 1).expect("valid");
    let colour_idx = scratch.path().join("colour-idx4-ubyte");
    std::fs::write(&colour_idx, idx_of(&colour)).expect("write");
    let csv = scratch.path().join("rows.csv");
    std::fs::write(&csv, "1,2,3\n").expect("write");
    let out = scratch.path().join("predictions.csv");
    let predict = |model: &Path, input: &Path| {
        let output = xtask(
            &["predict", "--model"],
            &[model, input, Path::new("--out"), &out],
        );
        assert!(
            !output.status.success(),
            "{model:?} on {input:?} should fail"
        );
        stderr(&output)
    };

    // Another architecture: the weights of one cell, network.json of another.
    std::fs::copy(other.join("network.json"), grey.join("network.json")).expect("copy");
    let message = predict(&grey, &colour_idx);
    assert!(
        message.contains("does not match the network of"),
        "{message}"
    );
    std::fs::copy(other.join("model.bpk"), grey.join("model.bpk")).expect("copy");

    // Images of another channel count, then rows of another length.
    let message = predict(&grey, &colour_idx);
    assert!(
        message.contains("the images are 3×8×8") && message.contains("the model takes 1×8×8"),
        "{message}"
    );
    let message = predict(&grey, &csv);
    assert!(
        message.contains("expected 64 pixels, or 1 label + 64 pixels"),
        "{message}"
    );

    // A folder that lacks a file.
    std::fs::remove_file(grey.join("model.json")).expect("remove");
    let message = predict(&grey, &csv);
    assert!(message.contains("has no model.json"), "{message}");
    assert!(!out.exists(), "nothing written for a refused input");
}
