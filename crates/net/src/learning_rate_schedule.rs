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
    /// A linear warm-up from `base / warmup_steps` to the base rate over the first
    /// `warmup_steps` steps, then cosine annealing towards zero at the last step.
    WarmupCosine {
        /// Steps of the linear warm-up (0: plain cosine).
        warmup_steps: usize,
    },
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
            Self::WarmupCosine { warmup_steps } => {
                let warmup = (*warmup_steps).min(total.saturating_sub(1));
                if step < warmup {
                    base * (step + 1) as f64 / warmup as f64
                } else {
                    Self::Cosine.rate(base, step - warmup, total - warmup)
                }
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

    #[test]
    fn warm_up_climbs_linearly_then_cosine_decays_to_zero() {
        let s = LearningRateSchedule::WarmupCosine { warmup_steps: 10 };
        // Warm-up: 0.01, 0.02, …, 0.1 at steps 0..10.
        for step in 0..10 {
            let expected = 0.1 * (step + 1) as f64 / 10.0;
            assert!(
                (s.rate(0.1, step, 110) - expected).abs() < 1e-12,
                "step {step}"
            );
        }
        // Cosine over the remaining 100 steps: base at 10, half at 60, ~0 at the end.
        assert!((s.rate(0.1, 10, 110) - 0.1).abs() < 1e-12);
        assert!((s.rate(0.1, 60, 110) - 0.05).abs() < 1e-12);
        assert!(s.rate(0.1, 109, 110) < 1e-4);
        let rates: Vec<f64> = (10..110).map(|step| s.rate(0.1, step, 110)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]), "cosine decreases");
        // No warm-up is plain cosine; a warm-up longer than the run stays finite.
        let plain = LearningRateSchedule::WarmupCosine { warmup_steps: 0 };
        assert_eq!(
            plain.rate(0.1, 30, 100),
            LearningRateSchedule::Cosine.rate(0.1, 30, 100)
        );
        let long = LearningRateSchedule::WarmupCosine { warmup_steps: 50 };
        assert!((0..5).all(|step| long.rate(0.1, step, 5).is_finite()));
    }
}
