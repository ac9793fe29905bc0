//! A user's own measurements of a few cells on a new device: the CSV file
//! that adapts a latency meta-model to that device.

use crate::benchmark_table::{ARCH_COLUMN, INDEX_COLUMN, headed_reader, parse_arch};
use crate::csv_images::csv_error;
use crate::error::{DataError, Result, clip};
use crate::file_bytes::read_file_bytes;
use metanas_space::{CanonicalHash, SearchSpace};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The fewest measured cells a file must hold: with fewer, neither the
/// scale of the new device nor which known device it resembles can be told.
pub const MIN_MEASURED_CELLS: usize = 3;

/// Latencies of a few cells measured on one device: a CSV file with an
/// `arch` column (the cells in the space's text form), one latency column
/// named for the device (e.g. `my_phone_ms`), and optionally an `index`
/// column, which is ignored.
///
/// Every row must be a cell of the space, no cell may appear twice (two
/// strings of one computation, the same canonical hash, count as one cell),
/// every latency must be a positive number, and there must be at least
/// [`MIN_MEASURED_CELLS`] rows; each breach is its own [`DataError`],
/// naming the file and the line.
#[derive(Debug, Clone)]
pub struct MeasuredLatencies<S: SearchSpace> {
    path: PathBuf,
    identity: String,
    device: String,
    cells: Vec<S::Arch>,
    latencies: Vec<f64>,
}

impl<S: SearchSpace> MeasuredLatencies<S> {
    /// Reads the file at `path` (CSV, plain or gzip).
    ///
    /// # Errors
    /// [`DataError::MeasuredLayout`] when the header is not `arch` and one
    /// latency column; [`DataError::ArchNotInSpace`] for a cell outside the
    /// space; [`DataError::SameCell`] for a cell measured twice;
    /// [`DataError::BadValue`] for a latency that is not a positive number;
    /// [`DataError::TooFewMeasurements`] for fewer than
    /// [`MIN_MEASURED_CELLS`] rows; [`DataError::CsvFormat`] and the errors
    /// of [`crate::read_file_bytes`].
    pub fn from_csv(space: &S, path: &Path) -> Result<Self> {
        let bytes = read_file_bytes(path)?;
        Self::from_csv_bytes(space, path, &bytes)
    }

    /// Reads CSV bytes; `path` only names the source in errors.
    ///
    /// # Errors
    /// As [`MeasuredLatencies::from_csv`].
    pub fn from_csv_bytes(space: &S, path: &Path, bytes: &[u8]) -> Result<Self> {
        let (mut reader, header) = headed_reader(path, bytes)?;
        let layout_error = || DataError::MeasuredLayout {
            path: path.to_path_buf(),
            found: header.join(", "),
        };
        let arch_at = header
            .iter()
            .position(|h| h == ARCH_COLUMN)
            .ok_or_else(layout_error)?;
        let latency_columns: Vec<usize> = (0..header.len())
            .filter(|&i| i != arch_at && header[i] != INDEX_COLUMN)
            .collect();
        let [latency_at] = latency_columns[..] else {
            return Err(layout_error());
        };
        let device = header[latency_at].clone();
        let mut cells = Vec::new();
        let mut latencies = Vec::new();
        let mut seen: HashMap<CanonicalHash, (u64, String)> = HashMap::new();
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|e| csv_error(path, &e))?
        {
            let line = record.position().map_or(0, csv::Position::line);
            let text = record.get(arch_at).unwrap_or_default();
            let cell = parse_arch(space, path, line, text)?;
            if let Some((first_line, first)) = seen.get(&space.canonical_hash(&cell)) {
                return Err(DataError::SameCell {
                    path: path.to_path_buf(),
                    first_line: *first_line,
                    second_line: line,
                    first: first.clone(),
                    second: clip(text, 200),
                });
            }
            seen.insert(space.canonical_hash(&cell), (line, clip(text, 200)));
            let value = record.get(latency_at).unwrap_or_default();
            let bad = |reason| DataError::BadValue {
                path: path.to_path_buf(),
                line,
                column: device.clone(),
                value: clip(value, 80),
                reason,
            };
            let latency: f64 = value.parse().map_err(|_| bad("is not a number"))?;
            if !(latency.is_finite() && latency > 0.0) {
                return Err(bad("is not a positive latency"));
            }
            cells.push(cell);
            latencies.push(latency);
        }
        if cells.len() < MIN_MEASURED_CELLS {
            return Err(DataError::TooFewMeasurements {
                path: path.to_path_buf(),
                found: cells.len(),
                needed: MIN_MEASURED_CELLS,
            });
        }
        let name = path
            .file_name()
            .map_or_else(|| "measurements".into(), |n| n.to_string_lossy());
        Ok(Self {
            path: path.to_path_buf(),
            identity: format!("{name} #{}", CanonicalHash::of_bytes(bytes)),
            device,
            cells,
            latencies,
        })
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What identifies the measurements wherever the file lies: its name and
    /// a hash of its text (as [`crate::BenchmarkTable::identity`]), e.g.
    /// `my_phone.csv #0123456789abcdef`.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The device: the latency column's name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The measured cells, in file order.
    pub fn cells(&self) -> &[S::Arch] {
        &self.cells
    }

    /// Their latencies, in file order.
    pub fn latencies(&self) -> &[f64] {
        &self.latencies
    }

    /// Number of measured cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether no cell is measured (never, for a file that was read).
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_space::nb201::Nb201Space;

    const CONV: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    const POOL: &str = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
    const SKIP: &str = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|";

    fn read(text: &str) -> Result<MeasuredLatencies<Nb201Space>> {
        MeasuredLatencies::from_csv_bytes(&Nb201Space, Path::new("my_device.csv"), text.as_bytes())
    }

    #[test]
    fn a_good_file_reads_with_its_device_name() {
        let m = read(&format!(
            "arch,my_phone_ms\n{CONV},12.5\n{POOL},7\n\"{SKIP}\",1.25\n"
        ))
        .expect("valid");
        assert_eq!(m.device(), "my_phone_ms");
        assert_eq!(m.latencies(), &[12.5, 7.0, 1.25]);
        assert!(
            m.identity().starts_with("my_device.csv #"),
            "{}",
            m.identity()
        );
        assert_eq!(m.len(), 3);
        let with_index = read(&format!(
            "index,arch,my_phone_ms\n0,{CONV},12.5\n1,{POOL},7\n2,{SKIP},1.25\n"
        ))
        .expect("an index column is ignored");
        assert_eq!(with_index.device(), "my_phone_ms");
    }

    #[test]
    fn each_bad_input_gets_its_own_error() {
        // A cell outside the space, on line 3.
        let err = read(&format!(
            "arch,ms\n{CONV},1\n|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|,2\n{SKIP},3\n"
        ))
        .expect_err("not a NB201 cell");
        assert!(
            matches!(err, DataError::ArchNotInSpace { line: 3, .. }),
            "{err}"
        );
        // The same computation twice: a dead edge differs, the canonical hash does not.
        let dead_a = "|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|";
        let dead_b = "|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|";
        assert_eq!(
            Nb201Space.canonical_hash(&Nb201Space.parse(dead_a).expect("cell")),
            Nb201Space.canonical_hash(&Nb201Space.parse(dead_b).expect("cell")),
            "the fixture's two cells must compute the same graph"
        );
        let err = read(&format!("arch,ms\n{dead_a},1\n{CONV},2\n{dead_b},3\n"))
            .expect_err("the same cell twice");
        assert!(
            matches!(
                err,
                DataError::SameCell {
                    first_line: 2,
                    second_line: 4,
                    ..
                }
            ),
            "{err}"
        );
        for (value, reason) in [
            ("0", "is not a positive latency"),
            ("-3", "is not a positive latency"),
            ("fast", "is not a number"),
            ("", "is not a number"),
            ("NaN", "is not a positive latency"),
        ] {
            let err = read(&format!("arch,ms\n{CONV},1\n{POOL},{value}\n{SKIP},3\n"))
                .expect_err("a bad latency");
            assert!(
                matches!(&err, DataError::BadValue { line: 3, reason: r, .. } if *r == reason),
                "{value}: {err}"
            );
        }
        let err = read(&format!("arch,ms\n{CONV},1\n{POOL},2\n")).expect_err("two rows");
        assert!(
            matches!(
                err,
                DataError::TooFewMeasurements {
                    found: 2,
                    needed: 3,
                    ..
                }
            ),
            "{err}"
        );
        for header in ["arch", "arch,a_ms,b_ms", "cell,ms"] {
            let err = read(&format!("{header}\n")).expect_err("not one latency column");
            assert!(matches!(err, DataError::MeasuredLayout { .. }), "{err}");
            assert!(err.to_string().contains("one latency column"), "{err}");
        }
    }
}
