//! One image's class scores and predicted class.

use serde::{Deserialize, Serialize};

/// What a model says about one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The predicted class (the largest score; the first one on a tie).
    pub class: usize,
    /// The class scores (logits), one per class.
    pub logits: Vec<f32>,
    /// The softmax of the scores.
    pub probabilities: Vec<f32>,
}

impl Prediction {
    /// The prediction of one image's class scores (at least one).
    pub fn from_logits(logits: &[f32]) -> Self {
        let (class, &largest) =
            logits
                .iter()
                .enumerate()
                .fold((0, &f32::NEG_INFINITY), |best, (k, v)| {
                    if *v > *best.1 { (k, v) } else { best }
                });
        let exponentials: Vec<f32> = logits.iter().map(|v| (v - largest).exp()).collect();
        let total: f32 = exponentials.iter().sum();
        Self {
            class,
            logits: logits.to_vec(),
            probabilities: exponentials.iter().map(|e| e / total).collect(),
        }
    }

    /// The probability of the predicted class.
    pub fn probability(&self) -> f32 {
        self.probabilities.get(self.class).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_score_wins_and_probabilities_are_its_softmax() {
        let p = Prediction::from_logits(&[1.0, 3.0, 3.0, -2.0]);
        assert_eq!(p.class, 1, "first of a tie");
        let total: f32 = p.probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-6);
        // softmax([1, 3, 3, -2])[1] = e³ / (e + 2e³ + e⁻²) = 0.4668…
        assert!(
            (p.probability() - 0.466_8).abs() < 1e-4,
            "{}",
            p.probability()
        );
        // Large scores do not overflow.
        let p = Prediction::from_logits(&[1000.0, 0.0]);
        assert_eq!((p.class, p.probability()), (0, 1.0));
    }
}
