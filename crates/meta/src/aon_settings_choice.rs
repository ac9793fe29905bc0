//! The architecture-conditioned AON's choice of settings, fitted on the
//! table of measured runs (`cargo xtask aon-table`): each pair's candidate
//! described by [`candidate_features`] (the AEN's embedding of its cell
//! included when an AEN is given), each setting's measured loss the target.
//! Its L2 penalty is chosen by cross-validation over the table's pairs, which
//! also says how much the choice gains over one setting for all on pairs it
//! was not fitted on.

use crate::candidate_features::{CandidateDescription, candidate_features};
use crate::error::{MetaError, Result};
use metanas_aen::MetaAen;
use metanas_aon::{
    ChooserExample, SettingsChooser, SettingsChooserConfig, SettingsTableRow, UpdateSettings,
    best_single_setting, table_pairs,
};
use serde::{Deserialize, Serialize};

/// A chooser fitted on a table, and what it was fitted on.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedSettingsChooser {
    /// The chooser that reads the candidate (the feature set and L2 penalty
    /// that cross-validation preferred).
    pub chooser: SettingsChooser,
    /// Its record for the meta-model's manifest.
    pub record: SettingsChooserRecord,
}

impl FittedSettingsChooser {
    /// The choice a search should use: the fitted chooser, or the table's
    /// best single setting for every candidate when cross-validation found
    /// that reading the candidate does not beat it
    /// ([`ChooserValidation::prefers_single_setting`]).
    ///
    /// # Errors
    /// [`MetaError::Aon`] only if the table's best setting were not among
    /// the chooser's settings (it always is).
    pub fn for_search(&self) -> Result<SettingsChooser> {
        if self.record.validation.prefers_single_setting {
            Ok(SettingsChooser::constant(
                self.chooser.settings(),
                self.record.table_best,
                crate::candidate_features::PLAIN_FEATURES,
            )?)
        } else {
            Ok(self.chooser.clone())
        }
    }
}

/// What a meta-model's chooser was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsChooserRecord {
    /// The table (as given).
    pub table: String,
    /// Pairs measured with every setting (the examples).
    pub pairs: usize,
    /// Settings chosen among.
    pub settings: usize,
    /// Features read per candidate.
    pub features: usize,
    /// Whether the features include the AEN's embedding of the cell (when
    /// an AEN was given, cross-validation chose between the plain features
    /// and these).
    pub reads_aen: bool,
    /// The setting with the lowest mean loss over the table's pairs: what a
    /// choice that ignores the candidate would take.
    pub table_best: UpdateSettings,
    /// The cross-validation that chose the L2 penalty.
    pub validation: ChooserValidation,
}

/// Cross-validation over the table's pairs (pair `i` in fold `i mod folds`):
/// each fold's pairs scored by a chooser fitted on the other folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChooserValidation {
    /// Folds.
    pub folds: usize,
    /// The L2 penalty chosen (lowest mean regret), used for the final fit.
    pub l2: f64,
    /// Each L2 penalty tried and its mean regret.
    pub regrets: Vec<(f64, f64)>,
    /// The mean regret of the best single setting of the other folds: what
    /// the choice must beat to be worth reading the candidate.
    pub single_setting_regret: f64,
    /// Whether the best single setting of the other folds lost no more than
    /// the chooser: reading the candidate did not pay on the table's pairs.
    pub prefers_single_setting: bool,
    /// With an AEN: the best mean regret of the feature set not chosen.
    pub other_features_regret: Option<f64>,
}

impl ChooserValidation {
    /// The mean regret at the chosen L2 penalty.
    pub fn regret(&self) -> f64 {
        self.regrets
            .iter()
            .find(|r| r.0 == self.l2)
            .map_or(f64::INFINITY, |r| r.1)
    }
}

/// L2 penalties the cross-validation tries.
pub const CHOOSER_L2_GRID: [f64; 5] = [1e-3, 1e-2, 1e-1, 1.0, 10.0];

/// Folds of the cross-validation (fewer when the table has fewer pairs).
pub const CHOOSER_FOLDS: usize = 5;

/// A pair's regret for choosing setting `k`: its loss above the pair's best
/// (the mean regret over pairs is what cross-validation compares);
/// a diverged choice counts as the pair's worst finite loss.
fn regret(losses: &[f64], k: usize) -> f64 {
    let finite = losses.iter().copied().filter(|l| l.is_finite());
    let best = finite.clone().fold(f64::INFINITY, f64::min);
    let worst = finite.fold(f64::NEG_INFINITY, f64::max);
    if !best.is_finite() {
        return 0.0;
    }
    let chosen = losses.get(k).copied().unwrap_or(f64::INFINITY);
    (if chosen.is_finite() { chosen } else { worst }) - best
}

/// The settings of `rows`, each once, in the order they first appear.
pub fn table_settings(rows: &[SettingsTableRow]) -> Vec<UpdateSettings> {
    let mut settings: Vec<UpdateSettings> = Vec::new();
    for row in rows {
        let s = row.settings();
        if !settings.contains(&s) {
            settings.push(s);
        }
    }
    settings
}

/// Fits a chooser among `settings` on the pairs of `rows` measured with each
/// of them; `table` names the table in the record.
///
/// # Errors
/// [`MetaError::InvalidConfig`] when no pair was measured with every setting,
/// or every setting diverged on some pair; the errors of reading a row's
/// cell, of the AEN and of fitting.
pub fn fit_settings_chooser(
    aen: Option<&MetaAen>,
    rows: &[SettingsTableRow],
    settings: &[UpdateSettings],
    table: &str,
    config: SettingsChooserConfig,
) -> Result<FittedSettingsChooser> {
    let pairs = table_pairs(rows, settings);
    if pairs.is_empty() {
        return Err(MetaError::InvalidConfig(format!(
            "the AON settings table {table} holds no pair measured with every one of its {} settings; extend it with `cargo xtask aon-table`",
            settings.len()
        )));
    }
    let descriptions: Vec<CandidateDescription> = pairs
        .iter()
        .map(|p| CandidateDescription::of_table_row(&p.row))
        .collect::<Result<_>>()?;
    let examples_of = |features: Vec<Vec<f64>>| -> Vec<ChooserExample> {
        features
            .into_iter()
            .zip(&pairs)
            .map(|(features, pair)| ChooserExample {
                features,
                losses: pair.losses.clone(),
            })
            .collect()
    };
    // The plain features alone, and with the AEN's embedding when there is an
    // AEN: the one cross-validation prefers (the plain ones on a tie).
    let plain = examples_of(candidate_features(None, &descriptions)?);
    let plain_validation = cross_validate(settings, &plain, config)?;
    let (examples, mut validation, reads_aen) = match aen {
        None => (plain, plain_validation, false),
        Some(aen) => {
            let with_aen = examples_of(candidate_features(Some(aen), &descriptions)?);
            let aen_validation = cross_validate(settings, &with_aen, config)?;
            let reads_aen = aen_validation.regret() < plain_validation.regret();
            let (mut kept, other, examples) = if reads_aen {
                (aen_validation, plain_validation, with_aen)
            } else {
                (plain_validation, aen_validation, plain)
            };
            kept.other_features_regret = Some(other.regret());
            (examples, kept, reads_aen)
        }
    };
    validation.prefers_single_setting = validation.single_setting_regret <= validation.regret();
    let chooser = SettingsChooser::fit(
        settings,
        &examples,
        SettingsChooserConfig {
            l2: validation.l2,
            ..config
        },
    )?;
    let losses: Vec<Vec<f64>> = pairs.iter().map(|p| p.losses.clone()).collect();
    let (table_best, _) = best_single_setting(settings, &losses).ok_or_else(|| {
        MetaError::InvalidConfig(format!(
            "every setting of the AON settings table {table} diverged on some pair"
        ))
    })?;
    let record = SettingsChooserRecord {
        table: table.to_string(),
        pairs: pairs.len(),
        settings: settings.len(),
        features: chooser.feature_count(),
        reads_aen,
        table_best,
        validation,
    };
    Ok(FittedSettingsChooser { chooser, record })
}

/// Chooses the L2 penalty by cross-validation over the pairs.
fn cross_validate(
    settings: &[UpdateSettings],
    examples: &[ChooserExample],
    config: SettingsChooserConfig,
) -> Result<ChooserValidation> {
    let n = examples.len();
    let folds = CHOOSER_FOLDS.min(n);
    let index_of = |s: &UpdateSettings| settings.iter().position(|x| x == s).unwrap_or(0);
    let mut single_total = 0.0;
    let mut totals = vec![0.0; CHOOSER_L2_GRID.len()];
    for fold in 0..folds.max(1) {
        let held_out = |i: usize| folds > 1 && i % folds == fold;
        let train: Vec<ChooserExample> = (0..n)
            .filter(|&i| !held_out(i))
            .map(|i| examples[i].clone())
            .collect();
        let test: Vec<usize> = (0..n).filter(|&i| held_out(i)).collect();
        if test.is_empty() {
            break;
        }
        let train_losses: Vec<Vec<f64>> = train.iter().map(|e| e.losses.clone()).collect();
        let single = best_single_setting(settings, &train_losses).map_or(0, |(s, _)| index_of(&s));
        single_total += test
            .iter()
            .map(|&i| regret(&examples[i].losses, single))
            .sum::<f64>();
        for (total, &l2) in totals.iter_mut().zip(&CHOOSER_L2_GRID) {
            let chooser =
                SettingsChooser::fit(settings, &train, SettingsChooserConfig { l2, ..config })?;
            for &i in &test {
                let chosen = chooser.choose(&examples[i].features)?;
                *total += regret(&examples[i].losses, index_of(&chosen));
            }
        }
    }
    let mean = |total: f64| total / n.max(1) as f64;
    let regrets: Vec<(f64, f64)> = CHOOSER_L2_GRID
        .iter()
        .zip(&totals)
        .map(|(&l2, &t)| (l2, mean(t)))
        .collect();
    let l2 = if folds > 1 {
        regrets
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(config.l2, |r| r.0)
    } else {
        config.l2
    };
    Ok(ChooserValidation {
        folds,
        l2,
        regrets,
        single_setting_regret: mean(single_total),
        prefers_single_setting: false,
        other_features_regret: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_space::SearchSpace;
    use metanas_space::nb201::{Nb201Cell, Nb201Space};

    const A: UpdateSettings = UpdateSettings {
        adam_step: 1e-3,
        sgd_nesterov_step: None,
        warmup_steps: 0,
    };
    const B: UpdateSettings = UpdateSettings {
        adam_step: 1e-2,
        sgd_nesterov_step: Some(0.1),
        warmup_steps: 0,
    };

    /// 30 pairs of distinct cells; `loss(pair, cell, setting)` gives each run's loss.
    fn rows(loss: impl Fn(usize, &Nb201Cell, UpdateSettings) -> f64) -> Vec<SettingsTableRow> {
        let cells: Vec<Nb201Cell> = Nb201Space
            .enumerate()
            .expect("finite")
            .step_by(499)
            .take(30)
            .collect();
        let mut rows = Vec::new();
        for (pair, cell) in cells.iter().enumerate() {
            for settings in [A, B] {
                rows.push(SettingsTableRow {
                    pair,
                    table_seed: 0,
                    cell: Nb201Space.format(cell),
                    channels: 4,
                    cells_per_stage: 1,
                    classes: "0 1 2 3 4".into(),
                    train_images: 500,
                    image_shape: "1x28x28".into(),
                    steps: 100,
                    batch_size: 16,
                    adam_step: settings.adam_step,
                    sgd_nesterov_step: settings.sgd_nesterov_step,
                    warmup_steps: 0,
                    validation_loss: Some(loss(pair, cell, settings)),
                    validation_accuracy: Some(0.8),
                    seconds: 1.0,
                });
            }
        }
        rows
    }

    #[test]
    fn without_a_signal_in_the_candidate_the_search_gets_the_best_single_setting() {
        // B is better on average; which setting wins a pair is noise that no
        // feature of the candidate predicts.
        let noise = |pair: usize| ((pair * 7919 + 13) % 31) as f64 / 31.0;
        let table = rows(|pair, _, s| {
            if s == B {
                0.5 + 0.1 * noise(pair)
            } else {
                0.52 + 0.1 * noise(pair * 3 + 1)
            }
        });
        let fitted = fit_settings_chooser(
            None,
            &table,
            &table_settings(&table),
            "noise",
            SettingsChooserConfig::default(),
        )
        .expect("fits");
        assert_eq!(table_settings(&table), vec![A, B]);
        assert_eq!(fitted.record.table_best, B);
        assert_eq!(fitted.record.validation.folds, CHOOSER_FOLDS);
        assert_eq!(
            fitted.record.validation.regrets.len(),
            CHOOSER_L2_GRID.len()
        );
        assert!(
            fitted.record.validation.prefers_single_setting,
            "{:?}",
            fitted.record.validation
        );
        let search = fitted.for_search().expect("a chooser");
        for cell in Nb201Space
            .enumerate()
            .expect("finite")
            .step_by(1543)
            .take(10)
        {
            let features = candidate_features(
                None,
                &[CandidateDescription {
                    cell,
                    channels: 8,
                    cells_per_stage: 1,
                    classes: 10,
                    train_images: 6400,
                    image_shape: [1, 28, 28],
                }],
            )
            .expect("features");
            assert_eq!(search.choose(&features[0]).expect("chooses"), B);
        }
    }

    #[test]
    fn a_table_without_a_complete_pair_is_refused_with_what_to_do() {
        let mut table = rows(|_, _, _| 0.5);
        table.retain(|r| r.settings() == A);
        match fit_settings_chooser(None, &table, &[A, B], "half", Default::default()) {
            Err(MetaError::InvalidConfig(message)) => {
                assert!(message.contains("aon-table"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
