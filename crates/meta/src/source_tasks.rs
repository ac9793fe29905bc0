//! The source tasks of meta-training, chosen from benchmark tables with
//! explicit exclusions.

use crate::error::{MetaError, Result};
use metanas_aen::TaskValues;
use metanas_data::{BenchmarkTable, MetricKind, TaskCatalog};
use metanas_space::{GraphEncoding, SearchSpace};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Whether the image stages of meta-training (the AON, and cells measured
/// on an image task) serve a meta-model of sources of these `kinds`: they
/// serve searches that train networks on images, whose metric is an
/// accuracy; a latency or cost meta-model is used by table searches and
/// latency predictions only, which use neither.
pub fn image_stages_serve(kinds: &[MetricKind]) -> bool {
    kinds.contains(&MetricKind::Accuracy)
}

/// What was chosen, recorded in the meta-model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSelection {
    /// The space of the cells.
    pub space: String,
    /// Source task columns, in head order.
    pub tasks: Vec<String>,
    /// Families excluded by the user (`--exclude c100`).
    pub excluded_families: Vec<String>,
    /// Every column that was excluded with them (tasks and report columns).
    pub excluded_columns: Vec<String>,
}

/// Cells and their values on the source tasks.
#[derive(Debug, Clone)]
pub struct SourceTasks {
    /// What was chosen.
    pub selection: SourceSelection,
    /// Every cell of the table.
    pub encodings: Vec<GraphEncoding>,
    /// One value per cell for each task.
    pub tasks: Vec<TaskValues>,
}

impl SourceTasks {
    /// The tasks of `catalog` (columns of `table`) whose kind is in `kinds`,
    /// without the families in `exclude` (every column of an excluded family,
    /// its report columns included, is dropped: see
    /// [`TaskCatalog::leave_family_out`]).
    ///
    /// # Errors
    /// [`MetaError::Data`] for an unknown family or column;
    /// [`MetaError::InvalidConfig`] when no task is left.
    pub fn from_table<S: SearchSpace>(
        table: &BenchmarkTable<S>,
        catalog: &TaskCatalog,
        kinds: &[MetricKind],
        exclude: &[String],
    ) -> Result<Self> {
        let mut excluded_columns = BTreeSet::new();
        for family in exclude {
            excluded_columns.extend(catalog.leave_family_out(family)?.held_out_columns);
        }
        let chosen: Vec<String> = catalog
            .tasks()
            .iter()
            .filter(|t| kinds.contains(&t.kind) && !exclude.contains(&t.family))
            .filter(|t| t.columns().all(|c| !excluded_columns.contains(c)))
            .map(|t| t.name.clone())
            .collect();
        if chosen.is_empty() {
            return Err(MetaError::InvalidConfig(format!(
                "no source task left in {} after excluding [{}]",
                table.path().display(),
                exclude.join(", ")
            )));
        }
        let tasks = chosen
            .iter()
            .map(|name| {
                Ok(TaskValues {
                    name: name.clone(),
                    values: table.column(name)?.to_vec(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let encodings = table
            .archs()
            .iter()
            .map(|a| table.space().encode(a))
            .collect();
        Ok(Self {
            selection: SourceSelection {
                space: table.space().name().to_string(),
                tasks: chosen,
                excluded_families: exclude.to_vec(),
                excluded_columns: excluded_columns.into_iter().collect(),
            },
            encodings,
            tasks,
        })
    }
}
