//! Which way a table's column is searched (maximised or minimised), and what
//! decided it: a user's own table must never search a latency the wrong way
//! round.
//!
//! In order of precedence:
//! 1. the user asked (`--minimize` / `--maximize` on the command line,
//!    [`TableTasks::with_objective`]);
//! 2. the table's side-car file, `<table file name>.tasks.json` beside the
//!    table ([`side_car_path`]; the format of [`TaskCatalog::with_overrides_file`]);
//! 3. the column's name ([`objective_by_name`]): `*_latency`, `*_ms`,
//!    `*_energy`, `params_*` and `flops_*` are minimised;
//! 4. otherwise the column is a score (an accuracy): maximised.

use crate::error::{DataError, Result};
use crate::table_task::{MetricKind, Objective};
use crate::task_catalog::{TaskCatalog, TaskOverride, read_overrides};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// What follows a table's file name to name its side-car file (`my.csv` →
/// `my.csv.tasks.json`).
pub const SIDE_CAR_SUFFIX: &str = ".tasks.json";

/// The side-car file of the table at `table`: the same name with
/// [`SIDE_CAR_SUFFIX`] appended, in the same folder.
pub fn side_car_path(table: &Path) -> PathBuf {
    let mut name = table.file_name().unwrap_or_default().to_os_string();
    name.push(SIDE_CAR_SUFFIX);
    table.with_file_name(name)
}

/// The objective and kind a column's name implies, if it implies one: the
/// last `_`-separated word `latency` or `ms` (a latency) or `energy` (a
/// cost), or the first word `params` or `flops` (a cost) — all minimised.
pub fn objective_by_name(column: &str) -> Option<(Objective, MetricKind)> {
    let last = column.rsplit('_').next().unwrap_or(column);
    let first = column.split('_').next().unwrap_or(column);
    match (first, last) {
        (_, "latency" | "ms") => Some((Objective::Minimize, MetricKind::Latency)),
        (_, "energy") | ("params" | "flops", _) => Some((Objective::Minimize, MetricKind::Cost)),
        _ => None,
    }
}

/// What decided a column's objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionSource {
    /// The user asked for it (`--minimize` / `--maximize`).
    Asked,
    /// The table's side-car file (its path).
    SideCar(PathBuf),
    /// The column's name ([`objective_by_name`]).
    ColumnName,
    /// No rule applied: a score, larger is better.
    Default,
}

impl fmt::Display for DirectionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Asked => write!(f, "asked with --minimize/--maximize"),
            Self::SideCar(path) => write!(f, "side-car {}", path.display()),
            Self::ColumnName => write!(f, "by the column's name"),
            Self::Default => write!(f, "default: a score, larger is better"),
        }
    }
}

/// A column's objective and what decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskDirection {
    /// Maximise or minimise.
    pub objective: Objective,
    /// What decided it.
    pub source: DirectionSource,
}

impl fmt::Display for TaskDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.objective {
            Objective::Maximize => "maximised",
            Objective::Minimize => "minimised",
        };
        write!(f, "{verb} ({})", self.source)
    }
}

/// The tasks of a benchmark table with the overrides that apply to it: its
/// side-car file, if it has one, and the directions the user asked for.
#[derive(Debug, Clone)]
pub struct TableTasks {
    catalog: TaskCatalog,
    side_car: Option<(PathBuf, BTreeMap<String, TaskOverride>)>,
    asked: BTreeMap<String, Objective>,
}

impl TableTasks {
    /// The tasks of `catalog` as they are (a shipped table: no side-car).
    pub fn new(catalog: TaskCatalog) -> Self {
        Self {
            catalog,
            side_car: None,
            asked: BTreeMap::new(),
        }
    }

    /// The tasks of a user's table read from `table`: `catalog` (its columns
    /// by naming rules, e.g. [`TaskCatalog::nb201_accuracy`] or
    /// [`TaskCatalog::generic`]) with the overrides of the side-car file
    /// beside it ([`side_car_path`]) when there is one. A table without a
    /// side-car keeps the naming rules.
    ///
    /// # Errors
    /// The errors of [`TaskCatalog::with_overrides_file`], naming the side-car.
    pub fn of_table(table: &Path, catalog: TaskCatalog) -> Result<Self> {
        let path = side_car_path(table);
        if !path.exists() {
            return Ok(Self::new(catalog));
        }
        let overrides = read_overrides(&path)?;
        let catalog = overrides
            .iter()
            .try_fold(catalog, |catalog, (column, change)| {
                catalog.with_override(column, change)
            })?;
        Ok(Self {
            catalog,
            side_car: Some((path, overrides)),
            asked: BTreeMap::new(),
        })
    }

    /// The same tasks with `column` searched as `objective` (the user's
    /// choice, which wins over the side-car and the name). A report-only
    /// column becomes a task reported by itself.
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`] when the table has no such column.
    pub fn with_objective(mut self, column: &str, objective: Objective) -> Result<Self> {
        self.catalog = self.catalog.with_override(
            column,
            &TaskOverride {
                objective: Some(objective),
                report_only: Some(false),
                ..TaskOverride::default()
            },
        )?;
        self.asked.insert(column.to_string(), objective);
        Ok(self)
    }

    /// The catalog, every override applied.
    pub fn catalog(&self) -> &TaskCatalog {
        &self.catalog
    }

    /// The catalog, every override applied.
    pub fn into_catalog(self) -> TaskCatalog {
        self.catalog
    }

    /// The side-car file that was applied, if any.
    pub fn side_car(&self) -> Option<&Path> {
        self.side_car.as_ref().map(|(path, _)| path.as_path())
    }

    /// The objective of `column` (a task, or a report-only column searched
    /// directly) and what decided it.
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`] when the catalog has no such column.
    pub fn direction(&self, column: &str) -> Result<TaskDirection> {
        if self.catalog.family_of_column(column).is_none() {
            let known: BTreeSet<String> = self
                .catalog
                .tasks()
                .iter()
                .map(|t| t.name.clone())
                .chain(self.catalog.report_only().iter().map(|r| r.name.clone()))
                .collect();
            return Err(DataError::UnknownColumn {
                source_name: "task catalog".into(),
                column: column.to_string(),
                available: known.into_iter().collect::<Vec<_>>().join(", "),
            });
        }
        if let Some(&objective) = self.asked.get(column) {
            return Ok(TaskDirection {
                objective,
                source: DirectionSource::Asked,
            });
        }
        if let Some((path, overrides)) = &self.side_car
            && let Some(objective) = overrides.get(column).and_then(|o| o.objective)
        {
            return Ok(TaskDirection {
                objective,
                source: DirectionSource::SideCar(path.clone()),
            });
        }
        let by_name = objective_by_name(column).map(|(objective, _)| objective);
        let objective = self
            .catalog
            .task(column)
            .map(|t| t.objective)
            .or(by_name)
            .unwrap_or(Objective::Maximize);
        let source = if by_name == Some(objective) {
            DirectionSource::ColumnName
        } else {
            DirectionSource::Default
        };
        Ok(TaskDirection { objective, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_of_latencies_energies_and_costs_are_minimised() {
        for (column, expected) in [
            ("pixel7_latency", Some(Objective::Minimize)),
            ("latency", Some(Objective::Minimize)),
            ("my_phone_ms", Some(Objective::Minimize)),
            ("fpga_energy", Some(Objective::Minimize)),
            ("params_mb", Some(Objective::Minimize)),
            ("flops_m_c10", Some(Objective::Minimize)),
            ("acc_valid", None),
            ("msr_score", None),
            ("latency_rank", None),
        ] {
            assert_eq!(
                objective_by_name(column).map(|(o, _)| o),
                expected,
                "{column}"
            );
        }
        let catalog = TaskCatalog::generic(&strings(&["acc_valid", "acc_test", "phone_ms"]));
        let phone = catalog.task("phone_ms").expect("a task");
        assert_eq!(
            (phone.objective, phone.kind),
            (Objective::Minimize, MetricKind::Latency)
        );
        assert_eq!(
            catalog.task("acc_valid").map(|t| t.objective),
            Some(Objective::Maximize)
        );
    }

    #[test]
    fn asked_beats_side_car_beats_name_beats_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        let table = dir.path().join("my.csv");
        let columns = strings(&["acc_valid", "acc_test", "phone_ms", "speed", "board_ms"]);
        // No side-car: the naming rules.
        let plain = TableTasks::of_table(&table, TaskCatalog::generic(&columns))
            .expect("no side-car is fine");
        assert!(plain.side_car().is_none());
        let direction = |tasks: &TableTasks, column: &str| {
            let d = tasks.direction(column).expect("a column");
            (d.objective, d.source)
        };
        assert_eq!(
            direction(&plain, "phone_ms"),
            (Objective::Minimize, DirectionSource::ColumnName)
        );
        assert_eq!(
            direction(&plain, "speed"),
            (Objective::Maximize, DirectionSource::Default)
        );
        assert_eq!(
            direction(&plain, "acc_test"),
            (Objective::Maximize, DirectionSource::Default)
        );

        // The side-car beside the table: `my.csv.tasks.json`.
        let side_car = side_car_path(&table);
        assert_eq!(side_car, dir.path().join("my.csv.tasks.json"));
        std::fs::write(
            &side_car,
            r#"{ "speed": { "objective": "minimize", "kind": "latency" },
                 "board_ms": { "objective": "maximize" } }"#,
        )
        .expect("write");
        let tasks =
            TableTasks::of_table(&table, TaskCatalog::generic(&columns)).expect("valid side-car");
        assert_eq!(tasks.side_car(), Some(side_car.as_path()));
        assert_eq!(
            direction(&tasks, "speed"),
            (
                Objective::Minimize,
                DirectionSource::SideCar(side_car.clone())
            )
        );
        assert_eq!(
            direction(&tasks, "board_ms"),
            (
                Objective::Maximize,
                DirectionSource::SideCar(side_car.clone())
            )
        );
        assert_eq!(
            tasks.catalog().task("speed").map(|t| t.kind),
            Some(MetricKind::Latency)
        );

        // The user's choice wins, also on a report-only column.
        let asked = tasks
            .with_objective("board_ms", Objective::Minimize)
            .and_then(|t| t.with_objective("acc_test", Objective::Minimize))
            .expect("known columns");
        assert_eq!(
            direction(&asked, "board_ms"),
            (Objective::Minimize, DirectionSource::Asked)
        );
        assert_eq!(
            asked.catalog().task("acc_test").map(|t| t.objective),
            Some(Objective::Minimize)
        );
        assert!(matches!(
            asked.direction("nope"),
            Err(DataError::UnknownColumn { .. })
        ));
        assert!(matches!(
            TableTasks::of_table(&table, TaskCatalog::generic(&columns))
                .and_then(|t| t.with_objective("nope", Objective::Minimize)),
            Err(DataError::UnknownColumn { .. })
        ));

        // A broken side-car names itself.
        std::fs::write(&side_car, r#"{ "speed": { "objectiv": "minimize" } }"#).expect("write");
        let err = TableTasks::of_table(&table, TaskCatalog::generic(&columns))
            .expect_err("a typo is refused");
        assert!(err.to_string().contains("my.csv.tasks.json"), "{err}");
    }
}
