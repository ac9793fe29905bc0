//! A benchmark column seen as a task: what a search optimises and what it reports.

use serde::{Deserialize, Serialize};

/// Whether larger or smaller values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Larger is better (accuracy).
    Maximize,
    /// Smaller is better (latency, parameters, FLOPs).
    Minimize,
}

impl Objective {
    /// Whether `a` is better than `b` under this objective.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Self::Maximize => a > b,
            Self::Minimize => a < b,
        }
    }
}

/// What a column measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// Accuracy (or another quality score) of a trained network.
    Accuracy,
    /// Measured inference time on a device.
    Latency,
    /// A static cost of the network (parameters, FLOPs).
    Cost,
}

/// One task of a benchmark table: the column a search sees (`name`), the
/// column it reports at the end (`report_column`, often the test metric that
/// the search must never see), and the family that leave-one-out splits
/// hold out together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableTask {
    /// The column the search optimises (e.g. `c100_valid`).
    pub name: String,
    /// The column reported for the chosen architecture (e.g. `c100_test`);
    /// equal to `name` when there is no separate report metric.
    pub report_column: String,
    /// The family (dataset or hardware) the task belongs to (e.g. `c100`, `1080ti`).
    pub family: String,
    /// Better direction.
    pub objective: Objective,
    /// What is measured.
    pub kind: MetricKind,
}

impl TableTask {
    /// The columns the task touches: its own and its report column.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain((self.report_column != self.name).then_some(self.report_column.as_str()))
    }
}
