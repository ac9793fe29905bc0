//! Acquisition functions: how Bayesian optimization trades the predicted
//! score against the uncertainty of a candidate.

use metanas_aen::Prediction;
use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which acquisition function ranks the candidates (scores: higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Default)]
pub enum Acquisition {
    /// Expected improvement over the best observed score.
    #[default]
    ExpectedImprovement,
    /// Upper confidence bound `mean + beta · std`.
    UpperConfidenceBound {
        /// Weight of the standard deviation.
        beta: f64,
    },
    /// Thompson sampling: one draw from each candidate's predictive normal.
    ThompsonSampling,
}

impl Acquisition {
    /// A short stable name (`ei`, `ucb`, `ts`).
    pub fn short_name(&self) -> &'static str {
        match self {
            Self::ExpectedImprovement => "ei",
            Self::UpperConfidenceBound { .. } => "ucb",
            Self::ThompsonSampling => "ts",
        }
    }

    /// The acquisition value of each prediction. `incumbent` is the best
    /// observed score (`None` before any: then the predicted mean is used).
    pub fn values(
        &self,
        predictions: &[Prediction],
        incumbent: Option<f64>,
        rng: &mut StdRng,
    ) -> Vec<f64> {
        match *self {
            Self::ExpectedImprovement => match incumbent {
                Some(best) => predictions
                    .iter()
                    .map(|p| expected_improvement(p, best))
                    .collect(),
                None => predictions.iter().map(|p| p.mean).collect(),
            },
            Self::UpperConfidenceBound { beta } => {
                predictions.iter().map(|p| p.mean + beta * p.std).collect()
            }
            Self::ThompsonSampling => predictions
                .iter()
                .map(|p| p.mean + p.std * standard_normal(rng))
                .collect(),
        }
    }
}

impl fmt::Display for Acquisition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UpperConfidenceBound { beta } => write!(f, "ucb(beta={beta})"),
            other => f.write_str(other.short_name()),
        }
    }
}

impl FromStr for Acquisition {
    type Err = String;

    /// `ei`, `ucb` (beta 2), `ucb:<beta>`, `ts`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ei" => Ok(Self::ExpectedImprovement),
            "ts" | "thompson" => Ok(Self::ThompsonSampling),
            "ucb" => Ok(Self::UpperConfidenceBound { beta: 2.0 }),
            _ => match s.strip_prefix("ucb:").map(str::parse::<f64>) {
                Some(Ok(beta)) if beta.is_finite() && beta >= 0.0 => {
                    Ok(Self::UpperConfidenceBound { beta })
                }
                _ => Err(format!(
                    "unknown acquisition `{s}` (expected ei, ucb, ucb:<beta ≥ 0> or ts)"
                )),
            },
        }
    }
}

/// `E[max(X − best, 0)]` for `X ~ N(mean, std²)`.
pub fn expected_improvement(prediction: &Prediction, best: f64) -> f64 {
    let gap = prediction.mean - best;
    if prediction.std <= 1e-12 || !prediction.std.is_finite() {
        return gap.max(0.0);
    }
    let z = gap / prediction.std;
    gap * normal_cdf(z) + prediction.std * normal_pdf(z)
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ(z) through erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_254).abs() < 1e-6);
    }

    #[test]
    fn expected_improvement_prefers_promise_and_uncertainty() {
        let p = |mean, std| Prediction { mean, std };
        // Higher mean, same std: more improvement expected.
        assert!(expected_improvement(&p(1.0, 0.5), 0.8) > expected_improvement(&p(0.9, 0.5), 0.8));
        // Same mean below the best: more uncertainty, more improvement.
        assert!(expected_improvement(&p(0.5, 1.0), 0.8) > expected_improvement(&p(0.5, 0.1), 0.8));
        // Deterministic prediction: the plain gap.
        assert_eq!(expected_improvement(&p(1.0, 0.0), 0.8), 0.19999999999999996);
        assert_eq!(expected_improvement(&p(0.5, 0.0), 0.8), 0.0);
        // Monte-Carlo check of the closed form.
        let mut rng = StdRng::seed_from_u64(3);
        let n = 200_000;
        let mc: f64 = (0..n)
            .map(|_| (0.3 + 0.7 * standard_normal(&mut rng) - 0.5).max(0.0))
            .sum::<f64>()
            / n as f64;
        assert!(
            (mc - expected_improvement(&p(0.3, 0.7), 0.5)).abs() < 5e-3,
            "{mc}"
        );
    }

    #[test]
    fn parses_and_names() {
        assert_eq!(
            "ei".parse::<Acquisition>(),
            Ok(Acquisition::ExpectedImprovement)
        );
        assert_eq!(
            "ucb:0.5".parse::<Acquisition>(),
            Ok(Acquisition::UpperConfidenceBound { beta: 0.5 })
        );
        assert_eq!(
            "ts".parse::<Acquisition>(),
            Ok(Acquisition::ThompsonSampling)
        );
        assert!("ucb:-1".parse::<Acquisition>().is_err());
        assert!("greedy".parse::<Acquisition>().is_err());
        let values = Acquisition::UpperConfidenceBound { beta: 2.0 }.values(
            &[Prediction {
                mean: 1.0,
                std: 0.5,
            }],
            None,
            &mut StdRng::seed_from_u64(0),
        );
        assert_eq!(values, vec![2.0]);
    }
}
