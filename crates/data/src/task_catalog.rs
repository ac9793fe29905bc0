//! The tasks of benchmark tables, grouped in families for leave-one-out splits.
//!
//! # Naming rules
//!
//! **NAS-Bench-201 accuracy table** ([`TaskCatalog::nb201_accuracy`]), with
//! `d` the dataset token (`c10`, `c100`, `in16`; `c10v`, the CIFAR-10 train/valid
//! split, counts as `c10`):
//! * `d_valid[_s]` is a task (maximise accuracy) reported by `d_test[_s]`
//!   (`c10v_valid` → `c10_test`, `c10v_valid_hp12` → `c10_test_hp12`);
//! * `d_test[_s]` and `d_test_nats` are report-only: never search targets;
//! * `params_mb_d` and `flops_m_d` are cost tasks (minimise), reported by themselves;
//! * the family of each is `d`. Cost columns go to their dataset's family on
//!   purpose: holding out CIFAR-100 then removes *every* column computed on
//!   CIFAR-100, so no leak is possible by construction; meta-training loses
//!   nothing, since the other datasets' cost columns differ only by the
//!   classifier head.
//!
//! **Latency tables** ([`TaskCatalog::latency`]): every column is a task
//! (minimise, reported by itself). A column `hw_<digits>` whose prefix `hw`
//! appears with at least two different numeric suffixes is one hardware at
//! several batch sizes, and its family is `hw` (`1080ti_1`, `1080ti_32`,
//! `1080ti_256` → `1080ti`); any other column is its own family (`pixel3`,
//! `gold_6240`, `essential_ph_1`).
//!
//! **Any other table** ([`TaskCatalog::generic`]): `X_valid` is a task
//! reported by `X_test` when that column exists (which is then report-only),
//! otherwise by itself; every other column is a task reported by itself; the
//! family is the text before the first `_` (the whole name if none); the
//! objective is maximise, the kind accuracy, except for names that say
//! otherwise (`*_latency`, `*_ms`: minimise a latency; `*_energy`,
//! `params_*`, `flops_*`: minimise a cost; [`crate::objective_by_name`]).
//! Change any of this per column with [`TaskCatalog::with_override`] or a
//! JSON side-car ([`TaskCatalog::with_overrides_file`]; beside a user's
//! table it is `<table file name>.tasks.json`, see [`crate::TableTasks`]):
//!
//! ```json
//! { "latency_ms": { "objective": "minimize", "kind": "latency", "family": "phone" },
//!   "acc_holdout": { "report_only": true, "family": "acc" } }
//! ```

use crate::benchmark_table::BenchmarkTable;
use crate::error::{DataError, Result};
use crate::table_task::{MetricKind, Objective, TableTask};
use metanas_space::SearchSpace;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Changes to the task made of one column (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskOverride {
    /// Another family.
    pub family: Option<String>,
    /// Another report column (must be a column of the catalog).
    pub report_column: Option<String>,
    /// Another objective.
    pub objective: Option<Objective>,
    /// Another kind.
    pub kind: Option<MetricKind>,
    /// `true`: the column is only reported, never searched; `false`: it is a task.
    pub report_only: Option<bool>,
}

/// A column that is only ever reported, never a search target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportColumn {
    /// The column.
    pub name: String,
    /// Its family.
    pub family: String,
}

/// The two sides of a leave-one-family-out split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySplit {
    /// Tasks meta-training may use: none touches a held-out column.
    pub train: Vec<TableTask>,
    /// The held-out family's tasks.
    pub held_out: Vec<TableTask>,
    /// Every column of the held-out family (tasks, report columns, report-only columns).
    pub held_out_columns: BTreeSet<String>,
}

/// The tasks of one or more benchmark tables, by family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskCatalog {
    tasks: Vec<TableTask>,
    report_only: Vec<ReportColumn>,
}

/// The overrides of a JSON side-car file: an object from column name to
/// [`TaskOverride`] (see [`TaskCatalog::with_overrides_file`]).
///
/// # Errors
/// [`DataError::Io`], [`DataError::Json`] (with serde's line and column).
pub fn read_overrides(path: &Path) -> Result<BTreeMap<String, TaskOverride>> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| DataError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The NAS-Bench-201 dataset of a token (`c10v` is CIFAR-10's valid split: `c10`).
fn nb201_dataset(token: &str) -> &str {
    if token == "c10v" { "c10" } else { token }
}

/// Text before the first `_`.
fn first_token(name: &str) -> &str {
    name.split('_').next().unwrap_or(name)
}

impl TaskCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tasks of the columns of any table, by the generic rule (module docs).
    pub fn generic(columns: &[String]) -> Self {
        let mut catalog = Self::new();
        for name in columns {
            catalog.add_generic(name, columns);
        }
        catalog
    }

    fn add_generic(&mut self, name: &str, columns: &[String]) {
        let family = first_token(name).to_string();
        if let Some(stem) = name.strip_suffix("_test")
            && columns.iter().any(|c| *c == format!("{stem}_valid"))
        {
            self.report_only.push(ReportColumn {
                name: name.to_string(),
                family,
            });
            return;
        }
        let report_column = name
            .strip_suffix("_valid")
            .map(|stem| format!("{stem}_test"))
            .filter(|r| columns.contains(r))
            .unwrap_or_else(|| name.to_string());
        let (objective, kind) = crate::task_direction::objective_by_name(name)
            .unwrap_or((Objective::Maximize, MetricKind::Accuracy));
        self.tasks.push(TableTask {
            name: name.to_string(),
            report_column,
            family,
            objective,
            kind,
        });
    }

    /// Tasks of NAS-Bench-201's accuracy table (rules in the module docs);
    /// unrecognised columns follow the generic rule.
    pub fn nb201_accuracy(columns: &[String]) -> Self {
        let mut catalog = Self::new();
        for name in columns {
            let tokens: Vec<&str> = name.split('_').collect();
            let first = tokens.first().copied().unwrap_or_default();
            if matches!(first, "params" | "flops") && tokens.len() >= 3 {
                let dataset = nb201_dataset(tokens.last().copied().unwrap_or_default());
                catalog.tasks.push(TableTask {
                    name: name.clone(),
                    report_column: name.clone(),
                    family: dataset.to_string(),
                    objective: Objective::Minimize,
                    kind: MetricKind::Cost,
                });
            } else if tokens.contains(&"test") || tokens.contains(&"nats") {
                catalog.report_only.push(ReportColumn {
                    name: name.clone(),
                    family: nb201_dataset(first).to_string(),
                });
            } else if tokens.contains(&"valid") {
                let dataset = nb201_dataset(first);
                let report: Vec<&str> = tokens
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match (i, *t) {
                        (0, _) => dataset,
                        (_, "valid") => "test",
                        (_, t) => t,
                    })
                    .collect();
                let report = report.join("_");
                catalog.tasks.push(TableTask {
                    name: name.clone(),
                    report_column: if columns.contains(&report) {
                        report
                    } else {
                        name.clone()
                    },
                    family: dataset.to_string(),
                    objective: Objective::Maximize,
                    kind: MetricKind::Accuracy,
                });
            } else {
                catalog.add_generic(name, columns);
            }
        }
        catalog
    }

    /// Tasks of a latency table (rules in the module docs).
    pub fn latency(columns: &[String]) -> Self {
        let split = |name: &str| -> Option<(String, String)> {
            let (prefix, suffix) = name.rsplit_once('_')?;
            (!suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (prefix.to_string(), suffix.to_string()))
        };
        let mut suffixes: HashMap<String, BTreeSet<String>> = HashMap::new();
        for name in columns {
            if let Some((prefix, suffix)) = split(name) {
                suffixes.entry(prefix).or_default().insert(suffix);
            }
        }
        let tasks = columns
            .iter()
            .map(|name| {
                let family = split(name)
                    .filter(|(prefix, _)| suffixes.get(prefix).is_some_and(|s| s.len() >= 2))
                    .map_or_else(|| name.clone(), |(prefix, _)| prefix);
                TableTask {
                    name: name.clone(),
                    report_column: name.clone(),
                    family,
                    objective: Objective::Minimize,
                    kind: MetricKind::Latency,
                }
            })
            .collect();
        Self {
            tasks,
            report_only: Vec::new(),
        }
    }

    /// The NAS-Bench-201 catalog of both tables: accuracies and latencies.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] when the tables share a column name.
    pub fn nb201<S: SearchSpace>(
        accuracy: &BenchmarkTable<S>,
        latency: &BenchmarkTable<S>,
    ) -> Result<Self> {
        Self::nb201_accuracy(accuracy.column_names()).merge(Self::latency(latency.column_names()))
    }

    /// Both catalogs in one.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] when a column appears in both.
    pub fn merge(mut self, other: Self) -> Result<Self> {
        let mine: BTreeSet<String> = self.all_columns().into_keys().collect();
        if let Some(clash) = other.all_columns().into_keys().find(|c| mine.contains(c)) {
            return Err(DataError::InvalidConfig(format!(
                "column `{clash}` is in both task catalogs"
            )));
        }
        self.tasks.extend(other.tasks);
        self.report_only.extend(other.report_only);
        Ok(self)
    }

    /// Every column (task or report-only) with its family.
    fn all_columns(&self) -> BTreeMap<String, String> {
        self.tasks
            .iter()
            .map(|t| (t.name.clone(), t.family.clone()))
            .chain(
                self.report_only
                    .iter()
                    .map(|r| (r.name.clone(), r.family.clone())),
            )
            .collect()
    }

    /// The catalog with `column` changed as `change` says.
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`] when `column` (or the new report column)
    /// is not in the catalog.
    pub fn with_override(mut self, column: &str, change: &TaskOverride) -> Result<Self> {
        let known = self.all_columns();
        let unknown = |name: &str| DataError::UnknownColumn {
            source_name: "task catalog".into(),
            column: name.to_string(),
            available: known.keys().cloned().collect::<Vec<_>>().join(", "),
        };
        let family = known.get(column).cloned().ok_or_else(|| unknown(column))?;
        if let Some(r) = &change.report_column
            && !known.contains_key(r)
        {
            return Err(unknown(r));
        }
        // Take the column out, change it, put it back on the right side.
        let existing = self.tasks.iter().position(|t| t.name == column);
        let mut task = match existing {
            Some(i) => self.tasks.remove(i),
            None => {
                self.report_only.retain(|r| r.name != column);
                let (objective, kind) = crate::task_direction::objective_by_name(column)
                    .unwrap_or((Objective::Maximize, MetricKind::Accuracy));
                TableTask {
                    name: column.to_string(),
                    report_column: column.to_string(),
                    family,
                    objective,
                    kind,
                }
            }
        };
        if let Some(f) = &change.family {
            task.family = f.clone();
        }
        if let Some(r) = &change.report_column {
            task.report_column = r.clone();
        }
        if let Some(o) = change.objective {
            task.objective = o;
        }
        if let Some(k) = change.kind {
            task.kind = k;
        }
        let report_only = change.report_only.unwrap_or(existing.is_none());
        if report_only {
            self.report_only.push(ReportColumn {
                name: task.name,
                family: task.family,
            });
        } else {
            self.tasks.push(task);
        }
        Ok(self)
    }

    /// The catalog with every report-only column turned into a task of its
    /// family, reported by itself, with the objective and kind of the task it
    /// reports (maximise accuracy when none does): for meta-training, where a
    /// source family's every measurement is a source. On NAS-Bench-201 this
    /// adds the other datasets' test and NATS re-run columns (`c10_test`,
    /// `c10_test_nats`, …), which rank a held-out dataset's cells better than
    /// their validation columns (`python benches/analysis/nb201_transfer_ceilings.py`).
    /// A held-out family still loses all of its columns
    /// ([`Self::leave_family_out`]); do not search the new tasks: a search
    /// reads validation values and reports the test column.
    pub fn with_report_columns_as_tasks(mut self) -> Self {
        for column in std::mem::take(&mut self.report_only) {
            let reported = self.tasks.iter().find(|t| t.report_column == column.name);
            let (objective, kind) = reported
                .map_or((Objective::Maximize, MetricKind::Accuracy), |t| {
                    (t.objective, t.kind)
                });
            self.tasks.push(TableTask {
                report_column: column.name.clone(),
                name: column.name,
                family: column.family,
                objective,
                kind,
            });
        }
        self
    }

    /// The catalog with the overrides of a JSON side-car file applied: an
    /// object from column name to [`TaskOverride`].
    ///
    /// # Errors
    /// [`DataError::Io`], [`DataError::Json`] (with serde's line and column),
    /// and the errors of [`TaskCatalog::with_override`].
    pub fn with_overrides_file(self, path: &Path) -> Result<Self> {
        read_overrides(path)?
            .iter()
            .try_fold(self, |catalog, (column, change)| {
                catalog.with_override(column, change)
            })
    }

    /// Every task, in column order (tasks added by [`Self::with_override`]
    /// or [`Self::with_report_columns_as_tasks`] last).
    pub fn tasks(&self) -> &[TableTask] {
        &self.tasks
    }

    /// The task named `name`.
    pub fn task(&self, name: &str) -> Option<&TableTask> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// The report-only columns.
    pub fn report_only(&self) -> &[ReportColumn] {
        &self.report_only
    }

    /// The family of `column` (task or report-only).
    pub fn family_of_column(&self, column: &str) -> Option<&str> {
        self.tasks
            .iter()
            .find(|t| t.name == column)
            .map(|t| t.family.as_str())
            .or_else(|| {
                self.report_only
                    .iter()
                    .find(|r| r.name == column)
                    .map(|r| r.family.as_str())
            })
    }

    /// The families, sorted.
    pub fn families(&self) -> Vec<String> {
        self.tasks
            .iter()
            .map(|t| t.family.clone())
            .chain(self.report_only.iter().map(|r| r.family.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The tasks of `family`.
    pub fn by_family(&self, family: &str) -> Vec<&TableTask> {
        self.tasks.iter().filter(|t| t.family == family).collect()
    }

    /// Holds out every task of `family`. The training side holds no task whose
    /// column or report column belongs to the held-out family (or is used by a
    /// held-out task), so meta-training cannot see the held-out target.
    ///
    /// # Errors
    /// [`DataError::UnknownFamily`] listing the families.
    pub fn leave_family_out(&self, family: &str) -> Result<FamilySplit> {
        let families = self.families();
        if !families.iter().any(|f| f == family) {
            return Err(DataError::UnknownFamily {
                family: family.to_string(),
                available: families.join(", "),
            });
        }
        let held_out: Vec<TableTask> = self.by_family(family).into_iter().cloned().collect();
        let held_out_columns: BTreeSet<String> = held_out
            .iter()
            .flat_map(|t| t.columns().map(str::to_string).collect::<Vec<_>>())
            .chain(
                self.report_only
                    .iter()
                    .filter(|r| r.family == family)
                    .map(|r| r.name.clone()),
            )
            .collect();
        let train = self
            .tasks
            .iter()
            .filter(|t| t.family != family)
            .filter(|t| {
                t.columns().all(|c| {
                    !held_out_columns.contains(c) && self.family_of_column(c) != Some(family)
                })
            })
            .cloned()
            .collect();
        Ok(FamilySplit {
            train,
            held_out,
            held_out_columns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets_dir::datasets_dir;
    use metanas_space::nb201::Nb201Space;

    fn nb201_catalog() -> TaskCatalog {
        let dir = datasets_dir().expect("datasets folder");
        let acc = BenchmarkTable::from_csv(Nb201Space, &dir.join("nb201.csv.gz")).expect("loads");
        let lat =
            BenchmarkTable::from_csv(Nb201Space, &dir.join("nb201_latency.csv.gz")).expect("loads");
        TaskCatalog::nb201(&acc, &lat).expect("disjoint columns")
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn report_columns_become_tasks_of_their_family_and_leave_with_it() {
        let catalog = nb201_catalog().with_report_columns_as_tasks();
        assert!(catalog.report_only().is_empty());
        let task = catalog.task("c10_test_nats").expect("a task now");
        assert_eq!(
            (task.family.as_str(), task.report_column.as_str()),
            ("c10", "c10_test_nats")
        );
        for (family, kept, held_out) in [
            (
                "c100",
                ["c10_test", "in16_test_nats"],
                ["c100_test", "c100_test_hp12"],
            ),
            (
                "c10",
                ["c100_test", "in16_test_hp12"],
                ["c10_test", "c10_test_nats"],
            ),
        ] {
            let split = catalog.leave_family_out(family).expect("a family");
            let train: Vec<&str> = split.train.iter().map(|t| t.name.as_str()).collect();
            assert!(
                kept.iter().all(|c| train.contains(c)),
                "{family}: {train:?}"
            );
            let held: Vec<&str> = split.held_out.iter().map(|t| t.name.as_str()).collect();
            assert!(
                held_out.iter().all(|c| held.contains(c)),
                "{family}: {held:?}"
            );
            assert!(
                train
                    .iter()
                    .all(|name| catalog.family_of_column(name) != Some(family)),
                "{train:?}"
            );
        }
        // A report column takes the objective and kind of the task it reports.
        let cols = strings(&["lat_valid", "lat_test"]);
        let minimised = TaskCatalog::generic(&cols)
            .with_override(
                "lat_valid",
                &TaskOverride {
                    objective: Some(Objective::Minimize),
                    kind: Some(MetricKind::Latency),
                    ..TaskOverride::default()
                },
            )
            .expect("known column")
            .with_report_columns_as_tasks();
        let test = minimised.task("lat_test").expect("a task now");
        assert_eq!(
            (test.objective, test.kind),
            (Objective::Minimize, MetricKind::Latency)
        );
    }

    #[test]
    fn nb201_validation_columns_pair_with_their_test_columns() {
        let catalog = nb201_catalog();
        for (task, report, family) in [
            ("c10v_valid", "c10_test", "c10"),
            ("c100_valid", "c100_test", "c100"),
            ("in16_valid", "in16_test", "in16"),
            ("c10v_valid_hp12", "c10_test_hp12", "c10"),
            ("c100_valid_hp12", "c100_test_hp12", "c100"),
            ("pixel3", "pixel3", "pixel3"),
            ("1080ti_32", "1080ti_32", "1080ti"),
            ("params_mb_c100", "params_mb_c100", "c100"),
        ] {
            let t = catalog.task(task).unwrap_or_else(|| panic!("task {task}"));
            assert_eq!(
                (t.report_column.as_str(), t.family.as_str()),
                (report, family)
            );
        }
        assert_eq!(
            catalog.task("pixel3").map(|t| t.objective),
            Some(Objective::Minimize)
        );
        assert_eq!(
            catalog.task("c100_valid").map(|t| t.kind),
            Some(MetricKind::Accuracy)
        );
        for report_only in ["c10_test", "c100_test_nats", "in16_test_hp12"] {
            assert!(
                catalog.task(report_only).is_none(),
                "{report_only} is not a target"
            );
            assert!(catalog.family_of_column(report_only).is_some());
        }
        // 6 accuracy + 6 cost tasks, 19 latency tasks.
        assert_eq!(catalog.tasks().len(), 31);
        let families = catalog.families();
        for f in [
            "c10", "c100", "in16", "1080ti", "2080ti", "titanx", "titanxp", "pixel3",
        ] {
            assert!(families.iter().any(|x| x == f), "{f} in {families:?}");
        }
        assert!(families.iter().any(|x| x == "essential_ph_1"));
        assert!(families.iter().any(|x| x == "gold_6240"));
        assert_eq!(catalog.by_family("1080ti").len(), 3);
    }

    #[test]
    fn leave_one_family_out_never_yields_a_held_out_column() {
        for catalog in [
            nb201_catalog(),
            nb201_catalog().with_report_columns_as_tasks(),
        ] {
            assert_never_yields_a_held_out_column(&catalog);
        }
        let catalog = nb201_catalog();
        let c100 = catalog.leave_family_out("c100").expect("known");
        assert!(c100.held_out_columns.contains("c100_test_nats"));
        assert!(matches!(
            catalog.leave_family_out("c1000"),
            Err(DataError::UnknownFamily { .. })
        ));
    }

    fn assert_never_yields_a_held_out_column(catalog: &TaskCatalog) {
        for family in catalog.families() {
            let split = catalog.leave_family_out(&family).expect("known family");
            assert!(!split.held_out.is_empty(), "{family}");
            assert!(split.held_out.iter().all(|t| t.family == family));
            // Independent check by name: no training column mentions the held-out
            // dataset (c10 also as c10v) or hardware.
            let tokens_of = |c: &str| -> Vec<String> {
                c.split('_').map(|t| nb201_dataset(t).to_string()).collect()
            };
            for task in &split.train {
                for column in task.columns() {
                    assert!(
                        !split.held_out_columns.contains(column),
                        "{family}: {column}"
                    );
                    assert_ne!(catalog.family_of_column(column), Some(family.as_str()));
                    if ["c10", "c100", "in16"].contains(&family.as_str()) {
                        assert!(!tokens_of(column).contains(&family), "{family}: {column}");
                    } else {
                        let hardware =
                            column == family || column.starts_with(&format!("{family}_"));
                        assert!(!hardware, "{family}: {column}");
                    }
                }
            }
            let total = split.train.len() + split.held_out.len();
            assert_eq!(total, catalog.tasks().len(), "{family}: nothing lost");
        }
    }

    #[test]
    fn generic_rule_pairs_valid_with_test() {
        let cols = strings(&["acc_valid", "acc_test", "loss_valid", "speed"]);
        let c = TaskCatalog::generic(&cols);
        assert_eq!(c.tasks().len(), 3);
        assert_eq!(
            c.task("acc_valid").map(|t| t.report_column.as_str()),
            Some("acc_test")
        );
        assert_eq!(
            c.task("loss_valid").map(|t| t.report_column.as_str()),
            Some("loss_valid")
        );
        assert_eq!(c.task("speed").map(|t| t.family.as_str()), Some("speed"));
        assert!(c.task("acc_test").is_none());
        let split = c.leave_family_out("acc").expect("known");
        assert!(split.train.iter().all(|t| !t.name.starts_with("acc")));
    }

    #[test]
    fn overrides_from_builder_and_json_side_car() {
        let cols = strings(&["acc_valid", "acc_test", "latency_ms"]);
        let c = TaskCatalog::generic(&cols)
            .with_override(
                "latency_ms",
                &TaskOverride {
                    objective: Some(Objective::Minimize),
                    kind: Some(MetricKind::Latency),
                    family: Some("phone".into()),
                    ..TaskOverride::default()
                },
            )
            .expect("known column");
        let t = c.task("latency_ms").expect("task");
        assert_eq!(
            (t.objective, t.kind, t.family.as_str()),
            (Objective::Minimize, MetricKind::Latency, "phone")
        );

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tasks.json");
        std::fs::write(
            &path,
            r#"{ "acc_test": { "report_only": false, "family": "x" } }"#,
        )
        .expect("write");
        let c2 = TaskCatalog::generic(&cols)
            .with_overrides_file(&path)
            .expect("valid");
        assert_eq!(c2.task("acc_test").map(|t| t.family.as_str()), Some("x"));
        std::fs::write(&path, r#"{ "nope": {} }"#).expect("write");
        assert!(matches!(
            TaskCatalog::generic(&cols).with_overrides_file(&path),
            Err(DataError::UnknownColumn { .. })
        ));
        std::fs::write(&path, r#"{ "acc_valid": { "familly": "x" } }"#).expect("write");
        assert!(matches!(
            TaskCatalog::generic(&cols).with_overrides_file(&path),
            Err(DataError::Json { .. })
        ));
    }
}
