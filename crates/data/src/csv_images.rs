//! Images stored as CSV rows: `label, p0, p1, …` (the Kaggle MNIST layout).

use crate::error::{DataError, Result, clip};
use crate::file_bytes::read_file_bytes;
use crate::image_dataset::ImageDataset;
use std::path::Path;

impl ImageDataset {
    /// Loads images from a CSV file (plain or gzip, e.g. `.csv.gz`): each row
    /// is an integer label followed by `C·H·W` values, channel-major. A first
    /// row whose first field is not an integer is taken as a header;
    /// `num_classes` is the largest label plus one.
    ///
    /// The values are read by one rule for the whole file:
    /// - **pixels**: when every value is an integer in `0..=255` (the Kaggle
    ///   MNIST layout), each becomes `value / 255`;
    /// - **features**: otherwise (any fraction, negative value or value above
    ///   255, e.g. already normalised signals), every value is kept as it is.
    ///
    /// Either way a search normalises the inputs with its training set's
    /// per-channel mean and deviation, so the scale of features does not matter.
    ///
    /// # Errors
    /// [`DataError::CsvFormat`] for a row with the wrong number of fields,
    /// [`DataError::BadValue`] (with the line and column) for a label that is
    /// not a non-negative integer or a value that is not a finite number,
    /// [`DataError::Empty`] for a file without rows, and the errors of
    /// [`crate::read_file_bytes`].
    pub fn from_csv(path: &Path, shape: [usize; 3]) -> Result<Self> {
        let rows = read_csv_images(path, shape, LabelColumn::Required)?;
        let labels = rows.labels.unwrap_or_default();
        let num_classes = labels.iter().max().map_or(0, |m| m + 1);
        Ok(Self::from_parts(
            rows.pixels,
            labels,
            shape,
            num_classes,
            None,
        ))
    }
}

/// Whether the rows of a CSV file of images start with a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LabelColumn {
    /// Every row is `label, values…`.
    Required,
    /// Every row is `label, values…` or every row is `values…`: the first
    /// row's length decides (images to classify may come without labels).
    Optional,
}

/// The values (and labels) of a CSV file of images, read by [`ImageDataset::from_csv`]'s rules.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CsvImages {
    /// `C·H·W` values per row, scaled to `[0, 1]` when every one is a pixel.
    pub pixels: Vec<f32>,
    /// One label per row, when the rows have them.
    pub labels: Option<Vec<usize>>,
    /// The file line of each row.
    pub lines: Vec<u64>,
}

/// Reads the rows of a CSV file of images of `shape` ([`ImageDataset::from_csv`]'s
/// format; with [`LabelColumn::Optional`], rows may also be values alone).
///
/// # Errors
/// As [`ImageDataset::from_csv`].
pub(crate) fn read_csv_images(
    path: &Path,
    shape: [usize; 3],
    label_column: LabelColumn,
) -> Result<CsvImages> {
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
    let mut lines = Vec::new();
    // Whether rows start with a label: known up front, or from the first row.
    let mut labelled = match label_column {
        LabelColumn::Required => Some(true),
        LabelColumn::Optional => None,
    };
    let mut record = csv::StringRecord::new();
    let mut first = true;
    // Whether every value so far is an integer pixel in 0..=255.
    let mut all_pixels = true;
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
            // A label is an integer; a row without labels starts with a number.
            let not_data = |f: &str| match label_column {
                LabelColumn::Required => f.parse::<i64>().is_err(),
                LabelColumn::Optional => f.parse::<f32>().is_err(),
            };
            if record.get(0).is_some_and(not_data) {
                header = Some(record.iter().map(str::to_string).collect());
                continue;
            }
        }
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            continue; // blank line
        }
        let with_label = *labelled.get_or_insert(record.len() == size + 1);
        if record.len() != size + usize::from(with_label) {
            let expected = match label_column {
                LabelColumn::Required => format!("1 label + {size} pixels"),
                LabelColumn::Optional if lines.is_empty() => {
                    format!("{size} pixels, or 1 label + {size} pixels")
                }
                LabelColumn::Optional if with_label => {
                    format!("1 label + {size} pixels, as the first row")
                }
                LabelColumn::Optional => format!("{size} pixels, as the first row"),
            };
            return Err(DataError::CsvFormat {
                path: path.to_path_buf(),
                line,
                reason: format!(
                    "{} fields, expected {expected} for images of shape {shape:?}",
                    record.len()
                ),
            });
        }
        lines.push(line);
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
        if with_label {
            let label_text = record.get(0).unwrap_or_default();
            let label = label_text
                .parse::<usize>()
                .map_err(|_| bad(0, label_text, "is not a non-negative integer label"))?;
            labels.push(label);
        }
        for (i, text) in record.iter().enumerate().skip(usize::from(with_label)) {
            let v: f32 = text.parse().map_err(|_| bad(i, text, "is not a number"))?;
            if !v.is_finite() {
                return Err(bad(i, text, "is not a finite number"));
            }
            all_pixels &= (0.0..=255.0).contains(&v) && v.fract() == 0.0;
            pixels.push(v);
        }
    }
    if lines.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if all_pixels {
        for v in &mut pixels {
            *v /= 255.0;
        }
    }
    Ok(CsvImages {
        pixels,
        labels: labelled.unwrap_or(false).then_some(labels),
        lines,
    })
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
        std::fs::write(&path, "0,1,2\n1,3,inf\n").expect("write");
        assert!(matches!(
            ImageDataset::from_csv(&path, [1, 1, 2]),
            Err(DataError::BadValue { line: 2, .. })
        ));
    }

    #[test]
    fn integer_pixels_are_scaled_and_any_other_values_are_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("values.csv");
        // Pixels: every value an integer in 0..=255, also when written `51.0`.
        std::fs::write(&path, "1,0,255\n0,51.0,102\n").expect("write");
        let d = ImageDataset::from_csv(&path, [1, 1, 2]).expect("pixels");
        assert_eq!(d.pixels(), &[0.0, 1.0, 0.2, 0.4]);
        // Features: one fraction, negative or large value makes the file features.
        for (text, expected) in [
            ("1,0.25,-1.5\n0,2,3\n", [0.25, -1.5, 2.0, 3.0]),
            ("1,0,255\n0,-3,4\n", [0.0, 255.0, -3.0, 4.0]),
            ("1,0,255\n0,300,4\n", [0.0, 255.0, 300.0, 4.0]),
            ("1,1e-3,0.5\n0,0.999,0\n", [1e-3, 0.5, 0.999, 0.0]),
        ] {
            std::fs::write(&path, text).expect("write");
            let d = ImageDataset::from_csv(&path, [1, 1, 2]).expect("features");
            assert_eq!(d.pixels(), &expected, "{text:?}");
            assert_eq!(d.labels(), &[1, 0]);
        }
    }

    #[test]
    fn a_gzipped_csv_of_float_signals_loads() {
        use flate2::Compression;
        use flate2::write::GzEncoder;
        use std::io::Write;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("signals.csv.gz");
        let mut text = String::from("label");
        for i in 0..40 {
            text.push_str(&format!(",t{i}"));
        }
        text.push('\n');
        for row in 0..6 {
            text.push_str(&(row % 2).to_string());
            for i in 0..40 {
                text.push_str(&format!(",{:.4}", ((row * 40 + i) as f32 * 0.1).sin()));
            }
            text.push('\n');
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text.as_bytes()).expect("in memory");
        std::fs::write(&path, encoder.finish().expect("in memory")).expect("write");
        let d = ImageDataset::from_csv(&path, [1, 1, 40]).expect("loads");
        assert_eq!((d.len(), d.shape(), d.num_classes()), (6, [1, 1, 40], 2));
        assert!((d.pixels()[1] - 0.0998).abs() < 1e-6, "kept as written");
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
