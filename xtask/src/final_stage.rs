//! The final stage of `cargo xtask search`: the winner trained with the final
//! recipe, and the reference cells trained the same way to compare with.

use crate::final_stage_args::FinalStageArgs;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use metanas_device::BackendChoice;
use metanas_net::Evaluation;
use metanas_search::{
    FinalData, FinalLength, FinalProgress, FinalResult, FinalTrainingConfig, train_final,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A reference cell's place in the comparison.
#[derive(Debug)]
pub struct ReferenceOutcome {
    /// `resnet` or `largest`.
    pub reference: String,
    /// Its NAS-Bench-201 text form.
    pub architecture: String,
    /// Whether the search's winner is this cell (then it is not trained twice).
    pub is_found: bool,
    /// Its final training (the winner's, when it is the winner).
    pub result: FinalResult,
}

/// What the final stage produced.
#[derive(Debug)]
pub struct FinalStageOutcome {
    /// The winner's final training.
    pub found: FinalResult,
    /// The references, in the order asked for.
    pub references: Vec<ReferenceOutcome>,
}

/// The model of the final stage whose kept checkpoint scored best on the
/// validation split, and by how much.
#[derive(Debug, Clone, PartialEq)]
pub struct BestByValidation {
    /// `found` or the reference's name.
    pub model: String,
    /// Its folder, relative to the search's output folder.
    pub dir: PathBuf,
    /// Its kept checkpoint's validation loss and accuracy.
    pub validation: Evaluation,
    /// The next best model on the validation split, and its score.
    pub runner_up: Option<(String, Evaluation)>,
}

impl BestByValidation {
    /// One standard error of the chosen model's validation accuracy,
    /// `√(p(1−p)/n)` over the split's `n` images: a lead smaller than this is
    /// within the split's noise.
    pub fn standard_error(&self) -> f64 {
        let p = self.validation.accuracy;
        (p * (1.0 - p) / self.validation.examples.max(1) as f64).sqrt()
    }
}

impl FinalStageOutcome {
    /// Among the found model and the references trained beside it, the one
    /// whose kept checkpoint has the highest validation accuracy (the lower
    /// validation loss on a tie, the found model on a full tie): how to choose
    /// among them without the test split, whose accuracies then stay unbiased
    /// reports. The split is small (a tenth of the training images by
    /// default), so the lead comes with the split's standard error. `None`
    /// without references or without a validation split.
    pub fn best_by_validation(&self) -> Option<BestByValidation> {
        if self.references.iter().all(|r| r.is_found) {
            return None;
        }
        let candidates =
            std::iter::once(("found", PathBuf::from("model"), self.found.kept_validation)).chain(
                self.references.iter().filter(|r| !r.is_found).map(|r| {
                    (
                        r.reference.as_str(),
                        Path::new("references").join(&r.reference),
                        r.result.kept_validation,
                    )
                }),
            );
        rank_by_validation(candidates)
    }

    /// [`Self::best_by_validation`] for `results.json`.
    pub fn best_by_validation_json(&self) -> Value {
        self.best_by_validation().map_or(Value::Null, |m| {
            json!({
                "model": m.model,
                "dir": m.dir,
                "validation": m.validation,
                "validation_standard_error": m.standard_error(),
                "runner_up": m.runner_up.map(|(model, validation)| json!({
                    "model": model,
                    "validation": validation,
                })),
            })
        })
    }

    /// The references for `results.json`: name, cell, whether it is the found
    /// cell, and its final training.
    pub fn references_json(&self) -> Value {
        Value::Array(
            self.references
                .iter()
                .map(|r| {
                    json!({
                        "reference": r.reference,
                        "architecture": r.architecture,
                        "is_found": r.is_found,
                        "result": r.result,
                    })
                })
                .collect(),
        )
    }
}

/// The first of `candidates` (name, folder, kept validation) with the highest
/// validation accuracy, the lower loss on a tie, and the next best beside it;
/// `None` if one has no validation.
fn rank_by_validation<'a>(
    candidates: impl IntoIterator<Item = (&'a str, PathBuf, Option<Evaluation>)>,
) -> Option<BestByValidation> {
    let mut ranked = candidates
        .into_iter()
        .map(|(model, dir, validation)| Some((model, dir, validation?)))
        .collect::<Option<Vec<_>>>()?;
    // Stable: a full tie keeps the earlier candidate first.
    ranked.sort_by(|a, b| {
        b.2.accuracy
            .total_cmp(&a.2.accuracy)
            .then(a.2.loss.total_cmp(&b.2.loss))
    });
    let mut ranked = ranked.into_iter();
    let (model, dir, validation) = ranked.next()?;
    Some(BestByValidation {
        model: model.to_string(),
        dir,
        validation,
        runner_up: ranked.next().map(|(m, _, e)| (m.to_string(), e)),
    })
}

/// Trains the winner `architecture` (saved to `out/model`) and each reference
/// (saved to `out/references/<name>`) with the same settings; `None` when
/// `--final-epochs 0` skips the stage.
///
/// # Errors
/// Bad flags, training or saving.
pub fn run_final_stage(
    args: &FinalStageArgs,
    seed: u64,
    quiet: bool,
    architecture: &str,
    data: FinalData<'_>,
    backend: BackendChoice,
    out: &Path,
) -> anyhow::Result<Option<FinalStageOutcome>> {
    let Some(config) = args.config(seed)? else {
        return Ok(None);
    };

    let references = args.references()?;
    let found = train_one(
        "found",
        architecture,
        data,
        &config,
        backend,
        quiet,
        &out.join("model"),
    )?;
    let mut outcomes = Vec::new();
    for reference in references {
        let is_found = reference.is(architecture)?;
        let result = if is_found {
            eprintln!("the winner is the {reference} reference cell: not trained twice");
            found.clone()
        } else {
            train_one(
                reference.name(),
                reference.architecture(),
                data,
                &config,
                backend,
                quiet,
                &out.join("references").join(reference.name()),
            )?
        };
        outcomes.push(ReferenceOutcome {
            reference: reference.name().to_string(),
            architecture: reference.architecture().to_string(),
            is_found,
            result,
        });
    }
    Ok(Some(FinalStageOutcome {
        found,
        references: outcomes,
    }))
}

/// Final training of one cell, with a progress bar, saved to `dir`.
fn train_one(
    role: &str,
    architecture: &str,
    data: FinalData<'_>,
    config: &FinalTrainingConfig,
    backend: BackendChoice,
    quiet: bool,
    dir: &Path,
) -> anyhow::Result<FinalResult> {
    let space = Nb201Space;
    let arch = space.parse(architecture)?;
    let length = match config.length {
        FinalLength::Epochs(epochs) => format!("{epochs} epochs"),
        FinalLength::Seconds(seconds) => format!("{seconds:.0} s"),
    };
    eprintln!(
        "final training ({role}) of {architecture}: C={} N={} for {length} on {} images …",
        config.channels,
        config.cells_per_stage,
        data.train.len()
    );
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    if let Ok(style) = ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} steps  {msg}") {
        bar.set_style(style);
    }
    bar.set_prefix(role.to_string());
    let mut progress = |p: &FinalProgress| {
        bar.set_length(p.planned_steps as u64);
        bar.set_position(p.step as u64);
        let validation = p
            .validation_accuracy
            .map_or(String::from("–"), |a| format!("{:.2}%", 100.0 * a));
        bar.set_message(format!(
            "epoch {}/{}  loss {:.4}  val {validation}  eta {:.0} s",
            p.epoch + 1,
            p.planned_epochs,
            p.smoothed_loss,
            p.eta_seconds
        ));
    };
    let model = train_final(
        &arch,
        space.name(),
        architecture,
        data,
        config,
        &backend.autodiff_device(),
        &mut progress,
    )?;
    bar.finish_and_clear();
    model
        .save(dir)
        .with_context(|| format!("saving the final model to {}", dir.display()))?;
    let result = model.result;
    let flip = match &result.mirror_check {
        Some(check) => format!(
            "flip {} (auto: mirrored images keep {:.0} % of the nearest-class-mean accuracy)",
            on_off(result.augmentation.flip_horizontal),
            100.0 * check.ratio()
        ),
        None => format!("flip {}", on_off(result.augmentation.flip_horizontal)),
    };
    eprintln!(
        "{role}: test accuracy {:.2} % ({} images); kept epoch {:.1} of {:.1} (--final-keep {}; {}), {flip}, {:.0} s; saved in {}",
        100.0 * result.test.accuracy,
        result.test.examples,
        result.epochs_at(result.kept_step),
        result.epochs,
        result.config.keep,
        result
            .kept_validation
            .map_or(String::from("no validation split"), |e| format!(
                "validation loss {:.4}, accuracy {:.2} %",
                e.loss,
                100.0 * e.accuracy
            )),
        result.seconds,
        dir.display()
    );
    Ok(result)
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Prints the winner beside the references: test accuracy, parameters, time.
pub fn print_comparison(outcome: &FinalStageOutcome) {
    if outcome.references.is_empty() {
        return;
    }
    println!();
    println!("| model | cell | params | kept epoch's validation % | test % | seconds |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, r: &FinalResult| {
        println!(
            "| {name} | {} | {} | {} | {:.2} | {:.0} |",
            r.architecture,
            r.params,
            r.kept_validation.map_or(String::from("–"), |e| format!(
                "{:.2}",
                100.0 * e.accuracy
            )),
            100.0 * r.test.accuracy,
            r.seconds
        );
    };
    row("found", &outcome.found);
    for reference in &outcome.references {
        let name = if reference.is_found {
            format!("{} (= found)", reference.reference)
        } else {
            reference.reference.clone()
        };
        row(&name, &reference.result);
    }
    let best_reference = outcome
        .references
        .iter()
        .filter(|r| !r.is_found)
        .max_by(|a, b| a.result.test.accuracy.total_cmp(&b.result.test.accuracy));
    match best_reference {
        Some(best) => {
            let gain = 100.0 * (outcome.found.test.accuracy - best.result.test.accuracy);
            println!(
                "found vs the better reference ({}): {gain:+.2} points of test accuracy",
                best.reference
            );
        }
        None => println!("the found cell is the reference cell itself"),
    }
    if let Some(by_validation) = outcome.best_by_validation() {
        let lead = by_validation
            .runner_up
            .as_ref()
            .map_or(String::new(), |(model, e)| {
                let lead = 100.0 * (by_validation.validation.accuracy - e.accuracy);
                let se = 100.0 * by_validation.standard_error();
                let noise = if lead < se {
                    ": the split does not tell the two apart"
                } else {
                    ""
                };
                format!(
                    "; {lead:+.2} points over {model}, one standard error of the {}-image split is {se:.2}{noise}",
                    by_validation.validation.examples
                )
            });
        println!(
            "best on the validation split: {} (in {}), {:.2} %{lead}",
            by_validation.model,
            by_validation.dir.display(),
            100.0 * by_validation.validation.accuracy
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use metanas_data::ImageDataset;
    use metanas_search::ReferenceCell;

    #[derive(Debug, Parser)]
    struct FinalOnly {
        #[command(flatten)]
        args: FinalStageArgs,
    }

    /// `n` 1×8×8 images of two classes: a bright left or right half.
    fn halves(n: usize) -> ImageDataset {
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let pixels = labels
            .iter()
            .flat_map(|&label| {
                (0..64).map(move |p| {
                    let left = p % 8 < 4;
                    if left == (label == 0) { 0.8 } else { 0.1 }
                })
            })
            .collect();
        ImageDataset::new(pixels, labels, [1, 8, 8], 2).expect("valid")
    }

    #[test]
    fn a_winner_that_is_a_reference_is_trained_once() {
        let args = FinalOnly::try_parse_from([
            "search",
            "--final-epochs",
            "1",
            "--final-channels",
            "2",
            "--final-batch",
            "16",
            "--reference",
            "resnet,largest",
        ])
        .expect("parses")
        .args;
        let (train, test) = (halves(40), halves(10));
        let out = tempfile::tempdir().expect("temp dir");
        let data = FinalData {
            train: &train,
            test: &test,
        };
        let winner = ReferenceCell::Resnet.architecture();
        let backend = BackendChoice::from_env().expect("METANAS_DEVICE names a backend");
        let outcome = run_final_stage(&args, 0, true, winner, data, backend, out.path())
            .expect("trains")
            .expect("final training on");
        let names: Vec<(&str, bool)> = outcome
            .references
            .iter()
            .map(|r| (r.reference.as_str(), r.is_found))
            .collect();
        assert_eq!(names, vec![("resnet", true), ("largest", false)]);
        // The winner's own run stands for the ResNet reference: no second model.
        assert_eq!(outcome.references[0].result.test, outcome.found.test);
        assert!(out.path().join("model").join("final_result.json").is_file());
        assert!(!out.path().join("references").join("resnet").exists());
        assert!(
            out.path()
                .join("references")
                .join("largest")
                .join("final_result.json")
                .is_file()
        );
        let json = outcome.references_json();
        assert_eq!(json[0]["is_found"], true);
        assert_eq!(
            json[1]["architecture"],
            ReferenceCell::Largest.architecture()
        );
        // The best by validation is one of the two trained, and its folder holds it.
        let best = outcome.best_by_validation().expect("a validation split");
        assert!(["found", "largest"].contains(&best.model.as_str()));
        assert!(
            out.path()
                .join(&best.dir)
                .join("final_result.json")
                .is_file()
        );
        assert_eq!(
            outcome.best_by_validation_json()["model"],
            best.model.as_str()
        );
    }

    fn evaluation(loss: f64, accuracy: f64) -> Option<Evaluation> {
        Some(Evaluation {
            loss,
            accuracy,
            examples: 1000,
        })
    }

    #[test]
    fn the_best_by_validation_has_the_highest_accuracy_then_the_lower_loss() {
        let chosen = |candidates: Vec<(&'static str, Option<Evaluation>)>| {
            rank_by_validation(
                candidates
                    .into_iter()
                    .map(|(name, e)| (name, PathBuf::from(name), e)),
            )
            .map(|m| m.model)
        };
        let found = ("found", evaluation(0.30, 0.920));
        let resnet = ("resnet", evaluation(0.28, 0.925));
        assert_eq!(chosen(vec![found, resnet]).as_deref(), Some("resnet"));
        // Equal accuracy: the lower loss.
        let resnet_tied = ("resnet", evaluation(0.28, 0.920));
        assert_eq!(chosen(vec![found, resnet_tied]).as_deref(), Some("resnet"));
        // A full tie keeps the first, the found model.
        let resnet_same = ("resnet", evaluation(0.30, 0.920));
        assert_eq!(chosen(vec![found, resnet_same]).as_deref(), Some("found"));
        // Without a validation split nothing is chosen.
        assert_eq!(chosen(vec![found, ("largest", None)]), None);
        // The runner-up, and the split's standard error: √(0.925·0.075/1000).
        let best = rank_by_validation([
            ("found", PathBuf::from("model"), found.1),
            (
                "largest",
                PathBuf::from("references/largest"),
                evaluation(0.31, 0.915),
            ),
            ("resnet", PathBuf::from("references/resnet"), resnet.1),
        ])
        .expect("all validated");
        assert_eq!(best.dir, PathBuf::from("references/resnet"));
        assert_eq!(
            best.runner_up.as_ref().map(|(m, _)| m.as_str()),
            Some("found")
        );
        assert!((best.standard_error() - 0.008_329).abs() < 1e-6);
    }
}
