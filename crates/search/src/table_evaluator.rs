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
}

impl<S: SearchSpace> Evaluator<S> for TableEvaluator<S> {
    fn describe(&self) -> String {
        format!(
            "table {} column {} (report {})",
            self.table.path().display(),
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
