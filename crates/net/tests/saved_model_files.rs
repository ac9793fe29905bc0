//! A saved-model folder: the safetensors file holds the same network as the
//! Burn record, and a folder that lacks a file or holds another network, or
//! images of another shape, are one clear error each.

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use metanas_data::{ImageDataset, Normalisation};
use metanas_net::{
    CellNetworkConfig, METADATA_FILE, ModelMetadata, NETWORK_FILE, NetError, ONNX_FILE,
    SAFETENSORS_FILE, SavedModel, ToCellPlan, WEIGHTS_FILE,
};
use metanas_space::nb201::Nb201Cell;

/// Every operation of NAS-Bench-201, `none` included.
const EVERY_OPERATION: &str =
    "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
/// Another cell of the same space.
const OTHER_CELL: &str =
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|skip_connect~2|";

/// An untrained model whose batch-norm running statistics have moved (one
/// training-mode forward pass), with a normalisation and class names.
fn model(cell: &str, shape: [usize; 3], channels: usize, seed: u64) -> SavedModel {
    let device = metanas_device::test_device().autodiff();
    let cell: Nb201Cell = cell.parse().expect("valid cell");
    let config = CellNetworkConfig::new(cell.cell_plan(), shape, 3)
        .with_channels(channels)
        .with_cells_per_stage(1);
    let network =
        metanas_seeding::seeded_module(&device, seed, || config.init(&device)).expect("valid");
    let [c, h, w] = shape;
    let images = metanas_seeding::seeded(&device, seed + 1, || {
        Tensor::<4>::random([4, c, h, w], Distribution::Normal(0.5, 0.3), &device)
    });
    let _ = network.forward(images);
    SavedModel {
        network: network.valid(),
        config,
        metadata: ModelMetadata {
            space: "nas-bench-201".into(),
            architecture: cell.to_string(),
            normalisation: Some(Normalisation {
                mean: vec![0.4; c],
                std: vec![0.25; c],
            }),
            class_names: Some(vec!["a".into(), "b".into(), "c".into()]),
            files_resized_to: Some([h, w]),
        },
    }
}

/// `n` images of `shape` with pixels in `[0, 1]` (a fixed pattern, no draw).
fn images(n: usize, shape: [usize; 3]) -> ImageDataset {
    let size: usize = shape.iter().product();
    let pixels = (0..n * size)
        .map(|i| (0.5 + 0.5 * (i as f32 * 0.37).sin()).clamp(0.0, 1.0))
        .collect();
    ImageDataset::new(pixels, vec![0; n], shape, 1).expect("valid images")
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("metanas-saved-model-")
        .tempdir()
        .expect("scratch folder")
}

#[test]
fn the_safetensors_file_reloads_into_the_same_network() {
    let dir = scratch();
    let shape = [3, 9, 11];
    let saved = model(EVERY_OPERATION, shape, 4, 1);
    saved.save(dir.path()).expect("saves");
    for file in [
        WEIGHTS_FILE,
        NETWORK_FILE,
        METADATA_FILE,
        SAFETENSORS_FILE,
        ONNX_FILE,
    ] {
        assert!(dir.path().join(file).is_file(), "{file} written");
    }
    let device = metanas_device::test_device();
    let from_record = SavedModel::load(dir.path(), &device).expect("loads the record");
    let from_safetensors =
        SavedModel::load_safetensors(dir.path(), &device).expect("loads the safetensors");
    assert_eq!(from_safetensors.metadata, saved.metadata);
    let probe = images(6, shape);
    let expected = saved.predictions(&probe, &device).expect("predicts");
    assert_eq!(
        from_safetensors
            .predictions(&probe, &device)
            .expect("predicts"),
        expected,
        "same logits from the safetensors file"
    );
    assert_eq!(
        from_record.predictions(&probe, &device).expect("predicts"),
        expected,
        "same logits from the record"
    );
}

#[test]
fn a_folder_missing_a_file_or_holding_another_network_is_one_clear_error() {
    let device = metanas_device::test_device();
    let shape = [1, 8, 8];
    let (ours, theirs, wider) = (scratch(), scratch(), scratch());
    model(EVERY_OPERATION, shape, 4, 2)
        .save(ours.path())
        .expect("saves");
    model(OTHER_CELL, shape, 4, 3)
        .save(theirs.path())
        .expect("saves");
    model(EVERY_OPERATION, shape, 6, 4)
        .save(wider.path())
        .expect("saves");

    // Another cell, or the same cell wider: the weights do not fit network.json.
    for other in [&theirs, &wider] {
        std::fs::copy(
            other.path().join(NETWORK_FILE),
            ours.path().join(NETWORK_FILE),
        )
        .expect("copy");
        for loaded in [
            SavedModel::load(ours.path(), &device),
            SavedModel::load_safetensors(ours.path(), &device),
        ] {
            match loaded {
                Err(error @ NetError::ArchitectureMismatch { .. }) => {
                    let message = error.to_string();
                    assert!(
                        message.contains("does not match the network of"),
                        "{message}"
                    );
                }
                other => panic!("expected ArchitectureMismatch, got {other:?}"),
            }
        }
    }

    for (folder, file) in [(&theirs, NETWORK_FILE), (&wider, WEIGHTS_FILE)] {
        std::fs::remove_file(folder.path().join(file)).expect("remove");
        match SavedModel::load(folder.path(), &device) {
            Err(error @ NetError::MissingModelFile { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&format!("has no {file}")), "{message}");
            }
            other => panic!("expected MissingModelFile, got {other:?}"),
        }
    }
    std::fs::remove_file(wider.path().join(SAFETENSORS_FILE)).expect("remove");
    assert!(matches!(
        SavedModel::load_safetensors(wider.path(), &device),
        Err(NetError::MissingModelFile { file, .. }) if file == SAFETENSORS_FILE
    ));
}

#[test]
fn images_of_another_shape_or_channel_count_are_refused() {
    let device = metanas_device::test_device();
    let grey = model(EVERY_OPERATION, [1, 8, 8], 4, 5);
    for shape in [[3, 8, 8], [1, 8, 9]] {
        match grey.predictions(&images(2, shape), &device) {
            Err(error @ NetError::InputShape { .. }) => {
                let message = error.to_string();
                assert!(message.contains("the model takes 1×8×8"), "{message}");
                assert_eq!(
                    message.contains("(grey images)"),
                    shape[0] == 3,
                    "{message}"
                );
            }
            other => panic!("expected InputShape, got {other:?}"),
        }
    }
}
