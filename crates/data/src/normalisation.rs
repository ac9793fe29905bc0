//! Per-channel normalisation statistics.

use serde::{Deserialize, Serialize};

/// Per-channel mean and standard deviation of a dataset's pixels.
///
/// Computed by [`crate::ImageDataset::normalisation`] (on the training split
/// only, so that validation and test data stay unseen) and applied by the
/// batchers: `x' = (x - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean of each channel.
    pub mean: Vec<f32>,
    /// Standard deviation of each channel (never below [`Normalisation::MIN_STD`]).
    pub std: Vec<f32>,
}

impl Normalisation {
    /// Floor of the standard deviation, so constant channels do not divide by zero.
    pub const MIN_STD: f32 = 1e-6;

    /// Statistics of `pixels`, a sequence of `[C, H, W]` images (`plane` = H·W).
    pub(crate) fn of(pixels: &[f32], channels: usize, plane: usize) -> Self {
        let mut sum = vec![0.0f64; channels];
        let mut sq = vec![0.0f64; channels];
        let image = channels * plane;
        if image == 0 {
            return Self::identity(channels);
        }
        for img in pixels.chunks_exact(image) {
            for (c, chan) in img.chunks_exact(plane).enumerate() {
                let (s, q) = chan.iter().fold((0.0f64, 0.0f64), |(s, q), &v| {
                    let v = f64::from(v);
                    (s + v, q + v * v)
                });
                sum[c] += s;
                sq[c] += q;
            }
        }
        let n = (pixels.len() / image * plane) as f64;
        if n == 0.0 {
            return Self::identity(channels);
        }
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sum
            .iter()
            .zip(&sq)
            .map(|(s, q)| {
                let m = s / n;
                ((q / n - m * m).max(0.0).sqrt() as f32).max(Self::MIN_STD)
            })
            .collect();
        Self { mean, std }
    }

    /// Mean 0 and standard deviation 1 for every channel: leaves pixels as they are.
    pub fn identity(channels: usize) -> Self {
        Self {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Normalises `[C, H, W]` images in place (`plane` = H·W). Channels beyond
    /// the statistics' count are left as they are.
    pub fn apply(&self, pixels: &mut [f32], plane: usize) {
        if plane == 0 {
            return;
        }
        let channels = self.channels();
        for (i, chan) in pixels.chunks_mut(plane).enumerate() {
            let c = i % channels.max(1);
            if let (Some(&m), Some(&s)) = (self.mean.get(c), self.std.get(c)) {
                let inv = 1.0 / s.max(Self::MIN_STD);
                for v in chan {
                    *v = (*v - m) * inv;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_two_channels() {
        // Two 1×2 images with two channels: channel 0 = {0, 1, 0, 1}, channel 1 = {2, 2, 2, 2}.
        let pixels = [0.0, 1.0, 2.0, 2.0, 0.0, 1.0, 2.0, 2.0];
        let n = Normalisation::of(&pixels, 2, 2);
        assert!((n.mean[0] - 0.5).abs() < 1e-6 && (n.std[0] - 0.5).abs() < 1e-6);
        assert!((n.mean[1] - 2.0).abs() < 1e-6 && n.std[1] == Normalisation::MIN_STD);
        let mut x = pixels;
        n.apply(&mut x, 2);
        assert!((x[0] + 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6);
        assert!(x[2].abs() < 1e-6);
    }
}
