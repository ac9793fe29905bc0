//! `cargo xtask predict`: classify images with a saved model, write a CSV.

use anyhow::Context;
use metanas_data::ImageInputs;
use metanas_device::BackendChoice;
use metanas_net::SavedModel;
use std::path::{Path, PathBuf};

/// Arguments of `cargo xtask predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// The saved model: the `model` folder that `cargo xtask search` writes.
    #[arg(long)]
    model: PathBuf,
    /// The images: a folder of PNG/JPEG files (or of one sub-folder per class),
    /// an IDX image file (`[N, H, W]`, plain or gzip), or a CSV file (`.csv`,
    /// `.csv.gz`; rows of C·H·W values, optionally after a label). They must
    /// have the shape the model was trained on; image files are resized as
    /// the training files were when the search resized them (`--image-size`),
    /// and grey files are read as colour for a model of colour images.
    input: PathBuf,
    /// Where to write the predictions (CSV: input, class, probability, the
    /// true label when the input has labels, then each class's probability).
    #[arg(long, default_value = "predictions.csv")]
    out: PathBuf,
    /// Also write each class's score before the softmax (`logit_<k>` columns).
    #[arg(long)]
    logits: bool,
    /// Device: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex")]
    device: BackendChoice,
}

/// Runs the command.
pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    let device = args.device.device();
    let model = SavedModel::load(&args.model, &device)
        .with_context(|| format!("loading the model {}", args.model.display()))?;
    let inputs = ImageInputs::read_with(
        &args.input,
        model.config.input_shape,
        model.image_file_reading(),
    )
    .with_context(|| format!("reading the images {}", args.input.display()))?;
    let predictions = model
        .predictions(&inputs.images, &device)
        .with_context(|| {
            format!(
                "classifying {} with the model {}",
                args.input.display(),
                args.model.display()
            )
        })?;
    write_predictions(&args.out, &model, &inputs, &predictions, args.logits)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{} images of {} classified by {} ({}) → {}",
        predictions.len(),
        args.input.display(),
        args.model.display(),
        model.metadata.architecture,
        args.out.display()
    );
    if inputs.labels.is_some() {
        let correct = predictions
            .iter()
            .enumerate()
            .filter(|(i, p)| inputs.label_name(*i) == Some(model.class_name(p.class)))
            .count();
        println!(
            "{correct} of {} predicted classes equal the input's labels ({:.2} %)",
            predictions.len(),
            100.0 * correct as f64 / predictions.len().max(1) as f64
        );
    }
    Ok(())
}

fn write_predictions(
    out: &Path,
    model: &SavedModel,
    inputs: &ImageInputs,
    predictions: &[metanas_net::Prediction],
    logits: bool,
) -> anyhow::Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut writer = csv::Writer::from_path(out)?;
    let classes = model.config.num_classes;
    let mut header = vec!["input".to_string(), "class".into(), "probability".into()];
    if inputs.labels.is_some() {
        header.push("label".into());
    }
    header.extend((0..classes).map(|k| format!("p_{}", model.class_name(k))));
    if logits {
        header.extend((0..classes).map(|k| format!("logit_{k}")));
    }
    writer.write_record(&header)?;
    for (i, (id, prediction)) in inputs.ids.iter().zip(predictions).enumerate() {
        let mut row = vec![
            id.clone(),
            model.class_name(prediction.class),
            prediction.probability().to_string(),
        ];
        if let Some(label) = inputs.label_name(i) {
            row.push(label);
        }
        // `f32`'s `Display` is the shortest text that reads back to the same value.
        row.extend(prediction.probabilities.iter().map(f32::to_string));
        if logits {
            row.extend(prediction.logits.iter().map(f32::to_string));
        }
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}
