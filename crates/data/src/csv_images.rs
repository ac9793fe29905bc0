//! Images stored as CSV rows: `label, p0, p1, …` (the Kaggle MNIST layout).

use crate::error::{DataError, Result, clip};
use crate::file_bytes::read_file_bytes;
use crate::image_dataset::ImageDataset;
use std::path::Path;

impl ImageDataset {
    /// Loads images from a CSV file (plain or gzip): each row is an integer
    /// label followed by `C·H·W` pixel values in `0..=255`, channel-major.
    /// A first row whose first field is not an integer is taken as a header.
    /// Pixels become `value / 255`; `num_classes` is the largest label plus one.
    ///
    /// # Errors
    /// [`DataError::CsvFormat`] for a row with the wrong number of fields,
    /// [`DataError::BadValue`] (with the line and column) for a label or pixel
    /// that is not a number in range, [`DataError::Empty`] for a file without
    /// rows, and the errors of [`crate::read_file_bytes`].
    pub fn from_csv(path: &Path, shape: [usize; 3]) -> Result<Self> {
        let size = shape.iter().product::<usize>();
        if size == 0 {
            return Err(DataError::InvalidConfig(format!(
                "image shape {shape:?} has a zero dimension"
            )));
        }
        let bytes = read_file_bytes(path)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        let mut header: Option<Vec<String>> = None;
        let mut labels = Vec::new();
        let mut pixels = Vec::new();
        let mut record = csv::StringRecord::new();
        let mut first = true;
        loop {
            let more = reader
                .read_record(&mut record)
                .map_err(|e| csv_error(path, &e))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, csv::Position::line);
            if first {
                first = false;
                if record.get(0).is_some_and(|f| f.parse::<i64>().is_err()) {
                    header = Some(record.iter().map(str::to_string).collect());
                    continue;
                }
            }
            if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
                continue; // blank line
            }
            if record.len() != size + 1 {
                return Err(DataError::CsvFormat {
                    path: path.to_path_buf(),
                    line,
                    reason: format!(
                        "{} fields, expected 1 label + {size} pixels for images of shape {shape:?}",
                        record.len()
                    ),
                });
            }
            let column = |i: usize| -> String {
                header
                    .as_ref()
                    .and_then(|h| h.get(i).cloned())
                    .unwrap_or_else(|| format!("#{}", i + 1))
            };
            let bad = |i: usize, value: &str, reason: &'static str| DataError::BadValue {
                path: path.to_path_buf(),
                line,
                column: column(i),
                value: clip(value, 80),
                reason,
            };
            let label_text = record.get(0).unwrap_or_default();
            let label = label_text
                .parse::<usize>()
                .map_err(|_| bad(0, label_text, "is not a non-negative integer label"))?;
            labels.push(label);
            for (i, text) in record.iter().enumerate().skip(1) {
                let v: f32 = text.parse().map_err(|_| bad(i, text, "is not a number"))?;
                if !(0.0..=255.0).contains(&v) {
                    return Err(bad(i, text, "is not a pixel value in 0..=255"));
                }
                pixels.push(v / 255.0);
            }
        }
        if labels.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        let num_classes = labels.iter().max().map_or(0, |m| m + 1);
        Ok(Self::from_parts(pixels, labels, shape, num_classes, None))
    }
}

/// A csv crate error as a [`DataError::CsvFormat`] with its line.
pub(crate) fn csv_error(path: &Path, e: &csv::Error) -> DataError {
    DataError::CsvFormat {
        path: path.to_path_buf(),
        line: e.position().map_or(0, csv::Position::line),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_and_without_header_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let with = dir.path().join("with.csv");
        let without = dir.path().join("without.csv");
        std::fs::write(&with, "label,p0,p1,p2,p3\n1,0,255,51,0\n0,102,0,0,255\n").expect("write");
        std::fs::write(&without, "1,0,255,51,0\n0,102,0,0,255\n").expect("write");
        for path in [&with, &without] {
            let d = ImageDataset::from_csv(path, [1, 2, 2]).expect("loads");
            assert_eq!(d.len(), 2);
            assert_eq!(d.labels(), &[1, 0]);
            assert_eq!(d.num_classes(), 2);
            assert_eq!(d.image(0), Some(&[0.0, 1.0, 0.2, 0.0][..]));
        }
    }

    #[test]
    fn bad_pixel_names_line_and_column() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, "label,a,b\n0,1,2\n1,3,nan\n").expect("write");
        match ImageDataset::from_csv(&path, [1, 1, 2]) {
            Err(DataError::BadValue { line, column, .. }) => {
                assert_eq!((line, column.as_str()), (3, "b"));
            }
            other => panic!("expected BadValue, got {other:?}"),
        }
        std::fs::write(&path, "0,1,2\n1,3,300\n").expect("write");
        assert!(matches!(
            ImageDataset::from_csv(&path, [1, 1, 2]),
            Err(DataError::BadValue { line: 2, .. })
        ));
    }

    #[test]
    fn wrong_row_length_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("short.csv");
        std::fs::write(&path, "0,1,2\n1,3\n").expect("write");
        assert!(matches!(
            ImageDataset::from_csv(&path, [1, 1, 2]),
            Err(DataError::CsvFormat { line: 2, .. })
        ));
    }
}
