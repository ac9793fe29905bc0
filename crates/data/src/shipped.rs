//! Loaders of the data files shipped in the repository's `datasets/` folder.
//!
//! The folder is found by [`crate::datasets_dir`]: the one named by the
//! `METANAS_DATASETS` environment variable if it is set; otherwise a
//! `datasets/` folder holding `nb201.csv.gz` in, or above, the running
//! package's `CARGO_MANIFEST_DIR`, the current directory, or this crate's
//! source folder at build time. A project that imports the crates from a
//! clone of metanas (a path or git dependency) finds the clone's folder
//! through the last; one that uses them from elsewhere (a copied binary, a
//! registry version) sets `METANAS_DATASETS=/path/to/metanas/datasets`, or
//! runs from a directory below it. Every loader fails with
//! [`crate::DataError::DatasetsDirNotFound`], listing where it looked, when
//! no folder is found.

use crate::benchmark_table::BenchmarkTable;
use crate::datasets_dir::datasets_dir;
use crate::error::Result;
use crate::image_dataset::ImageDataset;
use metanas_space::nb201::Nb201Space;

/// Fashion-MNIST's class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];

fn fashion(prefix: &str) -> Result<ImageDataset> {
    let dir = datasets_dir()?.join("fashion-mnist");
    ImageDataset::from_idx(
        &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
        &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
    )?
    .with_class_names(
        FASHION_MNIST_CLASSES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
}

/// The official Fashion-MNIST test set: 10,000 images `[1, 28, 28]`, 1,000 per class.
///
/// # Errors
/// When the folder or files are missing or damaged.
pub fn fashion_mnist_test() -> Result<ImageDataset> {
    fashion("t10k")
}

/// The first 10,000 Fashion-MNIST training images.
///
/// # Errors
/// When the folder or files are missing or damaged.
pub fn fashion_mnist_train10k() -> Result<ImageDataset> {
    fashion("train10k")
}

/// 10,000 MNIST digits, stored grouped by digit (shuffle or split stratified).
///
/// # Errors
/// When the folder or files are missing or damaged.
pub fn mnist10k() -> Result<ImageDataset> {
    let dir = datasets_dir()?.join("mnist");
    ImageDataset::from_idx(
        &dir.join("images-idx3-ubyte.gz"),
        &dir.join("labels-idx1-ubyte.gz"),
    )
}

/// The seed of [`mnist_train_test`]'s split: fixed, so every search, benchmark
/// and reloaded model reads the same 2,000 test digits whatever its own seed.
const MNIST_TEST_SPLIT_SEED: u64 = 12_345;

/// The shipped MNIST digits as the `mnist` task uses them: 8,000 for the
/// search and final training, and 2,000 held out as its test split, stratified
/// by digit with a fixed seed.
///
/// # Errors
/// When the folder or files are missing or damaged.
pub fn mnist_train_test() -> Result<(ImageDataset, ImageDataset)> {
    let mut parts = mnist10k()?
        .stratified_split(&[0.8, 0.2], MNIST_TEST_SPLIT_SEED)?
        .into_iter();
    match (parts.next(), parts.next()) {
        (Some(train), Some(test)) => Ok((train, test)),
        _ => Err(crate::error::DataError::InvalidDataset(
            "the shipped MNIST digits did not split into two parts".into(),
        )),
    }
}

/// NAS-Bench-201's accuracy, parameter and FLOP table (15,625 rows).
///
/// # Errors
/// When the folder or file is missing or damaged.
pub fn nb201_table() -> Result<BenchmarkTable<Nb201Space>> {
    BenchmarkTable::from_csv(Nb201Space, &datasets_dir()?.join("nb201.csv.gz"))
}

/// The path of the AON settings table (`aon-settings/table.csv`: short
/// training runs of MNIST pairs with each setting of the AON's update rule,
/// read by `metanas_aon::read_settings_table`).
///
/// # Errors
/// When the folder is missing, or the file is not in it.
pub fn aon_settings_table_path() -> Result<std::path::PathBuf> {
    let path = datasets_dir()?.join("aon-settings").join("table.csv");
    if !path.is_file() {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        return Err(crate::DataError::io(path, missing));
    }
    Ok(path)
}

/// Latencies of every NAS-Bench-201 cell on 18 devices (15,625 rows).
///
/// # Errors
/// When the folder or file is missing or damaged.
pub fn nb201_latency_table() -> Result<BenchmarkTable<Nb201Space>> {
    BenchmarkTable::from_csv(Nb201Space, &datasets_dir()?.join("nb201_latency.csv.gz"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_fashion_train_split_loads_with_names() {
        let d = fashion_mnist_train10k().expect("loads");
        assert_eq!(
            (d.len(), d.shape(), d.num_classes()),
            (10_000, [1, 28, 28], 10)
        );
        assert_eq!(d.class_names().map(|n| n[9].as_str()), Some("ankle boot"));
    }

    #[test]
    fn mnist_task_split_is_fixed_and_stratified() {
        let (train, test) = mnist_train_test().expect("loads");
        assert_eq!((train.len(), test.len()), (8_000, 2_000));
        // Every digit keeps a fifth of its images in the test split.
        let all = mnist10k().expect("loads");
        for digit in 0..10 {
            let count = |d: &ImageDataset| d.labels().iter().filter(|&&l| l == digit).count();
            assert!(count(&test).abs_diff(count(&all) / 5) <= 1, "digit {digit}");
        }
        // The same digits on every call, whatever the caller's seed.
        let (_, again) = mnist_train_test().expect("loads");
        assert_eq!(test.labels(), again.labels());
        assert_eq!(test.image(17), again.image(17));
    }
}
