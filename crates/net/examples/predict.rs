//! Classify images with a model saved by a search, from Rust: what
//! `cargo xtask predict` does, in a few lines.
//!
//! ```sh
//! cargo xtask search --out runs/my-search          # saves runs/my-search/model
//! cargo run --release -p metanas-net --example predict -- runs/my-search/model IMAGES
//! ```
//!
//! `IMAGES`: a folder of PNG/JPEG files (or of one sub-folder per class), an
//! IDX image file or a CSV file, of the shape the model was trained on (image
//! files are resized as the training files were when the search resized them).

use metanas_data::ImageInputs;
use metanas_device::BackendChoice;
use metanas_net::SavedModel;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(model_dir), Some(input)) = (arguments.next(), arguments.next()) else {
        return Err("usage: predict MODEL_DIR IMAGES".into());
    };
    // Any backend runs a saved model; flex is Burn's pure-Rust CPU backend.
    let device = BackendChoice::Flex.device();
    let model = SavedModel::load(&model_dir, &device)?;
    // A CSV row does not say its shape: it is read as the model's input shape.
    // Image files are read as the model's training files were (resized, when
    // they were; grey files as colour for a colour model).
    let inputs =
        ImageInputs::read_with(&input, model.config.input_shape, model.image_file_reading())?;
    // Pixels in [0, 1]; the model applies its saved normalisation itself.
    let predictions = model.predictions(&inputs.images, &device)?;
    for (id, prediction) in inputs.ids.iter().zip(&predictions) {
        println!(
            "{id}: {} ({:.1} %)",
            model.class_name(prediction.class),
            100.0 * prediction.probability()
        );
    }
    Ok(())
}
