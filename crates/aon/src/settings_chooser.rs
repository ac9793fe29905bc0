//! Choosing the update rule's settings for a candidate from what is known of
//! it before training (its features: the cell's embedding, its width, the
//! task's statistics), learned from measured sweeps
//! ([`crate::extend_settings_table`]).
//!
//! The chooser is a softmax over the grid's settings whose logits are linear
//! in the standardised features. It is fitted to soft targets: on each
//! measured pair, a setting's target weight falls exponentially with how much
//! worse its loss is than the pair's best (relative, `exp(−(loss/best − 1)/τ)`),
//! so near-ties share the weight and diverged runs get none. With features
//! that say nothing, the fit is its bias alone, the setting that is best over
//! all pairs; anything beyond that comes from the features. Fitted by Adam on
//! the mean cross-entropy plus an L2 penalty on the weights, in `f64`,
//! deterministically; saved as JSON.

use crate::error::AonError;
use crate::update_settings::UpdateSettings;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One measured pair: its features and every setting's final loss (in the
/// chooser's order of settings; infinite or NaN for a diverged run).
#[derive(Debug, Clone, PartialEq)]
pub struct ChooserExample {
    /// What is known of the pair before training.
    pub features: Vec<f64>,
    /// The final validation loss of each setting.
    pub losses: Vec<f64>,
}

/// How a [`SettingsChooser`] is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SettingsChooserConfig {
    /// `τ` of the soft targets: a setting whose loss is `τ` (relative) above
    /// the pair's best gets `1/e` of the best's weight.
    pub temperature: f64,
    /// L2 penalty on the weights (not the bias).
    pub l2: f64,
    /// Full-batch Adam steps.
    pub steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
}

impl Default for SettingsChooserConfig {
    fn default() -> Self {
        Self {
            temperature: 0.05,
            l2: 1e-2,
            steps: 2000,
            learning_rate: 0.05,
        }
    }
}

/// A fitted choice of settings from features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsChooser {
    settings: Vec<UpdateSettings>,
    means: Vec<f64>,
    scales: Vec<f64>,
    /// `[settings][features]`
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
    config: SettingsChooserConfig,
}

/// The soft target of one pair (`None` when every setting diverged).
fn soft_target(losses: &[f64], temperature: f64) -> Option<Vec<f64>> {
    let best = losses
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .fold(f64::INFINITY, f64::min);
    if !best.is_finite() {
        return None;
    }
    let scale = best.abs().max(1e-12);
    let mut weights: Vec<f64> = losses
        .iter()
        .map(|&l| {
            if l.is_finite() {
                (-((l - best) / scale) / temperature).exp()
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    Some(weights)
}

fn softmax(logits: &mut [f64]) {
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    logits.iter_mut().for_each(|l| *l = (*l - top).exp());
    let total: f64 = logits.iter().sum();
    logits.iter_mut().for_each(|l| *l /= total);
}

/// Adam's moments of one parameter vector.
struct Moments {
    first: Vec<f64>,
    second: Vec<f64>,
}

impl Moments {
    fn new(n: usize) -> Self {
        Self {
            first: vec![0.0; n],
            second: vec![0.0; n],
        }
    }

    fn step(&mut self, values: &mut [f64], gradient: &[f64], rate: f64, t: i32) {
        let (b1, b2, eps) = (0.9_f64, 0.999_f64, 1e-8);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        for (i, v) in values.iter_mut().enumerate() {
            self.first[i] = b1 * self.first[i] + (1.0 - b1) * gradient[i];
            self.second[i] = b2 * self.second[i] + (1.0 - b2) * gradient[i] * gradient[i];
            *v -= rate * (self.first[i] / c1) / ((self.second[i] / c2).sqrt() + eps);
        }
    }
}

impl SettingsChooser {
    /// Fits a chooser among `settings` to `examples`.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] for no settings, no usable example (one
    /// with a finite loss), examples whose feature or loss counts differ from
    /// the first's / the settings', non-finite features, or bad fitting settings.
    pub fn fit(
        settings: &[UpdateSettings],
        examples: &[ChooserExample],
        config: SettingsChooserConfig,
    ) -> crate::error::Result<Self> {
        let bad = |m: String| Err(AonError::InvalidConfig(m));
        if settings.is_empty() {
            return bad("a settings chooser needs at least one setting".into());
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let valid = positive(config.temperature)
            && positive(config.learning_rate)
            && config.l2.is_finite()
            && config.l2 >= 0.0;
        if !valid {
            return bad(format!(
                "the chooser's temperature and learning rate must be positive and its L2 ≥ 0, got {config:?}"
            ));
        }
        let d = examples.first().map_or(0, |e| e.features.len());
        if let Some((i, e)) = examples
            .iter()
            .enumerate()
            .find(|(_, e)| e.features.len() != d || e.losses.len() != settings.len())
        {
            return bad(format!(
                "example {i} has {} features and {} losses; expected {d} and {} (one per setting)",
                e.features.len(),
                e.losses.len(),
                settings.len()
            ));
        }
        if let Some(i) = examples
            .iter()
            .position(|e| e.features.iter().any(|x| !x.is_finite()))
        {
            return bad(format!("example {i} has a feature that is not finite"));
        }
        let usable: Vec<(&ChooserExample, Vec<f64>)> = examples
            .iter()
            .filter_map(|e| soft_target(&e.losses, config.temperature).map(|t| (e, t)))
            .collect();
        if usable.is_empty() {
            return bad("no example has a finite loss to learn from".into());
        }
        let n = usable.len() as f64;
        let means: Vec<f64> = (0..d)
            .map(|j| usable.iter().map(|(e, _)| e.features[j]).sum::<f64>() / n)
            .collect();
        let scales: Vec<f64> = (0..d)
            .map(|j| {
                let var = usable
                    .iter()
                    .map(|(e, _)| (e.features[j] - means[j]).powi(2))
                    .sum::<f64>()
                    / n;
                if var > 1e-24 { var.sqrt() } else { 1.0 }
            })
            .collect();
        let standardised: Vec<Vec<f64>> = usable
            .iter()
            .map(|(e, _)| {
                e.features
                    .iter()
                    .zip(means.iter().zip(&scales))
                    .map(|(x, (m, s))| (x - m) / s)
                    .collect()
            })
            .collect();
        let s = settings.len();
        let mut chooser = Self {
            settings: settings.to_vec(),
            means,
            scales,
            weights: vec![vec![0.0; d]; s],
            bias: vec![0.0; s],
            config,
        };
        let mut flat_weights = vec![0.0; s * d];
        let (mut weight_moments, mut bias_moments) = (Moments::new(s * d), Moments::new(s));
        for t in 1..=config.steps {
            let mut weight_grad = vec![0.0; s * d];
            let mut bias_grad = vec![0.0; s];
            for (x, (_, target)) in standardised.iter().zip(&usable) {
                let mut p = chooser.bias.clone();
                for (k, pk) in p.iter_mut().enumerate() {
                    *pk += (0..d).map(|j| flat_weights[k * d + j] * x[j]).sum::<f64>();
                }
                softmax(&mut p);
                for k in 0..s {
                    let g = (p[k] - target[k]) / n;
                    bias_grad[k] += g;
                    for j in 0..d {
                        weight_grad[k * d + j] += g * x[j];
                    }
                }
            }
            for (g, w) in weight_grad.iter_mut().zip(&flat_weights) {
                *g += config.l2 * w;
            }
            let step = i32::try_from(t).unwrap_or(i32::MAX);
            weight_moments.step(&mut flat_weights, &weight_grad, config.learning_rate, step);
            bias_moments.step(&mut chooser.bias, &bias_grad, config.learning_rate, step);
        }
        for (k, row) in chooser.weights.iter_mut().enumerate() {
            row.copy_from_slice(&flat_weights[k * d..(k + 1) * d]);
        }
        Ok(chooser)
    }

    /// A chooser that takes `choice` whatever the candidate, reading
    /// `features` features (so that it stands where a fitted one would):
    /// the fallback when reading the candidate does not beat one setting for
    /// all. `choice` gets nearly all the probability.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] when `choice` is not one of `settings`.
    pub fn constant(
        settings: &[UpdateSettings],
        choice: UpdateSettings,
        features: usize,
    ) -> crate::error::Result<Self> {
        let Some(k) = settings.iter().position(|s| *s == choice) else {
            return Err(AonError::InvalidConfig(format!(
                "{choice} is not one of the {} settings to choose among",
                settings.len()
            )));
        };
        let mut bias = vec![0.0; settings.len()];
        bias[k] = 20.0;
        Ok(Self {
            settings: settings.to_vec(),
            means: vec![0.0; features],
            scales: vec![1.0; features],
            weights: vec![vec![0.0; features]; settings.len()],
            bias,
            config: SettingsChooserConfig::default(),
        })
    }

    /// The settings it chooses among, in order.
    pub fn settings(&self) -> &[UpdateSettings] {
        &self.settings
    }

    /// How many features it reads.
    pub fn feature_count(&self) -> usize {
        self.means.len()
    }

    /// The probability it gives each setting of being the best for a pair with `features`.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] when `features` has another length or a non-finite value.
    pub fn probabilities(&self, features: &[f64]) -> crate::error::Result<Vec<f64>> {
        if features.len() != self.means.len() || features.iter().any(|x| !x.is_finite()) {
            return Err(AonError::InvalidConfig(format!(
                "the settings chooser reads {} finite features, got {} ({:?})",
                self.means.len(),
                features.len(),
                features
            )));
        }
        let x: Vec<f64> = features
            .iter()
            .zip(self.means.iter().zip(&self.scales))
            .map(|(x, (m, s))| (x - m) / s)
            .collect();
        let mut p: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(row, b)| b + row.iter().zip(&x).map(|(w, v)| w * v).sum::<f64>())
            .collect();
        softmax(&mut p);
        Ok(p)
    }

    /// The setting it chooses for a pair with `features` (the most probable).
    ///
    /// # Errors
    /// As [`Self::probabilities`].
    pub fn choose(&self, features: &[f64]) -> crate::error::Result<UpdateSettings> {
        let p = self.probabilities(features)?;
        let best = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(k, _)| k);
        Ok(self.settings[best])
    }

    /// Saves it as JSON.
    ///
    /// # Errors
    /// [`AonError::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> crate::error::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| AonError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|source| AonError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Loads a chooser saved by [`Self::save`].
    ///
    /// # Errors
    /// [`AonError::Io`] / [`AonError::Json`] naming the file; [`AonError::InvalidConfig`]
    /// when its parts do not fit together.
    pub fn load(path: &Path) -> crate::error::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| AonError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let chooser: Self = serde_json::from_str(&text).map_err(|e| AonError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let (s, d) = (chooser.settings.len(), chooser.means.len());
        if s == 0
            || chooser.bias.len() != s
            || chooser.weights.len() != s
            || chooser.weights.iter().any(|r| r.len() != d)
            || chooser.scales.len() != d
        {
            return Err(AonError::InvalidConfig(format!(
                "{}: the chooser's settings, weights and feature statistics do not fit together",
                path.display()
            )));
        }
        for settings in &chooser.settings {
            settings.check()?;
        }
        Ok(chooser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn a_constant_chooser_takes_its_setting_for_any_candidate() {
        let settings = crate::SettingsGrid::default().settings().expect("grid");
        let chooser = SettingsChooser::constant(&settings, settings[7], 3).expect("one of them");
        for features in [[0.0, 0.0, 0.0], [5.0, -2.0, 1e3]] {
            assert_eq!(chooser.choose(&features).expect("chooses"), settings[7]);
            assert!(chooser.probabilities(&features).expect("p")[7] > 0.999);
        }
        assert!(chooser.choose(&[1.0]).is_err(), "reads 3 features");
        let other = UpdateSettings {
            adam_step: 0.5,
            ..settings[0]
        };
        assert!(SettingsChooser::constant(&settings, other, 3).is_err());
    }

    fn grid() -> Vec<UpdateSettings> {
        [1e-3, 1e-2, 3e-2]
            .into_iter()
            .map(|adam_step| UpdateSettings {
                adam_step,
                sgd_nesterov_step: None,
                warmup_steps: 0,
            })
            .collect()
    }

    /// Pairs whose best setting is decided by the sign of feature 0 (setting 0
    /// or 2; setting 1 is never best); feature 1 is noise.
    fn pairs(n: usize, seed: u64) -> Vec<ChooserExample> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let signal: f64 = rng.random_range(-1.0..1.0);
                let noise: f64 = rng.random_range(-1.0..1.0);
                let base = 0.3 + 0.2 * rng.random::<f64>();
                let (low, high) = if signal > 0.0 {
                    (base, base * 1.3)
                } else {
                    (base * 1.3, base)
                };
                ChooserExample {
                    features: vec![signal, noise],
                    losses: vec![low, base * 1.2, high],
                }
            })
            .collect()
    }

    fn hits(chooser: &SettingsChooser, examples: &[ChooserExample], shuffle: bool) -> usize {
        examples
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                let features = if shuffle {
                    &examples[(i + examples.len() / 2) % examples.len()].features
                } else {
                    &e.features
                };
                let chosen = chooser.choose(features).expect("valid features");
                let best = e
                    .losses
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(k, _)| k)
                    .expect("losses");
                chosen == chooser.settings()[best]
            })
            .count()
    }

    #[test]
    fn it_learns_which_feature_decides_the_best_setting_and_loses_it_when_shuffled() {
        let chooser =
            SettingsChooser::fit(&grid(), &pairs(60, 1), SettingsChooserConfig::default())
                .expect("fits");
        let unseen = pairs(40, 2);
        let own = hits(&chooser, &unseen, false);
        let shuffled = hits(&chooser, &unseen, true);
        assert!(own >= 37, "chose the best setting on {own}/40 unseen pairs");
        assert!(shuffled <= 28, "with shuffled features still {shuffled}/40");
    }

    #[test]
    fn without_informative_features_it_picks_the_best_setting_over_all_pairs() {
        // Setting 1 is best everywhere; the features are noise.
        let examples: Vec<ChooserExample> = pairs(30, 3)
            .into_iter()
            .map(|e| ChooserExample {
                losses: vec![e.losses[1] * 1.5, e.losses[1], f64::INFINITY],
                ..e
            })
            .collect();
        let chooser = SettingsChooser::fit(&grid(), &examples, SettingsChooserConfig::default())
            .expect("fits");
        for e in pairs(10, 4) {
            assert_eq!(chooser.choose(&e.features).expect("valid"), grid()[1]);
        }
    }

    #[test]
    fn it_round_trips_through_json_and_refuses_bad_input() {
        let chooser =
            SettingsChooser::fit(&grid(), &pairs(20, 5), SettingsChooserConfig::default())
                .expect("fits");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chooser.json");
        chooser.save(&path).expect("saves");
        let loaded = SettingsChooser::load(&path).expect("loads");
        assert_eq!(loaded, chooser);
        assert!(chooser.choose(&[0.1]).is_err(), "one feature too few");
        assert!(chooser.choose(&[0.1, f64::NAN]).is_err());

        let config = SettingsChooserConfig::default();
        assert!(SettingsChooser::fit(&[], &pairs(5, 6), config).is_err());
        assert!(SettingsChooser::fit(&grid(), &[], config).is_err());
        let mut ragged = pairs(5, 7);
        ragged[3].losses.pop();
        let message = SettingsChooser::fit(&grid(), &ragged, config)
            .expect_err("ragged")
            .to_string();
        assert!(message.contains("example 3"), "{message}");
        let diverged = vec![ChooserExample {
            features: vec![0.0, 0.0],
            losses: vec![f64::INFINITY; 3],
        }];
        assert!(SettingsChooser::fit(&grid(), &diverged, config).is_err());
        std::fs::write(&path, "{\"settings\": []}").expect("writes");
        assert!(SettingsChooser::load(&path).is_err());
    }
}
