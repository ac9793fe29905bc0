//! `bench-aon --reuse-pairs`: the held-out pairs' measurements of an earlier
//! run of this benchmark (its `results.json`), so that a new way of choosing
//! the update rule's settings is scored on the same sweeps without training
//! every pair again. Every run is seeded, so a pair trained again gives the
//! same numbers; the earlier run is used only where it is the same benchmark:
//! the same AON, Adam rate, `K`, Adam run limit, problems and grid.

use super::PairResult;
use anyhow::Context;
use metanas_aon::{InnerProblem, UpdateSettings};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct StoredRate {
    best_rate: f64,
}

#[derive(Deserialize)]
struct StoredResults {
    aon_source: String,
    adam: StoredRate,
    steps: usize,
    reach_limit: usize,
    pairs: Vec<PairResult>,
}

/// The pairs of an earlier run, checked against this one.
pub(super) struct ReusedPairs {
    path: PathBuf,
    pairs: Vec<PairResult>,
}

impl ReusedPairs {
    /// Reads `path` and checks that it measured the benchmark this run measures.
    pub fn load(
        path: &Path,
        aon_source: &str,
        adam_rate: f64,
        steps: usize,
        reach_limit: usize,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --reuse-pairs {}", path.display()))?;
        let stored: StoredResults = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a results.json of cargo xtask bench-aon",
                path.display()
            )
        })?;
        let differs = |what: &str, theirs: String, ours: String| {
            anyhow::anyhow!(
                "{} was measured with {what} {theirs}, this run uses {ours}: its pairs cannot be reused",
                path.display()
            )
        };
        if stored.aon_source != aon_source {
            return Err(differs(
                "the AON",
                format!("`{}`", stored.aon_source),
                format!("`{aon_source}`"),
            ));
        }
        if stored.adam.best_rate != adam_rate {
            return Err(differs(
                "Adam's rate",
                stored.adam.best_rate.to_string(),
                adam_rate.to_string(),
            ));
        }
        if stored.steps != steps {
            return Err(differs(
                "--steps",
                stored.steps.to_string(),
                steps.to_string(),
            ));
        }
        if stored.reach_limit != reach_limit {
            return Err(differs(
                "the Adam run limit",
                stored.reach_limit.to_string(),
                reach_limit.to_string(),
            ));
        }
        eprintln!(
            "reusing the measurements of {} held-out pairs from {}",
            stored.pairs.len(),
            path.display()
        );
        Ok(Self {
            path: path.to_path_buf(),
            pairs: stored.pairs,
        })
    }

    /// The earlier measurements of held-out pair `index`, if the earlier run
    /// got that far; an error when its pair is
    /// another problem (another seed) or, with `oracle` settings, was swept
    /// over another grid.
    pub fn pair(
        &self,
        index: usize,
        problem: &InnerProblem,
        oracle: &[UpdateSettings],
    ) -> anyhow::Result<Option<PairResult>> {
        let Some(stored) = self.pairs.get(index) else {
            return Ok(None);
        };
        let described = problem.describe();
        anyhow::ensure!(
            stored.problem == described,
            "{}: pair {} is `{}`, this run's is `{described}` (another --seed?)",
            self.path.display(),
            index + 1,
            stored.problem
        );
        let swept: Vec<UpdateSettings> = stored.sweep.iter().map(|o| o.settings).collect();
        anyhow::ensure!(
            swept == oracle,
            "{}: pair {} was swept over {} settings, this run's grid has {} (another --oracle-warmup, or no --oracle?)",
            self.path.display(),
            index + 1,
            swept.len(),
            oracle.len()
        );
        Ok(Some(stored.clone()))
    }
}
