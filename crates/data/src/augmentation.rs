//! Training-time augmentation: random crops with zero padding and random
//! horizontal flips, drawn per image from a seeded generator.

use crate::batcher::ImageBatch;
use crate::error::Result;
use crate::image_dataset::ImageDataset;
use crate::normalisation::Normalisation;
use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// What is done to each training image before it is batched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Augmentation {
    /// Pad each side by this many zero pixels and crop back to the original
    /// size at a uniformly drawn offset (0: no crop).
    pub crop_padding: usize,
    /// Mirror left-right with probability ½.
    pub flip_horizontal: bool,
}

impl Augmentation {
    /// No augmentation.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether it changes nothing.
    pub fn is_none(&self) -> bool {
        self.crop_padding == 0 && !self.flip_horizontal
    }

    /// One augmented copy of the `[C, H, W]` `image`, appended to `out`.
    /// The crop offset and the flip are drawn from `rng`.
    pub fn apply_image(
        &self,
        image: &[f32],
        [c, h, w]: [usize; 3],
        rng: &mut StdRng,
        out: &mut Vec<f32>,
    ) {
        let pad = self.crop_padding;
        // Offset of the crop in the padded image: 0..=2·pad in each direction.
        let (dy, dx) = if pad > 0 {
            (rng.random_range(0..=2 * pad), rng.random_range(0..=2 * pad))
        } else {
            (pad, pad)
        };
        let flip = self.flip_horizontal && rng.random_bool(0.5);
        for ch in 0..c {
            let plane = &image[ch * h * w..(ch + 1) * h * w];
            for y in 0..h {
                // Row of the source image, if inside it (padding is zero).
                let sy = (y + dy).checked_sub(pad).filter(|&sy| sy < h);
                for x in 0..w {
                    let x = if flip { w - 1 - x } else { x };
                    let sx = (x + dx).checked_sub(pad).filter(|&sx| sx < w);
                    out.push(match (sy, sx) {
                        (Some(sy), Some(sx)) => plane[sy * w + sx],
                        _ => 0.0,
                    });
                }
            }
        }
    }
}

impl ImageDataset {
    /// The images at `indices`, each augmented with draws from `rng`, as one
    /// batch on `device`, normalised after augmentation (so padding is black).
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`](crate::DataError::IndexOutOfRange) for an
    /// index past the end.
    pub fn augmented_batch_of(
        &self,
        indices: &[usize],
        augmentation: &Augmentation,
        rng: &mut StdRng,
        normalisation: Option<&Normalisation>,
        device: &Device,
    ) -> Result<ImageBatch> {
        if augmentation.is_none() {
            return self.batch_of(indices, normalisation, device);
        }
        let shape = self.shape();
        self.batch_written_by(indices, normalisation, device, |image, pixels| {
            augmentation.apply_image(image, shape, rng, pixels)
        })
    }
}

/// A generator for [`ImageDataset::augmented_batch_of`], seeded.
pub fn augmentation_rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 1×2×3 image:
    //   1 2 3
    //   4 5 6
    const IMG: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

    #[test]
    fn no_augmentation_copies_the_image() {
        let mut out = Vec::new();
        Augmentation::none().apply_image(&IMG, [1, 2, 3], &mut augmentation_rng(0), &mut out);
        assert_eq!(out, IMG.to_vec());
    }

    #[test]
    fn crops_shift_the_image_in_zeros_and_keep_its_size() {
        let crop = Augmentation {
            crop_padding: 1,
            flip_horizontal: false,
        };
        let mut rng = augmentation_rng(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let mut out = Vec::new();
            crop.apply_image(&IMG, [1, 2, 3], &mut rng, &mut out);
            assert_eq!(out.len(), 6);
            // Every pixel is either padding or the source pixel shifted by one
            // offset (dy, dx) in -1..=1: find that offset.
            let shifted = |dy: isize, dx: isize| -> Vec<f32> {
                (0..2isize)
                    .flat_map(|y| (0..3isize).map(move |x| (y + dy, x + dx)))
                    .map(|(y, x)| {
                        if (0..2).contains(&y) && (0..3).contains(&x) {
                            IMG[(y * 3 + x) as usize]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            };
            let offset = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)))
                .find(|&(dy, dx)| shifted(dy, dx) == out);
            seen.insert(offset.expect("a shifted copy"));
        }
        assert_eq!(seen.len(), 9, "all nine offsets are drawn");
    }

    #[test]
    fn flips_mirror_about_half_the_images() {
        let flip = Augmentation {
            crop_padding: 0,
            flip_horizontal: true,
        };
        let mut rng = augmentation_rng(3);
        let mirrored = [3.0, 2.0, 1.0, 6.0, 5.0, 4.0];
        let mut flipped = 0;
        for _ in 0..400 {
            let mut out = Vec::new();
            flip.apply_image(&IMG, [1, 2, 3], &mut rng, &mut out);
            if out == mirrored {
                flipped += 1;
            } else {
                assert_eq!(out, IMG.to_vec());
            }
        }
        assert!((150..250).contains(&flipped), "{flipped} of 400 flipped");
    }

    #[test]
    fn augmented_batches_are_seeded() {
        use metanas_device::test_device;
        let d = ImageDataset::new(IMG.repeat(4), vec![0, 1, 0, 1], [1, 2, 3], 2).expect("valid");
        let aug = Augmentation {
            crop_padding: 1,
            flip_horizontal: true,
        };
        let device = test_device();
        let batch = |seed| {
            d.augmented_batch_of(
                &[0, 1, 2, 3],
                &aug,
                &mut augmentation_rng(seed),
                None,
                &device,
            )
            .expect("in range")
            .images
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32")
        };
        assert_eq!(batch(5), batch(5));
        assert_ne!(batch(5), batch(6));
        assert!(
            d.augmented_batch_of(&[9], &aug, &mut augmentation_rng(0), None, &device)
                .is_err()
        );
    }
}
