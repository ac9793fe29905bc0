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
use std::path::Path;

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
/// validation split, and the next best beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct BestByValidation {
    /// `found` or the reference's name.
    pub name: String,
    /// Its folder under the search's output folder, `/`-separated: `model`
    /// or `references/<name>`.
    pub dir: String,
    /// Its kept checkpoint's validation loss and accuracy.
    pub validation: Evaluation,
    /// The next best model on the validation split, and its score.
    pub runner_up: Option<(String, Evaluation)>,
}

impl BestByValidation {
    /// One standard error of its validation accuracy, `√(p(1−p)/n)` over the
    /// split's `n` images.
    pub fn standard_error(&self) -> f64 {
        metanas_search::accuracy_standard_error(
            self.validation.accuracy,
            self.validation.examples.max(1) as f64,
        )
    }

    /// Its lead in validation accuracy over the runner-up (a fraction).
    pub fn lead(&self) -> Option<f64> {
        self.runner_up
            .as_ref()
            .map(|(_, e)| self.validation.accuracy - e.accuracy)
    }

    /// Whether the split tells it from the runner-up: a lead of more than
    /// two standard errors (a rule of thumb, not a test: both accuracies
    /// are counted on the same images).
    pub fn separated(&self) -> Option<bool> {
        self.lead().map(|lead| lead > 2.0 * self.standard_error())
    }

    /// The summary's line; `out` is the search's output folder.
    pub fn summary(&self, out: &Path) -> String {
        let lead = match (&self.runner_up, self.lead()) {
            (Some((runner_up, _)), Some(lead)) => format!(
                "; {:+.2} points over {runner_up}, one standard error of the {}-image split is {:.2}{}",
                100.0 * lead,
                self.validation.examples,
                100.0 * self.standard_error(),
                if self.separated() == Some(true) {
                    ""
                } else {
                    ": within two standard errors, the split does not tell the two apart"
                }
            ),
            _ => String::new(),
        };
        format!(
            "best on the validation split: {} (in {}), {:.2} %{lead}",
            self.name,
            out.join(&self.dir).display(),
            100.0 * self.validation.accuracy
        )
    }
}

impl FinalStageOutcome {
    /// Among the found model and the references trained beside it, the one
    /// whose kept checkpoint has the highest validation accuracy (the lower
    /// validation loss on a tie, the found model on a full tie): how to choose
    /// among them without the test split, whose accuracies then stay unbiased
    /// reports. The split is small (a tenth of the training images by
    /// default), so the lead comes with the split's standard error. `None`
    /// without a reference other than the found cell, or without a validation
    /// split.
    pub fn best_by_validation(&self) -> Option<BestByValidation> {
        rank_by_validation(validated_models(
            self.found.kept_validation,
            self.references
                .iter()
                .map(|r| (r.reference.as_str(), r.is_found, r.result.kept_validation)),
        ))
    }

    /// [`Self::best_by_validation`] for `results.json`.
    pub fn best_by_validation_json(&self) -> Value {
        self.best_by_validation().map_or(Value::Null, |m| {
            json!({
                "model": m.name,
                "dir": m.dir,
                "validation": m.validation,
                "validation_standard_error": m.standard_error(),
                "separated_from_runner_up": m.separated(),
                "runner_up": m.runner_up.map(|(name, validation)| json!({
                    "model": name,
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

/// The found model (`found`, in `model`) and each reference that is not the
/// found cell (in `references/<name>`), with their kept validations.
fn validated_models<'a>(
    found: Option<Evaluation>,
    references: impl IntoIterator<Item = (&'a str, bool, Option<Evaluation>)>,
) -> Vec<(&'a str, String, Option<Evaluation>)> {
    std::iter::once(("found", String::from("model"), found))
        .chain(
            references
                .into_iter()
                .filter(|(_, is_found, _)| !is_found)
                .map(|(name, _, validation)| (name, format!("references/{name}"), validation)),
        )
        .collect()
}

/// The first of `models` (name, folder, kept validation) with the highest
/// validation accuracy, the lower loss on a tie, and the next best beside it.
/// A diverged model (NaN) ranks last. `None` for fewer than two models or
/// when any has no validation.
fn rank_by_validation(models: Vec<(&str, String, Option<Evaluation>)>) -> Option<BestByValidation> {
    if models.len() < 2 {
        return None;
    }
    let mut ranked = models
        .into_iter()
        .map(|(name, dir, validation)| Some((name, dir, validation?)))
        .collect::<Option<Vec<_>>>()?;
    let accuracy = |e: &Evaluation| {
        if e.accuracy.is_nan() {
            f64::NEG_INFINITY
        } else {
            e.accuracy
        }
    };
    let loss = |e: &Evaluation| {
        if e.loss.is_nan() {
            f64::INFINITY
        } else {
            e.loss
        }
    };
    // Stable: a full tie keeps the earlier model first.
    ranked.sort_by(|a, b| {
        accuracy(&b.2)
            .total_cmp(&accuracy(&a.2))
            .then(loss(&a.2).total_cmp(&loss(&b.2)))
    });
    let mut ranked = ranked.into_iter();
    let (name, dir, validation) = ranked.next()?;
    Some(BestByValidation {
        name: name.to_string(),
        dir,
        validation,
        runner_up: ranked.next().map(|(n, _, e)| (n.to_string(), e)),
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

/// Prints the winner beside the references (test accuracy, parameters,
/// time) and the best of them on the validation split; `out` is the search's
/// output folder.
pub fn print_comparison(outcome: &FinalStageOutcome, out: &Path) {
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
        println!("{}", by_validation.summary(out));
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
        // The ResNet reference is the found model itself: the choice is
        // between the two models trained, and the named folder holds it.
        let best = outcome.best_by_validation().expect("a validation split");
        let runner_up = best.runner_up.as_ref().map(|(name, _)| name.as_str());
        let mut pair = [best.name.as_str(), runner_up.expect("two models")];
        pair.sort_unstable();
        assert_eq!(pair, ["found", "largest"]);
        assert!(
            out.path()
                .join(&best.dir)
                .join("final_result.json")
                .is_file()
        );
        let json = outcome.best_by_validation_json();
        assert_eq!(json["model"], best.name.as_str());
        assert_eq!(json["dir"], best.dir.as_str());
        assert_eq!(json["runner_up"]["model"], runner_up.expect("two models"));
    }

    fn evaluation(loss: f64, accuracy: f64) -> Option<Evaluation> {
        Some(Evaluation {
            loss,
            accuracy,
            examples: 1000,
        })
    }

    /// The name `rank_by_validation` picks among `models`, each in a folder of its name.
    fn chosen(models: &[(&'static str, Option<Evaluation>)]) -> Option<String> {
        rank_by_validation(
            models
                .iter()
                .map(|&(name, e)| (name, name.to_string(), e))
                .collect(),
        )
        .map(|m| m.name)
    }

    #[test]
    fn the_best_by_validation_has_the_highest_accuracy_then_the_lower_loss() {
        let found = ("found", evaluation(0.30, 0.920));
        let resnet = ("resnet", evaluation(0.28, 0.925));
        assert_eq!(chosen(&[found, resnet]).as_deref(), Some("resnet"));
        // Equal accuracy: the lower loss.
        let resnet_tied = ("resnet", evaluation(0.28, 0.920));
        assert_eq!(chosen(&[found, resnet_tied]).as_deref(), Some("resnet"));
        // A full tie keeps the first, the found model.
        let resnet_same = ("resnet", evaluation(0.30, 0.920));
        assert_eq!(chosen(&[found, resnet_same]).as_deref(), Some("found"));
        // A diverged model ranks last, whatever its NaN's sign.
        let diverged = ("resnet", evaluation(-f64::NAN, 0.920));
        assert_eq!(chosen(&[found, diverged]).as_deref(), Some("found"));
        let lost = ("resnet", evaluation(0.10, f64::NAN));
        assert_eq!(chosen(&[lost, found]).as_deref(), Some("found"));
        // Without a validation split, or with one model, nothing is chosen.
        assert_eq!(chosen(&[found, ("largest", None)]), None);
        assert_eq!(chosen(&[found]), None);
    }

    #[test]
    fn references_that_are_the_found_cell_are_not_candidates() {
        let found = evaluation(0.30, 0.920);
        let models = validated_models(
            found,
            [
                ("resnet", true, found),
                ("largest", false, evaluation(0.31, 0.915)),
            ],
        );
        let names: Vec<(&str, &str)> = models
            .iter()
            .map(|(name, dir, _)| (*name, dir.as_str()))
            .collect();
        assert_eq!(
            names,
            [("found", "model"), ("largest", "references/largest")]
        );
        // Only the found cell: nothing to choose between.
        let alone = validated_models(found, [("resnet", true, found)]);
        assert_eq!(rank_by_validation(alone), None);
    }

    #[test]
    fn the_summary_gives_the_lead_and_says_when_the_split_cannot_tell() {
        let best = |runner_up: f64| {
            rank_by_validation(vec![
                ("found", String::from("model"), evaluation(0.30, runner_up)),
                (
                    "resnet",
                    String::from("references/resnet"),
                    evaluation(0.28, 0.925),
                ),
            ])
            .expect("two validated models")
        };
        // One standard error at 92.5 % on 1,000 images: √(0.925·0.075/1000).
        let close = best(0.920);
        assert!((close.standard_error() - 0.008_329).abs() < 1e-6);
        assert!((close.lead().expect("a runner-up") - 0.005).abs() < 1e-12);
        assert_eq!(close.separated(), Some(false));
        let line = close.summary(Path::new("runs/x"));
        assert!(line.starts_with("best on the validation split: resnet (in runs/x/references/resnet), 92.50 %; +0.50 points over found"));
        assert!(line.contains("the split does not tell the two apart"));
        // A lead beyond two standard errors (2 × 0.83 points) stays unqualified.
        let far = best(0.900);
        assert_eq!(far.separated(), Some(true));
        assert!(!far.summary(Path::new("runs/x")).contains("does not tell"));
    }
}
