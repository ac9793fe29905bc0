//! Finding the repository's `datasets/` folder.

use crate::error::{DataError, Result};
use std::path::{Path, PathBuf};

/// Environment variable naming the datasets folder explicitly.
pub const DATASETS_ENV: &str = "METANAS_DATASETS";

/// The folder with the shipped data files.
///
/// Looked for, in order: the folder named by `METANAS_DATASETS`; a
/// `datasets/` folder holding `nb201.csv.gz` in `CARGO_MANIFEST_DIR` (as
/// cargo sets it when running tests and benchmarks) or one of its parents;
/// the same from the current directory; the same from this crate's source
/// folder at build time.
///
/// # Errors
/// [`DataError::DatasetsDirNotFound`] listing where it looked; when
/// `METANAS_DATASETS` is set it must be a folder.
pub fn datasets_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(DATASETS_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(DataError::DatasetsDirNotFound {
                searched: format!("{DATASETS_ENV}={}", dir.display()),
            })
        };
    }
    let starts: Vec<PathBuf> = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ]
    .into_iter()
    .flatten()
    .collect();
    for start in &starts {
        if let Some(found) = start
            .ancestors()
            .map(|a| a.join("datasets"))
            .find(|d| is_datasets(d))
        {
            return Ok(found);
        }
    }
    Err(DataError::DatasetsDirNotFound {
        searched: starts
            .iter()
            .map(|s| format!("{}/../datasets", s.display()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn is_datasets(dir: &Path) -> bool {
    dir.join("nb201.csv.gz").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_datasets() {
        let dir = datasets_dir().expect("run inside the repository");
        assert!(dir.join("fashion-mnist").is_dir());
    }
}
