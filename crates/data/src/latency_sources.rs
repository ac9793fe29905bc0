//! What is known of every NAS-Bench-201 cell before a new device is
//! measured: its latency on the shipped devices, and its parameters and
//! FLOPs, which no device changes. A latency meta-model learns from both.

use crate::benchmark_table::BenchmarkTable;
use crate::error::{DataError, Result};
use crate::shipped;
use crate::task_catalog::TaskCatalog;
use metanas_space::SearchSpace;
use metanas_space::nb201::Nb201Space;
use std::fmt::Write;
use std::path::Path;

/// Whether `column` of the shipped accuracy table is a cost of the cell
/// (`params_mb_*`, `flops_m_*`): the same on every device.
fn is_cost_column(column: &str) -> bool {
    column.starts_with("params_") || column.starts_with("flops_")
}

/// The shipped latency table with the shipped accuracy table's cost columns
/// (`params_mb_*`, `flops_m_*`) beside its devices, one row per cell.
///
/// # Errors
/// When a shipped table is missing or damaged, or a cell of the latency
/// table is not in the accuracy table.
pub fn nb201_latency_and_cost_table() -> Result<BenchmarkTable<Nb201Space>> {
    let latency = shipped::nb201_latency_table()?;
    let accuracy = shipped::nb201_table()?;
    let costs: Vec<&String> = accuracy
        .column_names()
        .iter()
        .filter(|c| is_cost_column(c))
        .collect();
    let mut text = String::from("arch");
    for name in latency.column_names().iter().chain(costs.iter().copied()) {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    let latency_columns: Vec<&[f64]> = latency
        .column_names()
        .iter()
        .map(|c| latency.column(c))
        .collect::<Result<_>>()?;
    let cost_columns: Vec<&[f64]> = costs
        .iter()
        .map(|c| accuracy.column(c))
        .collect::<Result<_>>()?;
    for (row, arch) in latency.archs().iter().enumerate() {
        let other = accuracy
            .row_of(arch)
            .ok_or_else(|| DataError::ArchNotInTable {
                source_name: accuracy.path().display().to_string(),
                arch: Nb201Space.format(arch),
            })?;
        text.push_str(&Nb201Space.format(arch));
        for column in &latency_columns {
            let _ = write!(text, ",{}", column[row]);
        }
        for column in &cost_columns {
            let _ = write!(text, ",{}", column[other]);
        }
        text.push('\n');
    }
    BenchmarkTable::from_csv_bytes(
        Nb201Space,
        Path::new("nb201_latency.csv.gz + costs of nb201.csv.gz"),
        text.as_bytes(),
    )
}

/// The tasks of [`nb201_latency_and_cost_table`]: each device as
/// [`TaskCatalog::latency`] makes it (its hardware family), each cost
/// column as [`TaskCatalog::nb201_accuracy`] does (minimised, of its
/// dataset's family: holding out a device never removes a cost column).
///
/// # Errors
/// [`DataError::InvalidConfig`] when a column would be in both.
pub fn latency_and_cost_catalog(table: &BenchmarkTable<Nb201Space>) -> Result<TaskCatalog> {
    let (costs, devices): (Vec<String>, Vec<String>) = table
        .column_names()
        .iter()
        .cloned()
        .partition(|c| is_cost_column(c));
    TaskCatalog::latency(&devices).merge(TaskCatalog::nb201_accuracy(&costs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_task::{MetricKind, Objective};

    #[test]
    fn every_cell_has_its_latencies_and_costs() {
        let table = nb201_latency_and_cost_table().expect("shipped tables");
        let latency = shipped::nb201_latency_table().expect("latency");
        let accuracy = shipped::nb201_table().expect("accuracy");
        assert_eq!(table.rows(), latency.rows());
        assert_eq!(table.column_names().len(), latency.column_names().len() + 6);
        for arch in table.archs().iter().step_by(997) {
            assert_eq!(
                table.value(arch, "pixel3").expect("value"),
                latency.value(arch, "pixel3").expect("value")
            );
            assert_eq!(
                table.value(arch, "flops_m_c10").expect("value"),
                accuracy.value(arch, "flops_m_c10").expect("value")
            );
        }
        let catalog = latency_and_cost_catalog(&table).expect("disjoint");
        let flops = catalog.task("flops_m_c10").expect("a task");
        assert_eq!(
            (flops.kind, flops.objective),
            (MetricKind::Cost, Objective::Minimize)
        );
        assert_eq!(
            catalog.task("titanx_32").map(|t| t.family.as_str()),
            Some("titanx")
        );
        let split = catalog.leave_family_out("pixel3").expect("a family");
        assert!(split.train.iter().any(|t| t.name == "params_mb_c10"));
        assert!(split.train.iter().all(|t| t.name != "pixel3"));
    }
}
