//! `cargo xtask bench-image-search`: real-training searches on a shipped
//! image dataset with several strategies and seeds, each run exactly as
//! `cargo xtask search` runs it, with the NAS-Bench-201 ResNet and largest
//! cells trained by the same final recipe, budget and seed (unless
//! `--no-references`); prints held-out accuracy of the found model beside the
//! references, and wall time.

use crate::product_command::ProductCommand;
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `cargo xtask bench-image-search`.
#[derive(Debug, clap::Args)]
pub struct BenchImageSearchArgs {
    /// Shipped dataset: fashion-mnist or mnist.
    #[arg(long, default_value = "fashion-mnist")]
    task: String,
    /// Strategies: random, evolution, local, bo, … and meta-bo (needs --meta-model).
    #[arg(long, value_delimiter = ',', default_value = "random,bo")]
    strategies: Vec<String>,
    /// Seeds per strategy (0, 1, …).
    #[arg(long, default_value_t = 2)]
    seeds: u64,
    /// Meta-model folder for `meta-bo`.
    #[arg(long)]
    meta_model: Option<PathBuf>,
    /// Extra arguments for every search (e.g. `--search-args "--budget 3 --steps 100"`), space-separated.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    search_args: String,
    /// Skip the reference cells (the default trains NAS-Bench-201's ResNet and
    /// largest cells beside every run, which triples its time).
    #[arg(long)]
    no_references: bool,
    /// Output folder (one sub-folder per run).
    #[arg(long, default_value = "runs/bench-image-search")]
    out: PathBuf,
}

struct Row {
    strategy: String,
    seed: u64,
    test_accuracy: f64,
    best_validation: f64,
    seconds: f64,
    /// Wall seconds of the search alone (the run's, less its final stages).
    search_seconds: f64,
    /// Epochs the final stage trained the found cell for.
    final_epochs: f64,
    architecture: String,
    /// Test accuracy (%) of each reference, and whether it is the found cell.
    references: Vec<(String, f64, bool)>,
    /// The model with the best validation score of the final stage (`found` or a reference).
    best_by_validation: Option<String>,
}

impl Row {
    /// Test accuracy (%) of the model with the best validation score.
    fn best_by_validation_test(&self) -> Option<f64> {
        let name = self.best_by_validation.as_deref()?;
        if name == "found" {
            return Some(self.test_accuracy);
        }
        self.references
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, acc, _)| *acc)
    }
}

/// The references every run trains beside the found cell, unless `--no-references`.
const REFERENCES: &str = "resnet,largest";

/// The references of a `results.json`: name, test accuracy (%), whether it is the found cell.
fn references_of(results: &serde_json::Value) -> Vec<(String, f64, bool)> {
    results["references"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| {
                    (
                        r["reference"].as_str().unwrap_or("?").to_string(),
                        r["result"]["test"]["accuracy"]
                            .as_f64()
                            .map_or(f64::NAN, |a| 100.0 * a),
                        r["is_found"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Accuracy (percent) of the model saved in `dir` on the shipped test split of `task`.
fn reloaded_accuracy(dir: &std::path::Path, task: &str) -> anyhow::Result<Option<f64>> {
    if !dir.exists() {
        return Ok(None);
    }
    let test = match task {
        "fashion-mnist" => metanas_data::shipped::fashion_mnist_test()?,
        "mnist" => metanas_data::shipped::mnist_train_test()?.1,
        _ => return Ok(None),
    };
    let device = metanas_device::BackendChoice::default().device();
    let model = metanas_net::SavedModel::load(dir, &device)
        .with_context(|| format!("loading {}", dir.display()))?;
    let predicted = model.predict(&test, &device)?;
    let correct = predicted
        .iter()
        .zip(test.labels())
        .filter(|(p, l)| p == l)
        .count();
    Ok(Some(100.0 * correct as f64 / test.len().max(1) as f64))
}

/// The found model beside the references, per run, and how often it is at
/// least as good as the better reference and how often the search picked one.
fn print_references(rows: &[Row]) {
    let names: Vec<String> = rows
        .first()
        .map(|r| r.references.iter().map(|(n, _, _)| n.clone()).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return;
    }
    println!();
    println!(
        "| strategy | seed | found cell | found test % | {} | found ≥ better reference | best by validation: test % |",
        names
            .iter()
            .map(|n| format!("{n} test %"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|---|---|{}---|---|", "---|".repeat(names.len()));
    let (mut at_least, mut picked_largest, mut by_validation_best) = (0usize, 0usize, 0usize);
    for r in rows {
        let better = r
            .references
            .iter()
            .filter(|(_, _, is_found)| !is_found)
            .map(|(_, acc, _)| *acc)
            .fold(f64::NEG_INFINITY, f64::max);
        let wins = r.test_accuracy >= better;
        at_least += usize::from(wins);
        let by_validation = r.best_by_validation_test();
        // The best test accuracy of the models trained: found and the references.
        let best_test = better.max(r.test_accuracy);
        by_validation_best += usize::from(by_validation.is_some_and(|acc| acc >= best_test));
        picked_largest += usize::from(
            r.references
                .iter()
                .any(|(name, _, is_found)| name == "largest" && *is_found),
        );
        let cells: Vec<String> = r
            .references
            .iter()
            .map(|(_, acc, is_found)| {
                if *is_found {
                    format!("{acc:.2} (= found)")
                } else {
                    format!("{acc:.2}")
                }
            })
            .collect();
        let by_validation = match (&r.best_by_validation, by_validation) {
            (Some(name), Some(acc)) => format!("{name}: {acc:.2}"),
            _ => String::from("–"),
        };
        println!(
            "| {} | {} | `{}` | {:.2} | {} | {} | {by_validation} |",
            r.strategy,
            r.seed,
            // A cell's `|` would end a Markdown table cell.
            r.architecture.replace('|', "\\|"),
            r.test_accuracy,
            cells.join(" | "),
            if wins { "yes" } else { "no" }
        );
    }
    println!();
    println!(
        "- found ≥ the better reference on {at_least}/{} runs; the search picked the largest cell on {picked_largest}/{} runs; the model with the best validation score had the best test accuracy on {by_validation_best}/{} runs",
        rows.len(),
        rows.len(),
        rows.len()
    );
}

/// Runs the command.
pub fn run(args: &BenchImageSearchArgs) -> anyhow::Result<()> {
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let command = ProductCommand::locate()?;
    let mut rows = Vec::new();
    for name in &args.strategies {
        for seed in 0..args.seeds {
            let out = args.out.join(format!("{}-{name}-seed{seed}", args.task));
            if out.exists() {
                std::fs::remove_dir_all(&out)
                    .with_context(|| format!("clearing {}", out.display()))?;
            }
            let mut line: Vec<String> = vec!["search".into(), "--task".into(), args.task.clone()];
            let strategy = name.strip_prefix("meta-").unwrap_or(name);
            line.extend([
                "--strategy".into(),
                strategy.to_string(),
                "--seed".into(),
                seed.to_string(),
            ]);
            line.extend(["--out".into(), out.display().to_string(), "--quiet".into()]);
            if !args.no_references {
                line.extend(["--reference".into(), REFERENCES.into()]);
            }
            if name.starts_with("meta-") {
                let Some(dir) = &args.meta_model else {
                    bail!("{name} needs --meta-model")
                };
                line.extend(["--meta-model".into(), dir.display().to_string()]);
            }
            line.extend(args.search_args.split_whitespace().map(str::to_string));
            eprintln!("== {name}, seed {seed}: {}", line.join(" "));
            let started = Instant::now();
            command.run(&line)?;
            let seconds = started.elapsed().as_secs_f64();
            let results: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(out.join("results.json"))
                    .with_context(|| format!("reading {}", out.display()))?,
            )?;
            let test_accuracy = results["final"]["test"]["accuracy"]
                .as_f64()
                .map_or(f64::NAN, |a| 100.0 * a);
            // The saved model, loaded back, must predict the test split as the search reported.
            let reloaded = reloaded_accuracy(&out.join("model"), &args.task)?;
            if let Some(acc) = reloaded {
                eprintln!("   saved model reloaded: {acc:.2}% on the test split");
                if (acc - test_accuracy).abs() > 0.05 {
                    bail!(
                        "the reloaded model scores {acc:.2}%, the search reported {test_accuracy:.2}%"
                    );
                }
            }
            // The search's validation score of the cell the final stage
            // trained (the best one unless --final-choice chose another).
            let best_validation = results["final_choice"]["objective"]
                .as_f64()
                .or_else(|| results["best"]["measurement"]["objective"].as_f64())
                .unwrap_or(f64::NAN);
            eprintln!(
                "   test {test_accuracy:.2}%, search validation {best_validation:.2}%, {seconds:.0} s"
            );
            let stage_seconds = |result: &serde_json::Value| result["seconds"].as_f64();
            let final_seconds = stage_seconds(&results["final"]).unwrap_or(0.0);
            let reference_seconds: f64 = results["references"]
                .as_array()
                .map(|list| {
                    // A reference that is the found cell was not trained again.
                    list.iter()
                        .filter(|r| r["is_found"].as_bool() != Some(true))
                        .filter_map(|r| stage_seconds(&r["result"]))
                        .sum()
                })
                .unwrap_or(0.0);
            rows.push(Row {
                strategy: name.clone(),
                seed,
                test_accuracy,
                best_validation,
                seconds,
                search_seconds: seconds - final_seconds - reference_seconds,
                final_epochs: results["final"]["epochs"].as_f64().unwrap_or(f64::NAN),
                architecture: results["final"]["architecture"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
                references: references_of(&results),
                best_by_validation: results["best_by_validation"]["model"]
                    .as_str()
                    .map(str::to_string),
            });
        }
    }
    println!();
    println!(
        "## {} — real-training search, {} seeds",
        args.task, args.seeds
    );
    println!();
    println!(
        "| strategy | seed | search validation % (the trained cell) | held-out test % (final model) | final-stage epochs | search s | wall s (search + final stages) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.1} | {:.0} | {:.0} |",
            r.strategy,
            r.seed,
            r.best_validation,
            r.test_accuracy,
            r.final_epochs,
            r.search_seconds,
            r.seconds
        );
    }
    print_references(&rows);
    println!();
    println!("| strategy | mean test % | mean wall s |");
    println!("|---|---|---|");
    for name in &args.strategies {
        let mine: Vec<&Row> = rows.iter().filter(|r| &r.strategy == name).collect();
        let mean =
            |f: &dyn Fn(&Row) -> f64| mine.iter().map(|r| f(r)).sum::<f64>() / mine.len() as f64;
        println!(
            "| {name} | {:.2} | {:.0} |",
            mean(&|r| r.test_accuracy),
            mean(&|r| r.seconds)
        );
    }
    // Paired by seed against the first strategy (same seeds, same data split).
    if let Some(baseline) = args.strategies.first() {
        println!();
        for name in args.strategies.iter().skip(1) {
            let pairs: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| &r.strategy == name)
                .filter_map(|r| {
                    rows.iter()
                        .find(|b| &b.strategy == baseline && b.seed == r.seed)
                        .map(|b| (r.test_accuracy, b.test_accuracy))
                })
                .collect();
            let better = pairs.iter().filter(|(a, b)| a > b).count();
            let mean_gain =
                pairs.iter().map(|(a, b)| a - b).sum::<f64>() / pairs.len().max(1) as f64;
            println!(
                "- {name} vs {baseline}, paired by seed: higher held-out accuracy on {better}/{} seeds, mean difference {mean_gain:+.2} points",
                pairs.len()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(best_by_validation: Option<&str>) -> Row {
        let results = serde_json::json!({
            "references": [
                {"reference": "resnet", "is_found": false, "result": {"test": {"accuracy": 0.92}}},
                {"reference": "largest", "is_found": false, "result": {"test": {"accuracy": 0.91}}},
            ]
        });
        Row {
            strategy: "bo".into(),
            seed: 0,
            test_accuracy: 91.5,
            best_validation: 78.0,
            seconds: 700.0,
            search_seconds: 100.0,
            final_epochs: 20.0,
            architecture: "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|".into(),
            references: references_of(&results),
            best_by_validation: best_by_validation.map(str::to_string),
        }
    }

    #[test]
    fn the_best_by_validation_test_accuracy_is_that_of_the_named_model() {
        assert_eq!(row(Some("found")).best_by_validation_test(), Some(91.5));
        let resnet = row(Some("resnet")).best_by_validation_test();
        assert!(resnet.is_some_and(|acc| (acc - 92.0).abs() < 1e-9));
        assert_eq!(row(Some("other")).best_by_validation_test(), None);
        assert_eq!(row(None).best_by_validation_test(), None);
    }
}
