//! A monotone warping of a task's observed values to normal scores, and its
//! inverse for predictions: a few very bad observations (diverged or broken
//! cells) then no longer dominate a linear head fitted to the rest.

use crate::error::Result;
use crate::normal_scores::normal_scores;
use serde::{Deserialize, Serialize};

/// The map from normal scores back to the metric: piecewise linear through
/// the observations `(score, value)`, extended linearly beyond them with the
/// least-squares slope of value on score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputWarp {
    /// `(score, value)` of the observations, increasing, one per distinct value.
    knots: Vec<(f64, f64)>,
    /// Slope used beyond the first and the last knot (metric units per score).
    slope: f64,
}

impl OutputWarp {
    /// The warp of `values` and their normal scores (in the values' order).
    ///
    /// # Errors
    /// As [`normal_scores`].
    pub fn of(values: &[f64]) -> Result<(Self, Vec<f64>)> {
        let scores = normal_scores(values)?;
        let mut knots: Vec<(f64, f64)> =
            scores.iter().copied().zip(values.iter().copied()).collect();
        knots.sort_by(|a, b| a.0.total_cmp(&b.0));
        knots.dedup_by(|a, b| a.0 == b.0);
        let n = values.len() as f64;
        let (mz, mv) = (
            scores.iter().sum::<f64>() / n,
            values.iter().sum::<f64>() / n,
        );
        let szz: f64 = scores.iter().map(|z| (z - mz) * (z - mz)).sum();
        let szv: f64 = scores
            .iter()
            .zip(values)
            .map(|(z, v)| (z - mz) * (v - mv))
            .sum();
        let slope = if szz > 1e-12 && szv > 0.0 {
            szv / szz
        } else {
            1.0
        };
        Ok((Self { knots, slope }, scores))
    }

    /// `Σ ln dz/dv` at `values` (observations the warp was built from): the
    /// change-of-variables term that makes the evidence of warped values
    /// comparable with that of the values themselves. The derivative at a
    /// knot is the slope between its neighbours (one-sided at the ends).
    pub fn log_jacobian(&self, values: &[f64]) -> f64 {
        let n = self.knots.len();
        let derivative = |j: usize| -> f64 {
            if n == 1 {
                return 1.0 / self.slope;
            }
            let (a, b) = (
                self.knots[j.saturating_sub(1)],
                self.knots[(j + 1).min(n - 1)],
            );
            (b.0 - a.0) / (b.1 - a.1)
        };
        values
            .iter()
            .map(|v| {
                // Knot values increase with their scores: the knot of `v` by bisection.
                let j = self.knots.partition_point(|k| k.1 < *v).min(n - 1);
                derivative(j).ln()
            })
            .sum()
    }

    /// The metric value of a score.
    pub fn inverse(&self, z: f64) -> f64 {
        let (first, last) = (self.knots[0], self.knots[self.knots.len() - 1]);
        if z <= first.0 {
            return first.1 + (z - first.0) * self.slope;
        }
        if z >= last.0 {
            return last.1 + (z - last.0) * self.slope;
        }
        let i = self.knots.partition_point(|k| k.0 <= z);
        let (a, b) = (self.knots[i - 1], self.knots[i]);
        a.1 + (z - a.0) / (b.0 - a.0) * (b.1 - a.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_returns_the_observations_and_is_monotone() {
        let values = [70.0, 10.0, 72.5, 71.0, 69.0, 72.5];
        let (warp, scores) = OutputWarp::of(&values).expect("finite");
        for (v, z) in values.iter().zip(&scores) {
            assert!((warp.inverse(*z) - v).abs() < 1e-9, "{v} ↔ {z}");
        }
        let grid: Vec<f64> = (-40..=40)
            .map(|i| warp.inverse(f64::from(i) / 10.0))
            .collect();
        assert!(grid.windows(2).all(|w| w[1] >= w[0]), "{grid:?}");
        // The outlier at 10 is one rank below 69, not 60 points.
        let gap = scores[4] - scores[1];
        assert!(gap < 1.0, "{scores:?}");
        let (single, s) = OutputWarp::of(&[3.0]).expect("finite");
        assert_eq!(
            (s, single.inverse(0.0), single.inverse(1.0)),
            (vec![0.0], 3.0, 4.0)
        );
    }
}
