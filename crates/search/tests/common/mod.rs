//! Shared setup of the search crate's tests.

use metanas_data::{FixedTask, ImageDataset};
use metanas_net::{OptimizerConfig, TrainingConfig, TrainingLength};
use metanas_search::{NetworkSize, TrainingEvaluator};
use metanas_space::nb201::Nb201Space;

/// A training evaluator on `images` generated images of `shape` in 3
/// classes (a quarter held out for validation), building networks with
/// `channels` channels and one cell per stage, trained with Adam for `steps`
/// steps of `batch` images.
pub fn toy_evaluator(
    images: usize,
    shape: [usize; 3],
    channels: usize,
    steps: usize,
    batch: usize,
) -> TrainingEvaluator<Nb201Space> {
    let classes = 3;
    let size: usize = shape.iter().product();
    let pixels = (0..images * size)
        .map(|i| ((i * 31 + i / size * 7) % 11) as f32 / 11.0)
        .collect();
    let labels = (0..images).map(|i| i % classes).collect();
    let dataset = ImageDataset::new(pixels, labels, shape, classes).expect("dataset");
    let task = FixedTask::new(&dataset, 0.25, 1)
        .expect("split")
        .into_task();
    let training = TrainingConfig::new(OptimizerConfig::adam(1e-3), TrainingLength::Steps(steps))
        .with_batch_size(batch);
    TrainingEvaluator::new(
        task,
        NetworkSize {
            channels,
            cells_per_stage: 1,
        },
        training,
        metanas_device::test_device().autodiff(),
    )
}
