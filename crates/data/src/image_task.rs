//! One learning task on images, and the trait of whatever hands out tasks.

use crate::image_dataset::ImageDataset;
use crate::transform::TaskTransform;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A small classification problem: its own training and validation images,
/// relabelled `0..classes.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTask {
    /// Images a candidate network is trained on.
    pub train: ImageDataset,
    /// Images it is scored on.
    pub validation: ImageDataset,
    /// The original label of each task class: task label `k` was `classes[k]`.
    pub classes: Vec<usize>,
    /// What was done to every image (train and validation alike).
    pub transform: TaskTransform,
}

impl ImageTask {
    /// Number of classes of the task.
    pub fn ways(&self) -> usize {
        self.classes.len()
    }

    /// A one-line description, e.g. `5-way [3, 7, 0, 1, 9] rot90 (25 train, 50 validation)`,
    /// ending in ` resized to H×W` when the images were resized from files.
    pub fn describe(&self) -> String {
        let resized = self
            .train
            .files_resized_to()
            .map_or(String::new(), |[h, w]| format!(" resized to {h}×{w}"));
        format!(
            "{}-way {:?} {} ({} train, {} validation){resized}",
            self.ways(),
            self.classes,
            self.transform,
            self.train.len(),
            self.validation.len()
        )
    }
}

/// Anything that hands out image tasks: a [`crate::TaskDistribution`] draws
/// a new one each time, a [`crate::FixedTask`] always gives the same.
pub trait TaskSampler {
    /// A task drawn with `rng`.
    fn sample_task<R: Rng + ?Sized>(&self, rng: &mut R) -> ImageTask;

    /// The task of `seed`: the same seed always gives the same task.
    fn task_for_seed(&self, seed: u64) -> ImageTask {
        self.sample_task(&mut StdRng::seed_from_u64(seed))
    }
}
