//! `cargo xtask bench-proxy-ranking`: how cheap ways of scoring a cell rank a
//! set of cells, side by side with a costly one. A search can only pick the
//! cell its proxy ranks first; when the proxy ranks unlike the final stage,
//! the search picks cells that the final stage does not favour. Each proxy
//! trains every cell once per seed on shipped Fashion-MNIST and the table
//! gives each cell's validation accuracy (what a search would choose by) and,
//! for the final-stage proxies, test accuracy; the last proxy listed is the
//! target whose test ranking the others are scored against (Spearman ρ).

use crate::statistics::mean_sd;
use anyhow::{Context, bail};
use metanas_aen::spearman_rho;
use metanas_data::{FixedTask, ImageDataset};
use metanas_device::BackendChoice;
use metanas_search::{
    CANDIDATE_VALIDATION_FRACTION, Evaluator, FinalData, FinalLength, FinalTrainingConfig,
    NetworkSize, TrainingEvaluator, candidate_training, train_final,
};
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use std::fmt;
use std::str::FromStr;

/// Arguments of `cargo xtask bench-proxy-ranking`.
#[derive(Debug, clap::Args)]
pub struct BenchProxyRankingArgs {
    /// Cells to rank: `resnet`, `largest` or NAS-Bench-201 cell strings, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "resnet,largest")]
    cells: Vec<String>,
    /// Ways of scoring a cell, comma-separated, the target last:
    /// `search-steps=S@C` (the search's candidate training: S steps of Adam
    /// at C channels on the search's 80/20 split), `final-epochs=E@C` or
    /// `final-time=SECONDS@C` (the final stage's recipe at C channels for E
    /// epochs or a time budget; its 10 % validation split, the 10,000 test images).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "search-steps=100@8,final-epochs=10@8,final-time=60@16"
    )]
    proxies: Vec<Proxy>,
    /// Seeds (0, 1, …): each proxy trains each cell once per seed; the table gives means.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
}

/// One way of scoring a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proxy {
    length: ProxyLength,
    channels: usize,
}

/// How long, and with which recipe, a proxy trains.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ProxyLength {
    /// The search's candidate training for this many steps.
    SearchSteps(usize),
    /// The final stage's recipe for this many epochs.
    FinalEpochs(usize),
    /// The final stage's recipe for this many seconds.
    FinalSeconds(f64),
}

impl FromStr for Proxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not a proxy: use search-steps=S@C, final-epochs=E@C or final-time=SECONDS@C"
            )
        };
        let (kind, rest) = text.split_once('=').ok_or_else(bad)?;
        let (length, channels) = rest.split_once('@').ok_or_else(bad)?;
        let channels: usize = channels.parse().map_err(|_| bad())?;
        let positive = |n: usize| if n > 0 { Ok(n) } else { Err(bad()) };
        let length = match kind {
            "search-steps" => {
                ProxyLength::SearchSteps(positive(length.parse().map_err(|_| bad())?)?)
            }
            "final-epochs" => {
                ProxyLength::FinalEpochs(positive(length.parse().map_err(|_| bad())?)?)
            }
            "final-time" => match length.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => ProxyLength::FinalSeconds(s),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        };
        Ok(Self {
            length,
            channels: positive(channels)?,
        })
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.length {
            ProxyLength::SearchSteps(s) => write!(f, "search-steps={s}@{}", self.channels),
            ProxyLength::FinalEpochs(e) => write!(f, "final-epochs={e}@{}", self.channels),
            ProxyLength::FinalSeconds(s) => write!(f, "final-time={s}@{}", self.channels),
        }
    }
}

/// One cell's scores under one proxy and seed.
#[derive(Debug, Clone, Copy)]
struct Score {
    /// Validation accuracy (%): what a search would choose by.
    validation: f64,
    /// Test accuracy (%), for the final-stage proxies.
    test: Option<f64>,
    /// Passes over the proxy's training images.
    epochs: f64,
    seconds: f64,
}

/// The shipped images a proxy trains on.
struct Images {
    train: ImageDataset,
    test: ImageDataset,
}

/// Runs the harness on shipped Fashion-MNIST (10,000 training, 10,000 test images).
///
/// # Errors
/// Bad cells or proxies, the shipped data, a failed training run.
pub fn run(args: &BenchProxyRankingArgs) -> anyhow::Result<()> {
    if args.proxies.is_empty() || args.cells.len() < 2 || args.seeds == 0 {
        bail!("give at least one proxy, two cells and one seed");
    }
    let cells = args
        .cells
        .iter()
        .map(|c| crate::final_keep::cell_string(c))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let images = Images {
        train: metanas_data::shipped::fashion_mnist_train10k()?,
        test: metanas_data::shipped::fashion_mnist_test()?,
    };
    // scores[proxy][cell][seed]
    let mut scores = Vec::new();
    for proxy in &args.proxies {
        let mut per_cell = Vec::new();
        for (name, architecture) in &cells {
            let mut per_seed = Vec::new();
            for seed in 0..args.seeds {
                let score = scored(*proxy, architecture, seed, &images)
                    .with_context(|| format!("{name} by {proxy}, seed {seed}"))?;
                eprintln!(
                    "{proxy}, seed {seed}, {name}: validation {:.2} %, test {}, {:.1} epochs, {:.1} s",
                    score.validation,
                    score.test.map_or("—".into(), |t| format!("{t:.2} %")),
                    score.epochs,
                    score.seconds
                );
                per_seed.push(score);
            }
            per_cell.push(per_seed);
        }
        scores.push(per_cell);
    }
    print_table(args, &cells, &scores)
}

/// Trains `architecture` once by `proxy`.
fn scored(proxy: Proxy, architecture: &str, seed: u64, images: &Images) -> anyhow::Result<Score> {
    let arch = Nb201Space.parse(architecture)?;
    let device = BackendChoice::default().autodiff_device();
    let final_length = match proxy.length {
        ProxyLength::SearchSteps(steps) => {
            let task =
                FixedTask::new(&images.train, CANDIDATE_VALIDATION_FRACTION, seed)?.into_task();
            let train_images = task.train.len();
            let training = candidate_training(steps);
            let epochs = (steps * training.batch_size) as f64 / train_images as f64;
            let size = NetworkSize {
                channels: proxy.channels,
                cells_per_stage: 1,
            };
            let mut evaluator = TrainingEvaluator::<Nb201Space>::new(task, size, training, device);
            let measurement = evaluator.evaluate(&arch, seed)?;
            return Ok(Score {
                validation: measurement.objective,
                test: None,
                epochs,
                seconds: measurement.cost_seconds,
            });
        }
        ProxyLength::FinalEpochs(epochs) => FinalLength::Epochs(epochs),
        ProxyLength::FinalSeconds(seconds) => FinalLength::Seconds(seconds),
    };
    let config = FinalTrainingConfig::new()
        .with_channels(proxy.channels)
        .with_length(final_length)
        .with_seed(seed);
    let data = FinalData {
        train: &images.train,
        test: &images.test,
    };
    let result = train_final(
        &arch,
        Nb201Space.name(),
        architecture,
        data,
        &config,
        &device,
        &mut |_| {},
    )?
    .result;
    let validation = result
        .kept_validation
        .context("the final recipe kept no validation split")?;
    Ok(Score {
        validation: 100.0 * validation.accuracy,
        test: Some(100.0 * result.test.accuracy),
        epochs: result.epochs,
        seconds: result.seconds,
    })
}

/// The mean of one score over a cell's runs.
fn mean(runs: &[Score], score: impl Fn(&Score) -> f64) -> f64 {
    mean_sd(&runs.iter().map(score).collect::<Vec<_>>()).0
}

/// The mean test accuracy over a cell's runs, if the proxy has a test split.
fn mean_test(runs: &[Score]) -> Option<f64> {
    let test: Vec<f64> = runs.iter().map(|s| s.test).collect::<Option<_>>()?;
    Some(mean_sd(&test).0)
}

fn print_table(
    args: &BenchProxyRankingArgs,
    cells: &[(String, String)],
    scores: &[Vec<Vec<Score>>],
) -> anyhow::Result<()> {
    println!();
    println!(
        "## fashion-mnist — cells ranked by each proxy (mean of {} seed(s); validation % / test %, epochs)",
        args.seeds
    );
    println!();
    let header: Vec<String> = args.proxies.iter().map(ToString::to_string).collect();
    println!("| cell | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(args.proxies.len()));
    for (c, (name, _)) in cells.iter().enumerate() {
        let columns: Vec<String> = scores
            .iter()
            .map(|per_cell| {
                let runs = &per_cell[c];
                let validation = mean(runs, |s| s.validation);
                let epochs = mean(runs, |s| s.epochs);
                let test = mean_test(runs).map_or("—".into(), |t| format!("{t:.2}"));
                format!("{validation:.2} / {test}, {epochs:.1}")
            })
            .collect();
        println!("| {name} | {} |", columns.join(" | "));
    }
    let target = scores.last().context("no proxy")?;
    let Some(target_test) = target
        .iter()
        .map(|runs| mean_test(runs))
        .collect::<Option<Vec<f64>>>()
    else {
        println!(
            "\n(the last proxy has no test accuracy: list a final-epochs or final-time proxy last to score the rankings)"
        );
        return Ok(());
    };
    let rhos: Vec<String> = scores
        .iter()
        .map(|per_cell| {
            let validation: Vec<f64> = per_cell
                .iter()
                .map(|runs| mean(runs, |s| s.validation))
                .collect();
            spearman_rho(&validation, &target_test).map(|rho| format!("{rho:.2}"))
        })
        .collect::<Result<_, _>>()?;
    println!(
        "| Spearman ρ: validation vs {}'s test | {} |",
        args.proxies
            .last()
            .map(ToString::to_string)
            .unwrap_or_default(),
        rhos.join(" | ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_parse_and_print_back() {
        for text in [
            "search-steps=100@8",
            "final-epochs=10@16",
            "final-time=60@16",
            "final-time=7.5@4",
        ] {
            let proxy: Proxy = text.parse().expect(text);
            assert_eq!(proxy.to_string(), text);
        }
        let proxy: Proxy = "final-epochs=3@8".parse().expect("parses");
        assert_eq!(proxy.length, ProxyLength::FinalEpochs(3));
        assert_eq!(proxy.channels, 8);
    }

    #[test]
    fn bad_proxies_say_the_forms() {
        for text in [
            "search-steps=0@8",
            "final-epochs=10",
            "final-time=-1@16",
            "final-time=60@0",
            "steps=5@8",
            "final-time=nan@8",
        ] {
            let error = text.parse::<Proxy>().expect_err(text);
            assert!(error.contains("search-steps=S@C"), "{text}: {error}");
        }
    }
}
