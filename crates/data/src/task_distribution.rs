//! Few-shot tasks drawn from an image dataset, for meta-learning.

// `crate::Result` is spelled out: the `Config` derive expects `Result` to be std's.
use crate::error::DataError;
use crate::image_dataset::ImageDataset;
use crate::image_task::{ImageTask, TaskSampler};
use crate::transform::TaskTransform;
use burn::config::Config;
use rand::seq::SliceRandom;
use rand::seq::index::sample;
use rand::{Rng, RngExt};
use std::sync::Arc;

/// Settings of a [`TaskDistribution`]: `ways` classes per task, `shots`
/// training and `validation_shots` validation images per class, and the
/// probability of each transform.
#[derive(Config, Debug)]
pub struct TaskDistributionConfig {
    /// Classes per task (k-way).
    pub ways: usize,
    /// Training images per class (n-shot).
    pub shots: usize,
    /// Validation images per class.
    #[config(default = 5)]
    pub validation_shots: usize,
    /// Probability of rotating the task's images by 90°, 180° or 270° (equally likely).
    #[config(default = 0.0)]
    pub rotation_probability: f64,
    /// Probability of a left-right mirror.
    #[config(default = 0.0)]
    pub flip_horizontal_probability: f64,
    /// Probability of a top-bottom mirror.
    #[config(default = 0.0)]
    pub flip_vertical_probability: f64,
    /// Probability of 2× down-sampling.
    #[config(default = 0.0)]
    pub downsample_probability: f64,
    /// Probability of reducing the images to one (grey) channel.
    #[config(default = 0.0)]
    pub greyscale_probability: f64,
}

impl TaskDistributionConfig {
    /// Checks the settings on their own.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] for zero ways or shots, or a probability
    /// outside `[0, 1]`.
    pub fn check(&self) -> crate::Result<()> {
        if self.ways == 0 || self.shots == 0 {
            return Err(DataError::InvalidConfig(format!(
                "ways ({}) and shots ({}) must be positive",
                self.ways, self.shots
            )));
        }
        for (name, p) in [
            ("rotation_probability", self.rotation_probability),
            (
                "flip_horizontal_probability",
                self.flip_horizontal_probability,
            ),
            ("flip_vertical_probability", self.flip_vertical_probability),
            ("downsample_probability", self.downsample_probability),
            ("greyscale_probability", self.greyscale_probability),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(DataError::InvalidConfig(format!(
                    "{name} = {p} is not in [0, 1]"
                )));
            }
        }
        Ok(())
    }

    /// The distribution of tasks over `dataset`. Only classes with at least
    /// `shots + validation_shots` images take part.
    ///
    /// # Errors
    /// The errors of [`TaskDistributionConfig::check`], and
    /// [`DataError::InvalidConfig`] when fewer than `ways` classes have
    /// enough images.
    pub fn init(&self, dataset: impl Into<Arc<ImageDataset>>) -> crate::Result<TaskDistribution> {
        self.check()?;
        let dataset = dataset.into();
        let per_class = self.shots + self.validation_shots;
        let by_class = dataset.indices_by_class();
        let eligible: Vec<usize> = (0..by_class.len())
            .filter(|&c| by_class[c].len() >= per_class)
            .collect();
        if eligible.len() < self.ways {
            return Err(DataError::InvalidConfig(format!(
                "{}-way tasks need {} classes with {per_class} images each; the dataset has {}",
                self.ways,
                self.ways,
                eligible.len()
            )));
        }
        Ok(TaskDistribution {
            config: self.clone(),
            dataset,
            by_class,
            eligible,
        })
    }
}

/// Draws k-way, n-shot tasks from one dataset: a random subset of classes,
/// relabelled in random order, random images of each, an optional random
/// transform; each task has its own training and validation images (disjoint).
/// Everything comes from the caller's generator, so a seed fixes the tasks.
#[derive(Debug, Clone)]
pub struct TaskDistribution {
    config: TaskDistributionConfig,
    dataset: Arc<ImageDataset>,
    by_class: Vec<Vec<usize>>,
    eligible: Vec<usize>,
}

impl TaskDistribution {
    /// The settings.
    pub fn config(&self) -> &TaskDistributionConfig {
        &self.config
    }

    /// The dataset tasks are drawn from.
    pub fn dataset(&self) -> &ImageDataset {
        &self.dataset
    }

    /// The classes that can appear in a task (those with enough images).
    pub fn eligible_classes(&self) -> &[usize] {
        &self.eligible
    }

    fn sample_transform<R: Rng + ?Sized>(&self, rng: &mut R) -> TaskTransform {
        let c = &self.config;
        let quarter_turns = if rng.random_bool(c.rotation_probability) {
            rng.random_range(1..4u8)
        } else {
            0
        };
        TaskTransform {
            quarter_turns,
            flip_horizontal: rng.random_bool(c.flip_horizontal_probability),
            flip_vertical: rng.random_bool(c.flip_vertical_probability),
            downsample: rng.random_bool(c.downsample_probability),
            greyscale: rng.random_bool(c.greyscale_probability),
        }
    }
}

impl TaskSampler for TaskDistribution {
    fn sample_task<R: Rng + ?Sized>(&self, rng: &mut R) -> ImageTask {
        let c = &self.config;
        // Classes in random order: task label k is classes[k].
        let classes: Vec<usize> = sample(rng, self.eligible.len(), c.ways)
            .into_iter()
            .map(|i| self.eligible[i])
            .collect();
        let mut train_idx = Vec::with_capacity(c.ways * c.shots);
        let mut val_idx = Vec::with_capacity(c.ways * c.validation_shots);
        for &class in &classes {
            let members = &self.by_class[class];
            let picked = sample(rng, members.len(), c.shots + c.validation_shots);
            for (k, i) in picked.into_iter().enumerate() {
                if k < c.shots {
                    train_idx.push(members[i]);
                } else {
                    val_idx.push(members[i]);
                }
            }
        }
        train_idx.shuffle(rng);
        val_idx.shuffle(rng);
        let transform = self.sample_transform(rng);
        let build = |idx: &[usize]| {
            self.dataset
                .relabelled_subset(idx, &classes)
                .map(|d| transform.apply(&d))
        };
        match (build(&train_idx), build(&val_idx)) {
            (Ok(train), Ok(validation)) => ImageTask {
                train,
                validation,
                classes,
                transform,
            },
            // Indices come from the dataset's own class lists and labels from
            // `classes`, so neither can be out of range.
            (Err(e), _) | (_, Err(e)) => unreachable!("task construction failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets_dir::datasets_dir;
    use std::collections::HashSet;

    fn fashion() -> ImageDataset {
        let dir = datasets_dir()
            .expect("datasets folder")
            .join("fashion-mnist");
        ImageDataset::from_idx(
            &dir.join("t10k-images-idx3-ubyte.gz"),
            &dir.join("t10k-labels-idx1-ubyte.gz"),
        )
        .expect("Fashion-MNIST loads")
    }

    #[test]
    fn seeded_sampler_repeats_itself_and_differs_across_seeds() {
        let dist = TaskDistributionConfig::new(5, 3)
            .with_validation_shots(4)
            .with_rotation_probability(0.5)
            .with_flip_horizontal_probability(0.5)
            .with_downsample_probability(0.3)
            .init(fashion())
            .expect("valid");
        let a: Vec<ImageTask> = (0..4).map(|s| dist.task_for_seed(s)).collect();
        let b: Vec<ImageTask> = (0..4).map(|s| dist.task_for_seed(s)).collect();
        assert_eq!(a, b, "same seeds, same tasks");
        let c: Vec<ImageTask> = (100..104).map(|s| dist.task_for_seed(s)).collect();
        assert_ne!(a, c, "other seeds, other tasks");
        assert_ne!(a[0], a[1]);
        for task in &a {
            assert_eq!(task.ways(), 5);
            assert_eq!(task.train.len(), 15);
            assert_eq!(task.validation.len(), 20);
            assert_eq!(task.train.class_counts(), vec![3; 5]);
            assert_eq!(task.validation.class_counts(), vec![4; 5]);
            assert_eq!(task.classes.iter().collect::<HashSet<_>>().len(), 5);
            assert_eq!(task.train.shape(), task.transform.output_shape([1, 28, 28]));
        }
    }

    #[test]
    fn task_images_are_the_originals_relabelled_and_disjoint() {
        let data = fashion();
        let dist = TaskDistributionConfig::new(3, 2)
            .init(data.clone())
            .expect("valid");
        let task = dist.task_for_seed(7);
        assert!(task.transform.is_identity());
        let originals: Vec<&[f32]> = (0..data.len()).filter_map(|i| data.image(i)).collect();
        let find = |img: &[f32]| {
            originals
                .iter()
                .position(|o| *o == img)
                .expect("an original image")
        };
        let mut used = HashSet::new();
        for part in [&task.train, &task.validation] {
            for i in 0..part.len() {
                let j = find(part.image(i).expect("in range"));
                assert_eq!(
                    data.label(j),
                    Some(task.classes[part.label(i).expect("in range")])
                );
                assert!(used.insert(j), "image {j} used twice");
            }
        }
    }

    #[test]
    fn impossible_settings_are_refused_before_work() {
        let d = ImageDataset::new(vec![0.0; 4], vec![0, 0, 1, 1], [1, 1, 1], 2).expect("valid");
        assert!(
            TaskDistributionConfig::new(3, 1)
                .with_validation_shots(1)
                .init(d.clone())
                .is_err()
        );
        assert!(
            TaskDistributionConfig::new(2, 2)
                .with_validation_shots(1)
                .init(d.clone())
                .is_err()
        );
        assert!(
            TaskDistributionConfig::new(2, 1)
                .with_validation_shots(1)
                .with_rotation_probability(1.5)
                .init(d.clone())
                .is_err()
        );
        let ok = TaskDistributionConfig::new(2, 1)
            .with_validation_shots(1)
            .init(d)
            .expect("valid");
        assert_eq!(ok.eligible_classes(), &[0, 1]);
    }
}
