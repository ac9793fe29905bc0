//! Learning-rate schedules by step.

use serde::{Deserialize, Serialize};

/// How the learning rate moves from its base value over a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LearningRateSchedule {
    /// The base rate throughout.
    Constant,
    /// Cosine annealing from the base rate towards zero at the last step (NAS-Bench-201's schedule).
    #[default]
    Cosine,
}

impl LearningRateSchedule {
    /// The rate at zero-based `step` of `total` steps.
    pub fn rate(&self, base: f64, step: usize, total: usize) -> f64 {
        match self {
            Self::Constant => base,
            Self::Cosine => {
                let progress = step as f64 / total.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_starts_at_base_and_halves_midway() {
        let s = LearningRateSchedule::Cosine;
        assert!((s.rate(0.1, 0, 100) - 0.1).abs() < 1e-12);
        assert!((s.rate(0.1, 50, 100) - 0.05).abs() < 1e-12);
        assert!(s.rate(0.1, 99, 100) < 1e-4);
        assert_eq!(LearningRateSchedule::Constant.rate(0.1, 99, 100), 0.1);
    }
}
