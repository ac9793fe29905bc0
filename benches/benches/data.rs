//! Data pipeline: decoding Fashion-MNIST and batching one epoch into tensors.
//!
//! `cargo bench -p metanas-benches --bench data`. Measures, on the flex
//! backend:
//! * `data/decode fashion-mnist train10k`: gunzip + parse the 10,000-image IDX
//!   files into an `ImageDataset` (pixels as `f32` in `[0, 1]`);
//! * `data/epoch b=64 batch_of`: one shuffled epoch (157 batches of 64) built
//!   with `batches` + `batch_of` (one copy per batch, normalised), as our
//!   training loops do;
//! * `data/epoch b=64 burn DataLoader`: the same epoch through Burn's
//!   `DataLoaderBuilder` + `ImageBatcher` (one worker), for comparison.

use burn::data::dataloader::DataLoaderBuilder;
use criterion::{Criterion, criterion_group, criterion_main};
use metanas_data::{ImageBatcher, ImageDataset, datasets_dir};
use metanas_device::BackendChoice;
use std::hint::black_box;
use std::time::Duration;

fn data(c: &mut Criterion) {
    let dir = datasets_dir()
        .expect("run inside the repository or set METANAS_DATASETS")
        .join("fashion-mnist");
    let images = dir.join("train10k-images-idx3-ubyte.gz");
    let labels = dir.join("train10k-labels-idx1-ubyte.gz");
    let device = BackendChoice::Flex.device();

    let mut group = c.benchmark_group("data");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("decode fashion-mnist train10k", |b| {
        b.iter(|| black_box(ImageDataset::from_idx(&images, &labels).expect("decodes")))
    });

    let dataset = ImageDataset::from_idx(&images, &labels).expect("decodes");
    let stats = dataset.normalisation();
    let mut seed = 0u64;
    group.bench_function("epoch b=64 batch_of", |b| {
        b.iter(|| {
            seed += 1;
            for indices in dataset.batches(64, Some(seed)) {
                let batch = dataset
                    .batch_of(&indices, Some(&stats), &device)
                    .expect("indices in range");
                black_box(batch);
            }
        })
    });

    let loader = DataLoaderBuilder::new(ImageBatcher::with_normalisation(stats.clone()))
        .batch_size(64)
        .shuffle(0)
        .set_device(device.clone())
        .build(dataset.clone());
    group.bench_function("epoch b=64 burn DataLoader", |b| {
        b.iter(|| {
            for batch in loader.iter() {
                black_box(batch.expect("in-memory items never fail"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, data);
criterion_main!(benches);
