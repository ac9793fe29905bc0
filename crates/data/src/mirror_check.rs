//! Whether mirroring images left-right keeps their class: the rule that
//! decides the horizontal flip of final training when it is left to the data.

use crate::image_dataset::ImageDataset;
use serde::{Deserialize, Serialize};

/// Mirrored images must keep at least this fraction of the nearest-class-mean
/// accuracy of the images themselves for a flip to count as safe. Measured on
/// the shipped data: Fashion-MNIST keeps 0.84 (its shoes all point one way,
/// the rest is symmetric), MNIST 0.54
/// (`cargo test --release -p metanas-data --lib mirror_check -- --nocapture`).
pub const MIRROR_SAFE_RATIO: f64 = 0.75;

/// A nearest-class-mean classifier fit on a dataset, scored on its images and
/// on their mirror images.
///
/// Clothes, objects and natural photos look like their class in a mirror: the
/// classifier scores their mirror images about as well as the images. Digits
/// and letters have a handedness (a mirrored 3 is no 3): their mirror images
/// score far lower. [`MirrorCheck::flip_is_safe`] draws the line at
/// [`MIRROR_SAFE_RATIO`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MirrorCheck {
    /// Accuracy of the nearest class mean on the images.
    pub accuracy: f64,
    /// Accuracy of the same class means on the images mirrored left-right.
    pub mirrored_accuracy: f64,
}

impl MirrorCheck {
    /// Fits the class means of `dataset` and scores both ways.
    pub fn of(dataset: &ImageDataset) -> Self {
        let [c, h, w] = dataset.shape();
        let size = c * h * w;
        let classes = dataset.num_classes();
        let mut means = vec![0.0f64; classes * size];
        let counts = dataset.class_counts();
        for (i, &label) in dataset.labels().iter().enumerate() {
            if let Some(image) = dataset.image(i) {
                let mean = &mut means[label * size..(label + 1) * size];
                for (m, &p) in mean.iter_mut().zip(image) {
                    *m += f64::from(p);
                }
            }
        }
        for (class, &count) in counts.iter().enumerate() {
            for m in &mut means[class * size..(class + 1) * size] {
                *m /= count.max(1) as f64;
            }
        }
        let nearest = |pixel: &dyn Fn(usize) -> f64| -> usize {
            (0..classes)
                .filter(|&class| counts[class] > 0)
                .map(|class| {
                    let mean = &means[class * size..(class + 1) * size];
                    let distance: f64 = mean
                        .iter()
                        .enumerate()
                        .map(|(p, m)| (pixel(p) - m).powi(2))
                        .sum();
                    (class, distance)
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(class, _)| class)
        };
        let (mut plain, mut mirrored) = (0usize, 0usize);
        for (i, &label) in dataset.labels().iter().enumerate() {
            let Some(image) = dataset.image(i) else {
                continue;
            };
            if nearest(&|p| f64::from(image[p])) == label {
                plain += 1;
            }
            // Pixel p = (ch, y, x) of the mirror image is (ch, y, w-1-x) of the image.
            let mirror = |p: usize| {
                let x = p % w;
                f64::from(image[p - x + (w - 1 - x)])
            };
            if nearest(&mirror) == label {
                mirrored += 1;
            }
        }
        let n = dataset.len().max(1) as f64;
        Self {
            accuracy: plain as f64 / n,
            mirrored_accuracy: mirrored as f64 / n,
        }
    }

    /// Mirrored accuracy over plain accuracy (1 when mirroring changes nothing).
    pub fn ratio(&self) -> f64 {
        if self.accuracy > 0.0 {
            self.mirrored_accuracy / self.accuracy
        } else {
            1.0
        }
    }

    /// Whether mirroring keeps classes: the ratio is at least [`MIRROR_SAFE_RATIO`].
    pub fn flip_is_safe(&self) -> bool {
        self.ratio() >= MIRROR_SAFE_RATIO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes of 1×3×3 images: a bar on the left or on the right.
    fn handed() -> ImageDataset {
        let left = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let right = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        ImageDataset::new(
            [left, right].concat().repeat(3),
            [0, 1].repeat(3),
            [1, 3, 3],
            2,
        )
        .expect("valid")
    }

    /// Two classes: a vertical bar in the middle or a horizontal one.
    fn symmetric() -> ImageDataset {
        let vertical = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0];
        let horizontal = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        ImageDataset::new(
            [vertical, horizontal].concat().repeat(3),
            [0, 1].repeat(3),
            [1, 3, 3],
            2,
        )
        .expect("valid")
    }

    #[test]
    fn mirrored_classes_are_told_apart_from_symmetric_ones() {
        let handed = MirrorCheck::of(&handed());
        assert_eq!(handed.accuracy, 1.0);
        assert_eq!(handed.mirrored_accuracy, 0.0);
        assert!(!handed.flip_is_safe());
        let symmetric = MirrorCheck::of(&symmetric());
        assert_eq!(symmetric.mirrored_accuracy, 1.0);
        assert!(symmetric.flip_is_safe());
    }

    #[test]
    fn shipped_digits_are_not_flipped_and_clothes_are() {
        let digits = MirrorCheck::of(&crate::shipped::mnist10k().expect("shipped MNIST"));
        let clothes = MirrorCheck::of(
            &crate::shipped::fashion_mnist_train10k().expect("shipped Fashion-MNIST"),
        );
        eprintln!("MNIST {digits:?} ratio {:.3}", digits.ratio());
        eprintln!("Fashion-MNIST {clothes:?} ratio {:.3}", clothes.ratio());
        assert!(!digits.flip_is_safe(), "digits: {digits:?}");
        assert!(clothes.flip_is_safe(), "clothes: {clothes:?}");
    }
}
