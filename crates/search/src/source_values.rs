//! Known metrics of the source tasks for each cell: side features of a
//! meta-learned surrogate.

use crate::error::{Result, SearchError};
use metanas_aen::{SourceSlopePrior, normal_scores};
use metanas_data::BenchmarkTable;
use metanas_space::{GraphEncoding, SearchSpace};
use std::collections::{HashMap, HashSet};

/// For every cell of a benchmark table (or of several, matched by cell), the
/// values of some columns (the source tasks of a meta-model), each as normal
/// scores over its table (the
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
        Self::from_tables(&[table], columns)
    }

    /// The `columns`, each read from the first of `tables` that has it (e.g.
    /// NAS-Bench-201's accuracy table and its latency table, for a meta-model
    /// whose sources are both), for the cells of the first table that every
    /// table read has, in its row order. Each column's normal scores are taken
    /// over its own table.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] for no table; [`SearchError::Data`] for
    /// a column no table has; [`SearchError::Surrogate`] for a column with a
    /// non-finite value.
    pub fn from_tables<S: SearchSpace>(
        tables: &[&BenchmarkTable<S>],
        columns: &[String],
    ) -> Result<Self> {
        let scored = column_scores(tables, columns)?;
        let encode = |table: &BenchmarkTable<S>| -> Vec<GraphEncoding> {
            table
                .archs()
                .iter()
                .map(|a| table.space().encode(a))
                .collect()
        };
        let mut encodings: Vec<Option<Vec<GraphEncoding>>> = vec![None; tables.len()];
        // Per column: each cell's mean normal score over its isomorphic rows.
        let mut per_column: Vec<HashMap<GraphEncoding, f64>> = Vec::with_capacity(columns.len());
        for (t, scores) in scored {
            let encoded = encodings[t].get_or_insert_with(|| encode(tables[t]));
            let mut sums: HashMap<GraphEncoding, (f64, usize)> = HashMap::new();
            for (encoding, score) in encoded.iter().zip(&scores) {
                let entry = sums.entry(encoding.clone()).or_insert((0.0, 0));
                entry.0 += score;
                entry.1 += 1;
            }
            per_column.push(
                sums.into_iter()
                    .map(|(e, (sum, n))| (e, sum / n as f64))
                    .collect(),
            );
        }
        // The cells: the first table's distinct encodings that every column
        // has, in the table's row order.
        let mut seen = HashSet::new();
        let order: Vec<GraphEncoding> = encodings[0]
            .get_or_insert_with(|| encode(tables[0]))
            .iter()
            .filter(|e| per_column.iter().all(|c| c.contains_key(*e)))
            .filter(|e| seen.insert(*e))
            .cloned()
            .collect();
        let values = order
            .iter()
            .map(|e| (e.clone(), per_column.iter().map(|c| c[e]).collect()))
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

/// For each of `columns`: the index of the first of `tables` that has it,
/// and the column's normal scores over that table's rows.
///
/// # Errors
/// [`SearchError::InvalidConfig`] for no table; [`SearchError::Data`] for a
/// column no table has; [`SearchError::Surrogate`] for a column with a
/// non-finite value.
pub(crate) fn column_scores<S: SearchSpace>(
    tables: &[&BenchmarkTable<S>],
    columns: &[String],
) -> Result<Vec<(usize, Vec<f64>)>> {
    if tables.is_empty() {
        return Err(SearchError::InvalidConfig(
            "source values need at least one table".into(),
        ));
    }
    columns
        .iter()
        .map(|c| {
            let t = tables.iter().position(|t| t.has_column(c)).unwrap_or(0);
            Ok((t, normal_scores(tables[t].column(c)?)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_data::shipped;

    #[test]
    fn columns_of_two_tables_are_each_read_from_their_own() {
        let accuracy = shipped::nb201_table().expect("accuracy table");
        let latency = shipped::nb201_latency_table().expect("latency table");
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mixed =
            SourceValues::from_tables(&[&accuracy, &latency], &names(&["c10v_valid", "pixel3"]))
                .expect("mixed sources");
        let from_accuracy =
            SourceValues::from_table(&accuracy, &names(&["c10v_valid"])).expect("accuracy");
        let from_latency =
            SourceValues::from_table(&latency, &names(&["pixel3"])).expect("latency");
        assert_eq!(mixed.columns(), names(&["c10v_valid", "pixel3"]));
        assert!(mixed.order.len() > 1000, "{} cells", mixed.order.len());
        for e in &mixed.order {
            let row = mixed.get(e).expect("a listed cell has values");
            assert_eq!(row[0], from_accuracy.get(e).expect("accuracy row")[0]);
            assert_eq!(row[1], from_latency.get(e).expect("latency row")[0]);
        }
        // One table: the same as reading it alone, in its row order.
        let one = SourceValues::from_tables(&[&accuracy], &names(&["c10v_valid"])).expect("one");
        assert_eq!(one.order, from_accuracy.order);
        assert!(matches!(
            SourceValues::from_tables(&[&accuracy, &latency], &names(&["no_such_column"])),
            Err(SearchError::Data(_))
        ));
        assert!(matches!(
            SourceValues::from_tables::<metanas_space::nb201::Nb201Space>(&[], &[]),
            Err(SearchError::InvalidConfig(_))
        ));
    }
}
