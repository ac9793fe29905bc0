//! Evaluation by benchmark-table lookup.

use crate::error::{Result, SearchError};
use crate::evaluator::Evaluator;
use crate::measurement::Measurement;
use metanas_data::{BenchmarkTable, Objective};
use metanas_space::SearchSpace;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Looks an architecture up in a [`BenchmarkTable`]: the strategy sees the
/// `objective` column (e.g. `c100_valid`), the `report` column (e.g.
/// `c100_test`) is stored beside it.
pub struct TableEvaluator<S: SearchSpace> {
    table: Arc<BenchmarkTable<S>>,
    objective_column: String,
    report_column: Option<String>,
    direction: Objective,
    detail_columns: Vec<String>,
}

impl<S: SearchSpace> TableEvaluator<S> {
    /// An evaluator of `objective_column`, reporting `report_column`.
    ///
    /// # Errors
    /// [`SearchError::Data`] when a column is not in the table.
    pub fn new(
        table: Arc<BenchmarkTable<S>>,
        objective_column: &str,
        report_column: Option<&str>,
        direction: Objective,
    ) -> Result<Self> {
        table.column(objective_column)?;
        if let Some(report) = report_column {
            table.column(report)?;
        }
        Ok(Self {
            table,
            objective_column: objective_column.to_string(),
            report_column: report_column.map(str::to_string),
            direction,
            detail_columns: Vec::new(),
        })
    }

    /// Also records these columns in each measurement's details.
    ///
    /// # Errors
    /// [`SearchError::Data`] when a column is not in the table.
    pub fn with_details(mut self, columns: &[&str]) -> Result<Self> {
        for c in columns {
            self.table.column(c)?;
        }
        self.detail_columns = columns.iter().map(|c| c.to_string()).collect();
        Ok(self)
    }

    /// The table.
    pub fn table(&self) -> &BenchmarkTable<S> {
        &self.table
    }

    /// [`Evaluator::describe`] as versions before 2026-11-30 wrote it, naming
    /// the table by its path rather than [`BenchmarkTable::identity`]: the
    /// search key of a trial store they wrote (see
    /// [`crate::TrialStore::open_migrating`]).
    pub fn describe_by_path(&self) -> String {
        format!(
            "table {} column {} (report {})",
            self.table.path().display(),
            self.objective_column,
            self.report_column.as_deref().unwrap_or("none")
        )
    }
}

impl<S: SearchSpace> Evaluator<S> for TableEvaluator<S> {
    fn describe(&self) -> String {
        format!(
            "table {} column {} (report {})",
            self.table.identity(),
            self.objective_column,
            self.report_column.as_deref().unwrap_or("none")
        )
    }

    fn objective(&self) -> Objective {
        self.direction
    }

    fn evaluate(&mut self, arch: &S::Arch, _seed: u64) -> Result<Measurement> {
        let objective = self.table.value(arch, &self.objective_column)?;
        let report = match &self.report_column {
            Some(c) => Some(self.table.value(arch, c)?),
            None => None,
        };
        let mut details = BTreeMap::new();
        for c in &self.detail_columns {
            details.insert(c.clone(), self.table.value(arch, c)?);
        }
        if !objective.is_finite() {
            return Err(SearchError::InvalidConfig(format!(
                "{} is not finite for this cell",
                self.objective_column
            )));
        }
        Ok(Measurement {
            objective,
            report,
            cost_seconds: 0.0,
            details,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_space::nb201::Nb201Space;

    #[test]
    fn description_names_the_table_by_content_not_by_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("mine.csv");
        std::fs::write(
            &path,
            "arch,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n",
        )
        .expect("write");
        let table = Arc::new(BenchmarkTable::from_csv(Nb201Space, &path).expect("loads"));
        let evaluator =
            TableEvaluator::new(table.clone(), "acc", None, Objective::Maximize).expect("column");
        let folder = dir.path().to_string_lossy().to_string();
        let description = evaluator.describe();
        assert!(description.contains(table.identity()), "{description}");
        assert!(!description.contains(&folder), "{description}");
        assert_eq!(
            evaluator.describe_by_path(),
            format!("table {} column acc (report none)", path.display())
        );
    }
}
