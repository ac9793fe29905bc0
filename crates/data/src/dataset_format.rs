//! Which loader a dataset path needs: a folder, a CSV file or IDX files.

use std::path::Path;

/// The format of a dataset given by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetFormat {
    /// A folder with one sub-folder of images per class ([`crate::ImageDataset::from_folder`]).
    Folder,
    /// A CSV file, plain or gzip: `.csv` or `.csv.gz` ([`crate::ImageDataset::from_csv`]).
    Csv,
    /// An IDX image file, plain or gzip, with a separate label file
    /// ([`crate::ImageDataset::from_idx`]): any other file.
    Idx,
}

impl DatasetFormat {
    /// The format of `path`: a folder, a CSV file when its name ends in `.csv`
    /// or `.csv.gz` (any letter case), otherwise IDX.
    pub fn of_path(path: &Path) -> Self {
        if path.is_dir() {
            return Self::Folder;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            Self::Csv
        } else {
            Self::Idx
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_recognised_plain_and_gzipped() {
        for name in ["a.csv", "a.csv.gz", "A.CSV.GZ", "dir.v2/signals.Csv"] {
            assert_eq!(
                DatasetFormat::of_path(Path::new(name)),
                DatasetFormat::Csv,
                "{name}"
            );
        }
        for name in [
            "train-images-idx3-ubyte.gz",
            "images",
            "a.csv.bak",
            "csv.gz",
        ] {
            assert_eq!(
                DatasetFormat::of_path(Path::new(name)),
                DatasetFormat::Idx,
                "{name}"
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(DatasetFormat::of_path(dir.path()), DatasetFormat::Folder);
    }
}
