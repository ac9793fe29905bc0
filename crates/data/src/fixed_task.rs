//! A whole dataset as one task.

use crate::error::Result;
use crate::image_dataset::ImageDataset;
use crate::image_task::{ImageTask, TaskSampler};
use crate::split::stratified_indices;
use crate::transform::TaskTransform;
use rand::Rng;

/// A whole dataset as a single task, split once (stratified, seeded) into
/// training and validation images; every draw returns that task.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedTask {
    task: ImageTask,
}

impl FixedTask {
    /// `dataset` as one task with `validation_fraction` of each class held out
    /// for validation, chosen by `seed`. Labels and classes are unchanged.
    ///
    /// # Errors
    /// [`crate::DataError::InvalidConfig`] when the fraction is not in `[0, 1]`.
    pub fn new(dataset: &ImageDataset, validation_fraction: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&validation_fraction) {
            return Err(crate::DataError::InvalidConfig(format!(
                "validation fraction {validation_fraction} is not in [0, 1]"
            )));
        }
        let parts = stratified_indices(
            dataset.labels(),
            &[1.0 - validation_fraction, validation_fraction],
            seed,
        )?;
        let [t, v] = parts.as_slice() else {
            return Err(crate::DataError::InvalidConfig(
                "a two-way split did not give two parts".into(),
            ));
        };
        let (train, validation) = (dataset.subset(t)?, dataset.subset(v)?);
        Ok(Self {
            task: ImageTask {
                train,
                validation,
                classes: (0..dataset.num_classes()).collect(),
                transform: TaskTransform::identity(),
            },
        })
    }

    /// The task.
    pub fn task(&self) -> &ImageTask {
        &self.task
    }

    /// The task, by value.
    pub fn into_task(self) -> ImageTask {
        self.task
    }
}

impl TaskSampler for FixedTask {
    /// The fixed task (the generator is not used).
    fn sample_task<R: Rng + ?Sized>(&self, _rng: &mut R) -> ImageTask {
        self.task.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_task_keeps_every_image_once() {
        let labels: Vec<usize> = (0..40).map(|i| i % 4).collect();
        let d = ImageDataset::new(
            (0..40).map(|i| i as f32 / 40.0).collect(),
            labels,
            [1, 1, 1],
            4,
        )
        .expect("valid");
        let f = FixedTask::new(&d, 0.2, 1).expect("valid");
        assert_eq!(f.task().train.len(), 32);
        assert_eq!(f.task().validation.class_counts(), vec![2, 2, 2, 2]);
        assert_eq!(f.task().classes, vec![0, 1, 2, 3]);
        assert_eq!(f.task_for_seed(1), f.task_for_seed(2));
        assert!(FixedTask::new(&d, 1.5, 1).is_err());
    }
}
