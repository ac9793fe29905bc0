//! Exact image transforms that turn one dataset into many tasks.

use crate::image_dataset::ImageDataset;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The transform applied to every image of a task, in this order:
/// grey-scale, 2× down-sampling, rotation, horizontal flip, vertical flip.
///
/// All steps are exact (no interpolation): rotation is by a multiple of 90°,
/// down-sampling averages 2×2 blocks (an odd last row or column is dropped;
/// images smaller than 2×2 are left as they are), grey-scale uses the
/// ITU-R BT.601 weights on RGB (the channel mean for other counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskTransform {
    /// Counter-clockwise quarter turns, `0..4`.
    pub quarter_turns: u8,
    /// Mirror left-right.
    pub flip_horizontal: bool,
    /// Mirror top-bottom.
    pub flip_vertical: bool,
    /// Average-pool 2×2 blocks.
    pub downsample: bool,
    /// Reduce to one channel.
    pub greyscale: bool,
}

impl TaskTransform {
    /// The transform that changes nothing.
    pub fn identity() -> Self {
        Self::default()
    }

    /// Whether it changes nothing.
    pub fn is_identity(&self) -> bool {
        self.quarter_turns.is_multiple_of(4)
            && !self.flip_horizontal
            && !self.flip_vertical
            && !self.downsample
            && !self.greyscale
    }

    /// The `[C, H, W]` of an image of `shape` after the transform.
    pub fn output_shape(&self, [c, h, w]: [usize; 3]) -> [usize; 3] {
        let c = if self.greyscale { 1 } else { c };
        let (h, w) = if self.downsample && h >= 2 && w >= 2 {
            (h / 2, w / 2)
        } else {
            (h, w)
        };
        if self.quarter_turns % 2 == 1 {
            [c, w, h]
        } else {
            [c, h, w]
        }
    }

    /// Transforms one `[C, H, W]` image, appending the result to `out`.
    pub fn apply_image(&self, image: &[f32], shape: [usize; 3], out: &mut Vec<f32>) {
        let (mut buf, mut shape) = (image.to_vec(), shape);
        if self.greyscale && shape[0] != 1 {
            (buf, shape) = greyscale(&buf, shape);
        }
        if self.downsample && shape[1] >= 2 && shape[2] >= 2 {
            (buf, shape) = downsample(&buf, shape);
        }
        let [c, h, w] = shape;
        let turns = self.quarter_turns % 4;
        let (oh, ow) = if turns % 2 == 1 { (w, h) } else { (h, w) };
        for ch in 0..c {
            let plane = &buf[ch * h * w..(ch + 1) * h * w];
            for y in 0..oh {
                for x in 0..ow {
                    // Output pixel (y, x) before the flips.
                    let y = if self.flip_vertical { oh - 1 - y } else { y };
                    let x = if self.flip_horizontal { ow - 1 - x } else { x };
                    // Source pixel of a counter-clockwise rotation.
                    let (sy, sx) = match turns {
                        0 => (y, x),
                        1 => (x, w - 1 - y),
                        2 => (h - 1 - y, w - 1 - x),
                        _ => (h - 1 - x, y),
                    };
                    out.push(plane[sy * w + sx]);
                }
            }
        }
    }

    /// The dataset with every image transformed.
    pub fn apply(&self, dataset: &ImageDataset) -> ImageDataset {
        if self.is_identity() {
            return dataset.clone();
        }
        let shape = dataset.shape();
        dataset.map_images(self.output_shape(shape), |img, out| {
            self.apply_image(img, shape, out);
        })
    }
}

impl fmt::Display for TaskTransform {
    /// A short description, e.g. `rot90+flip_h+down2`, or `identity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.greyscale {
            parts.push("grey".to_string());
        }
        if self.downsample {
            parts.push("down2".to_string());
        }
        if !self.quarter_turns.is_multiple_of(4) {
            parts.push(format!("rot{}", 90 * u32::from(self.quarter_turns % 4)));
        }
        if self.flip_horizontal {
            parts.push("flip_h".to_string());
        }
        if self.flip_vertical {
            parts.push("flip_v".to_string());
        }
        if parts.is_empty() {
            f.write_str("identity")
        } else {
            f.write_str(&parts.join("+"))
        }
    }
}

/// One channel: BT.601 luma for RGB, the mean otherwise.
fn greyscale(image: &[f32], [c, h, w]: [usize; 3]) -> (Vec<f32>, [usize; 3]) {
    let plane = h * w;
    let weights: Vec<f32> = if c == 3 {
        vec![0.299, 0.587, 0.114]
    } else {
        vec![1.0 / c as f32; c]
    };
    let out = (0..plane)
        .map(|p| (0..c).map(|ch| weights[ch] * image[ch * plane + p]).sum())
        .collect();
    (out, [1, h, w])
}

/// Average of each 2×2 block.
fn downsample(image: &[f32], [c, h, w]: [usize; 3]) -> (Vec<f32>, [usize; 3]) {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        let plane = &image[ch * h * w..(ch + 1) * h * w];
        for y in 0..oh {
            for x in 0..ow {
                let at = |dy: usize, dx: usize| plane[(2 * y + dy) * w + 2 * x + dx];
                out.push((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0);
            }
        }
    }
    (out, [c, oh, ow])
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 1×2×3 image:
    //   1 2 3
    //   4 5 6
    const IMG: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

    fn run(t: TaskTransform, img: &[f32], shape: [usize; 3]) -> (Vec<f32>, [usize; 3]) {
        let mut out = Vec::new();
        t.apply_image(img, shape, &mut out);
        (out, t.output_shape(shape))
    }

    #[test]
    fn rotations_are_exact() {
        let rot = |q| TaskTransform {
            quarter_turns: q,
            ..TaskTransform::default()
        };
        // Counter-clockwise 90°: the right column becomes the top row.
        assert_eq!(
            run(rot(1), &IMG, [1, 2, 3]),
            (vec![3.0, 6.0, 2.0, 5.0, 1.0, 4.0], [1, 3, 2])
        );
        assert_eq!(
            run(rot(2), &IMG, [1, 2, 3]),
            (vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0], [1, 2, 3])
        );
        assert_eq!(
            run(rot(3), &IMG, [1, 2, 3]),
            (vec![4.0, 1.0, 5.0, 2.0, 6.0, 3.0], [1, 3, 2])
        );
        // Four quarter turns are the identity.
        let (once, s) = run(rot(1), &IMG, [1, 2, 3]);
        let (twice, s) = run(rot(1), &once, s);
        let (thrice, s) = run(rot(1), &twice, s);
        assert_eq!(run(rot(1), &thrice, s), (IMG.to_vec(), [1, 2, 3]));
    }

    #[test]
    fn flips_downsampling_and_greyscale() {
        let h = TaskTransform {
            flip_horizontal: true,
            ..TaskTransform::default()
        };
        let v = TaskTransform {
            flip_vertical: true,
            ..TaskTransform::default()
        };
        assert_eq!(
            run(h, &IMG, [1, 2, 3]).0,
            vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]
        );
        assert_eq!(
            run(v, &IMG, [1, 2, 3]).0,
            vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0]
        );
        let d = TaskTransform {
            downsample: true,
            ..TaskTransform::default()
        };
        assert_eq!(run(d, &IMG, [1, 2, 3]), (vec![3.0], [1, 1, 1]));
        let g = TaskTransform {
            greyscale: true,
            ..TaskTransform::default()
        };
        let (grey, shape) = run(g, &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [3, 1, 2]);
        assert_eq!(shape, [1, 1, 2]);
        assert!((grey[0] - 0.299).abs() < 1e-6 && (grey[1] - 0.587).abs() < 1e-6);
        assert_eq!(g.to_string(), "grey");
        assert_eq!(TaskTransform::identity().to_string(), "identity");
    }

    #[test]
    fn dataset_transform_changes_the_shape() {
        let d = ImageDataset::new(IMG.repeat(2), vec![0, 1], [1, 2, 3], 2).expect("valid");
        let t = TaskTransform {
            quarter_turns: 1,
            ..TaskTransform::default()
        };
        let r = t.apply(&d);
        assert_eq!(r.shape(), [1, 3, 2]);
        assert_eq!(r.labels(), d.labels());
        assert_eq!(r.image(1), Some(&[3.0, 6.0, 2.0, 5.0, 1.0, 4.0][..]));
    }
}
