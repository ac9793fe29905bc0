//! Known metrics of the source tasks for each cell: side features of a
//! meta-learned surrogate.

use crate::error::{Result, SearchError};
use metanas_aen::{SourceSlopePrior, normal_scores};
use metanas_data::BenchmarkTable;
use metanas_space::{GraphEncoding, SearchSpace};
use std::collections::HashMap;

/// For every cell of a benchmark table, the values of some columns (the
/// source tasks of a meta-model), each as normal scores over the table (the
/// Gaussian copula of the column: ranks, robust to its outliers), keyed by
/// the cell's encoding (cells whose live graphs coincide share one entry: the
/// average of their rows).
#[derive(Debug, Clone)]
pub struct SourceValues {
    columns: Vec<String>,
    values: HashMap<GraphEncoding, Vec<f64>>,
    /// The distinct encodings in the table's row order (of first appearance):
    /// a fixed order for statistics over all cells, which a hash map's
    /// iteration order (random per process) would not give.
    order: Vec<GraphEncoding>,
}

impl SourceValues {
    /// The `columns` of `table`, for each of its cells.
    ///
    /// # Errors
    /// [`SearchError::Data`] for an unknown column; [`SearchError::Surrogate`]
    /// for a column with a non-finite value.
    pub fn from_table<S: SearchSpace>(
        table: &BenchmarkTable<S>,
        columns: &[String],
    ) -> Result<Self> {
        let mut scores = Vec::with_capacity(columns.len());
        for c in columns {
            scores.push(normal_scores(table.column(c)?)?);
        }
        let mut sums: HashMap<GraphEncoding, (Vec<f64>, usize)> = HashMap::new();
        let mut order = Vec::new();
        for (row, arch) in table.archs().iter().enumerate() {
            let encoding = table.space().encode(arch);
            if !sums.contains_key(&encoding) {
                order.push(encoding.clone());
            }
            let entry = sums
                .entry(encoding)
                .or_insert_with(|| (vec![0.0; columns.len()], 0));
            for (j, column) in scores.iter().enumerate() {
                entry.0[j] += column[row];
            }
            entry.1 += 1;
        }
        let values = sums
            .into_iter()
            .map(|(e, (sum, n))| (e, sum.into_iter().map(|v| v / n as f64).collect()))
            .collect();
        Ok(Self {
            columns: columns.to_vec(),
            values,
            order,
        })
    }

    /// The prior over a single source's weight in a new task, learned from
    /// these columns over every cell ([`SourceSlopePrior::from_source_values`]).
    ///
    /// # Errors
    /// As [`SourceSlopePrior::from_source_values`].
    pub fn slope_prior(&self) -> Result<SourceSlopePrior> {
        let rows = self.rows(&self.order)?;
        Ok(SourceSlopePrior::from_source_values(
            &rows,
            self.columns.len(),
        )?)
    }

    /// The columns, in feature order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The normal scores of one cell, if the table has it.
    pub fn get(&self, encoding: &GraphEncoding) -> Option<&[f64]> {
        self.values.get(encoding).map(Vec::as_slice)
    }

    /// The normal scores of `encodings`, row-major (`len × columns`).
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] naming the first cell the table lacks.
    pub fn rows(&self, encodings: &[GraphEncoding]) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(encodings.len() * self.columns.len());
        for (i, e) in encodings.iter().enumerate() {
            let row = self.get(e).ok_or_else(|| {
                SearchError::InvalidConfig(format!(
                    "cell {i} of the pool is not in the source table: source values are only known for its cells"
                ))
            })?;
            out.extend_from_slice(row);
        }
        Ok(out)
    }
}
