//! Tabular benchmarks: one row per architecture, one column per metric.

use crate::csv_images::csv_error;
use crate::error::{DataError, Result, clip};
use crate::file_bytes::read_file_bytes;
use metanas_space::{CanonicalHash, SearchSpace};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The column that holds the architecture's text form.
pub const ARCH_COLUMN: &str = "arch";
/// An optional column of row identifiers, kept as text and not a metric.
pub const INDEX_COLUMN: &str = "index";

/// Measured metrics of architectures of a space, e.g. NAS-Bench-201's
/// accuracies (`nb201.csv.gz`) or latencies (`nb201_latency.csv.gz`).
///
/// Loaded from any CSV file (plain or gzip, detected by its magic bytes) with
/// an `arch` column in the space's text form, an optional `index` column, and
/// numeric metric columns. Lookups of an architecture are O(1) (a hash map).
#[derive(Debug, Clone)]
pub struct BenchmarkTable<S: SearchSpace> {
    space: S,
    path: PathBuf,
    identity: String,
    archs: Vec<S::Arch>,
    row_ids: Option<Vec<String>>,
    columns: Vec<String>,
    /// Column-major values: `values[column][row]`.
    values: Vec<Vec<f64>>,
    rows_by_arch: HashMap<S::Arch, usize>,
}

impl<S: SearchSpace> BenchmarkTable<S> {
    /// Reads a table from `path` (CSV, plain or gzip).
    ///
    /// # Errors
    /// [`DataError::MissingColumn`] without an `arch` column,
    /// [`DataError::DuplicateColumn`] for a repeated header name,
    /// [`DataError::ArchNotInSpace`] for an architecture string the space
    /// rejects, [`DataError::DuplicateArch`] for an architecture on two rows,
    /// [`DataError::BadValue`] for a metric that is not a finite number
    /// (NaN, infinite, empty or text), [`DataError::CsvFormat`] for a row
    /// with the wrong number of fields, [`DataError::Empty`] for no rows, and
    /// the errors of [`crate::read_file_bytes`]. Each names the file, the
    /// 1-based line and, for values, the column.
    pub fn from_csv(space: S, path: &Path) -> Result<Self> {
        let bytes = read_file_bytes(path)?;
        Self::from_csv_bytes(space, path, &bytes)
    }

    /// Reads a table from CSV bytes; `path` only names the source in errors.
    ///
    /// # Errors
    /// As [`BenchmarkTable::from_csv`].
    pub fn from_csv_bytes(space: S, path: &Path, bytes: &[u8]) -> Result<Self> {
        let (mut reader, header) = headed_reader(path, bytes)?;
        for (i, name) in header.iter().enumerate() {
            if header[..i].contains(name) {
                return Err(DataError::DuplicateColumn {
                    path: path.to_path_buf(),
                    column: name.clone(),
                });
            }
        }
        let arch_at = header
            .iter()
            .position(|h| h == ARCH_COLUMN)
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: ARCH_COLUMN.into(),
                available: header.join(", "),
            })?;
        let index_at = header.iter().position(|h| h == INDEX_COLUMN);
        let metric_at: Vec<usize> = (0..header.len())
            .filter(|&i| i != arch_at && Some(i) != index_at)
            .collect();
        let columns: Vec<String> = metric_at.iter().map(|&i| header[i].clone()).collect();

        let mut archs = Vec::new();
        let mut lines = Vec::new();
        let mut row_ids = index_at.map(|_| Vec::new());
        let mut values = vec![Vec::new(); columns.len()];
        let mut rows_by_arch = HashMap::new();
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|e| csv_error(path, &e))?
        {
            let line = record.position().map_or(0, csv::Position::line);
            let text = record.get(arch_at).unwrap_or_default();
            let arch = parse_arch(&space, path, line, text)?;
            if let Some(&first) = rows_by_arch.get(&arch) {
                let first_line: u64 = lines.get(first).copied().unwrap_or_default();
                return Err(DataError::DuplicateArch {
                    path: path.to_path_buf(),
                    arch: clip(text, 200),
                    first_line,
                    second_line: line,
                });
            }
            for ((col, &at), name) in values.iter_mut().zip(&metric_at).zip(&columns) {
                let cell = record.get(at).unwrap_or_default();
                let bad = |reason| DataError::BadValue {
                    path: path.to_path_buf(),
                    line,
                    column: name.clone(),
                    value: clip(cell, 80),
                    reason,
                };
                let v: f64 = cell.parse().map_err(|_| bad("is not a number"))?;
                if !v.is_finite() {
                    return Err(bad("is not a finite number"));
                }
                col.push(v);
            }
            if let (Some(ids), Some(at)) = (row_ids.as_mut(), index_at) {
                ids.push(record.get(at).unwrap_or_default().to_string());
            }
            rows_by_arch.insert(arch.clone(), archs.len());
            archs.push(arch);
            lines.push(line);
        }
        if archs.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        let name = path
            .file_name()
            .map_or_else(|| "table".into(), |n| n.to_string_lossy());
        Ok(Self {
            space,
            path: path.to_path_buf(),
            identity: format!("{name} #{}", CanonicalHash::of_bytes(bytes)),
            archs,
            row_ids,
            columns,
            values,
            rows_by_arch,
        })
    }

    /// The search space of the architectures.
    pub fn space(&self) -> &S {
        &self.space
    }

    /// What identifies the table's data wherever it lies: the file's name and
    /// an FNV-1a hash of its CSV text (after gunzipping), e.g.
    /// `nb201.csv.gz #0123456789abcdef`. A search keys its trial store by it, so
    /// moving the project folder keeps `--resume` working, while editing the
    /// table's content does not silently continue an old search.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The file the table was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows (architectures).
    pub fn rows(&self) -> usize {
        self.archs.len()
    }

    /// The architecture of `row`.
    pub fn arch(&self, row: usize) -> Option<&S::Arch> {
        self.archs.get(row)
    }

    /// Every architecture, in row order.
    pub fn archs(&self) -> &[S::Arch] {
        &self.archs
    }

    /// The row of `arch`, in O(1).
    pub fn row_of(&self, arch: &S::Arch) -> Option<usize> {
        self.rows_by_arch.get(arch).copied()
    }

    /// The `index` column's text for `row`, when the file had that column.
    pub fn row_id(&self, row: usize) -> Option<&str> {
        self.row_ids.as_ref()?.get(row).map(String::as_str)
    }

    /// The metric columns' names, in file order.
    pub fn column_names(&self) -> &[String] {
        &self.columns
    }

    /// Whether the table has a metric column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// The position of column `name` among [`BenchmarkTable::column_names`].
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`] listing the available columns.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| DataError::UnknownColumn {
                source_name: self.path.display().to_string(),
                column: name.to_string(),
                available: self.columns.join(", "),
            })
    }

    /// Every value of column `name`, in row order.
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`] listing the available columns.
    pub fn column(&self, name: &str) -> Result<&[f64]> {
        let i = self.column_index(name)?;
        Ok(&self.values[i])
    }

    /// The value of column `name` for `arch`, in O(1).
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`], or [`DataError::ArchNotInTable`] when the
    /// table has no row for `arch`.
    pub fn value(&self, arch: &S::Arch, name: &str) -> Result<f64> {
        let column = self.column(name)?;
        let row = self.row_of(arch).ok_or_else(|| DataError::ArchNotInTable {
            source_name: self.path.display().to_string(),
            arch: self.space.format(arch),
        })?;
        Ok(column[row])
    }

    /// The largest value of column `name` and its row (the first on ties).
    ///
    /// # Errors
    /// [`DataError::UnknownColumn`].
    pub fn max(&self, name: &str) -> Result<(usize, f64)> {
        let column = self.column(name)?;
        Ok(column
            .iter()
            .copied()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (i, v)| {
                if v > best.1 { (i, v) } else { best }
            }))
    }
}

/// A reader of the CSV `bytes` (fields trimmed) and its header's names;
/// `path` only names the source in errors.
///
/// # Errors
/// [`DataError::CsvFormat`] for an unreadable header.
pub(crate) fn headed_reader<'a>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<(csv::Reader<&'a [u8]>, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(str::to_string)
        .collect();
    Ok((reader, header))
}

/// The architecture written as `text` on `line` of the CSV file `path`.
///
/// # Errors
/// [`DataError::ArchNotInSpace`] naming the file, the line and the text.
pub(crate) fn parse_arch<S: SearchSpace>(
    space: &S,
    path: &Path,
    line: u64,
    text: &str,
) -> Result<S::Arch> {
    space
        .parse(text)
        .map_err(|source| DataError::ArchNotInSpace {
            path: path.to_path_buf(),
            line,
            text: clip(text, 200),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets_dir::datasets_dir;
    use metanas_space::nb201::{Nb201Cell, Nb201Space};
    use rand::SeedableRng;

    const GOOD: &str = "index,arch,acc_valid,acc_test\n\
        0,|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|,90.5,91\n\
        1,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10,10.0\n";

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("table.csv");
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn identity_follows_the_content_not_the_folder() {
        let here = tempfile::tempdir().expect("temp dir");
        let there = tempfile::tempdir().expect("temp dir");
        let a = BenchmarkTable::from_csv(Nb201Space, &write(&here, GOOD)).expect("loads");
        let b = BenchmarkTable::from_csv(Nb201Space, &write(&there, GOOD)).expect("loads");
        assert_ne!(a.path(), b.path());
        assert_eq!(a.identity(), b.identity());
        assert!(a.identity().starts_with("table.csv #"), "{}", a.identity());
        assert!(!a.identity().contains(&*here.path().to_string_lossy()));
        let edited = GOOD.replace("90.5", "90.6");
        let c = BenchmarkTable::from_csv(Nb201Space, &write(&there, &edited)).expect("loads");
        assert_ne!(
            a.identity(),
            c.identity(),
            "another content, another identity"
        );
    }

    #[test]
    fn nb201_table_has_every_cell_and_the_known_maxima() {
        let path = datasets_dir()
            .expect("datasets folder")
            .join("nb201.csv.gz");
        let table = BenchmarkTable::from_csv(Nb201Space, &path).expect("NB201 loads");
        assert_eq!(table.rows(), 15_625);
        for (column, best) in [
            ("c10_test", 94.3733),
            ("c100_test", 73.5133),
            ("in16_test", 47.3111),
            ("c10v_valid", 91.6067),
            ("c100_valid", 73.4933),
            ("in16_valid", 46.7333),
        ] {
            let (_, max) = table.max(column).expect("column exists");
            assert!((max - best).abs() < 1e-4, "{column}: {max} vs {best}");
        }
        // Every cell of the space has exactly one row, found in O(1).
        for index in 0..15_625 {
            let cell = Nb201Cell::from_index(index).expect("dense index");
            let row = table.row_of(&cell).expect("every cell is in the table");
            assert_eq!(table.arch(row), Some(&cell));
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let cell = table.space().sample(&mut rng);
        let row = table.row_of(&cell).expect("in table");
        let c10 = table.column("c10_test").expect("column")[row];
        assert_eq!(table.value(&cell, "c10_test").expect("value"), c10);
        assert_eq!(table.row_id(1), Some("1"));
    }

    #[test]
    fn latency_table_has_every_cell() {
        let path = datasets_dir()
            .expect("datasets folder")
            .join("nb201_latency.csv.gz");
        let table = BenchmarkTable::from_csv(Nb201Space, &path).expect("latency loads");
        assert_eq!(table.rows(), 15_625);
        assert!(table.has_column("pixel3") && table.has_column("1080ti_32"));
        // 19 columns: four GPUs at three batch sizes, three server CPUs, four phones.
        assert_eq!(table.column_names().len(), 19);
        assert!(
            table
                .column("pixel3")
                .expect("column")
                .iter()
                .all(|v| *v > 0.0)
        );
    }

    #[test]
    fn user_table_loads_the_same_way() {
        let dir = tempfile::tempdir().expect("temp dir");
        let table = BenchmarkTable::from_csv(Nb201Space, &write(&dir, GOOD)).expect("loads");
        assert_eq!(table.rows(), 2);
        assert_eq!(table.column_names(), &["acc_valid", "acc_test"]);
        let none = Nb201Space
            .parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
            .expect("valid");
        assert_eq!(table.value(&none, "acc_valid").expect("value"), 10.0);
        let other = Nb201Cell::from_index(5).expect("valid");
        assert!(matches!(
            table.value(&other, "acc_valid"),
            Err(DataError::ArchNotInTable { .. })
        ));
    }

    #[test]
    fn unknown_column_lists_the_available_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let table = BenchmarkTable::from_csv(Nb201Space, &write(&dir, GOOD)).expect("loads");
        match table.column("acc_tset") {
            Err(DataError::UnknownColumn {
                column, available, ..
            }) => {
                assert_eq!(column, "acc_tset");
                assert_eq!(available, "acc_valid, acc_test");
            }
            other => panic!("expected UnknownColumn, got {other:?}"),
        }
    }

    #[test]
    fn arch_not_in_space_names_file_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bad = GOOD.replace("|none~0|+|none~0|none~1|", "|none~0|+|conv_7x7~0|none~1|");
        let path = write(&dir, &bad);
        match BenchmarkTable::from_csv(Nb201Space, &path) {
            Err(DataError::ArchNotInSpace { path: p, line, .. }) => {
                assert_eq!((p, line), (path, 3));
            }
            other => panic!("expected ArchNotInSpace, got {other:?}"),
        }
    }

    #[test]
    fn nan_in_table_names_file_line_and_column() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, &GOOD.replace(",10,10.0", ",10,NaN"));
        match BenchmarkTable::from_csv(Nb201Space, &path) {
            Err(DataError::BadValue {
                path: p,
                line,
                column,
                value,
                ..
            }) => {
                assert_eq!(
                    (p, line, column.as_str(), value.as_str()),
                    (path, 3, "acc_test", "NaN")
                );
            }
            other => panic!("expected BadValue, got {other:?}"),
        }
        let path = write(&dir, &GOOD.replace(",90.5,", ",inf,"));
        assert!(matches!(
            BenchmarkTable::from_csv(Nb201Space, &path),
            Err(DataError::BadValue { line: 2, .. })
        ));
        let path = write(&dir, &GOOD.replace(",90.5,", ",,"));
        assert!(matches!(
            BenchmarkTable::from_csv(Nb201Space, &path),
            Err(DataError::BadValue { line: 2, .. })
        ));
    }

    #[test]
    fn duplicate_arch_names_both_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dup = format!("{GOOD}2,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,11,12\n");
        match BenchmarkTable::from_csv(Nb201Space, &write(&dir, &dup)) {
            Err(DataError::DuplicateArch {
                first_line,
                second_line,
                ..
            }) => assert_eq!((first_line, second_line), (3, 4)),
            other => panic!("expected DuplicateArch, got {other:?}"),
        }
    }

    #[test]
    fn missing_arch_column_and_ragged_rows_are_typed_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, "index,acc\n0,1\n");
        assert!(matches!(
            BenchmarkTable::from_csv(Nb201Space, &path),
            Err(DataError::MissingColumn { .. })
        ));
        let path = write(&dir, &format!("{GOOD}3,x\n"));
        assert!(matches!(
            BenchmarkTable::from_csv(Nb201Space, &path),
            Err(DataError::CsvFormat { line: 4, .. })
        ));
    }
}
