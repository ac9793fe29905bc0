//! # metanas-data
//!
//! Data for neural architecture search, usable from any Burn training loop:
//!
//! * **Image datasets** ([`ImageDataset`]): labelled `[C, H, W]` images in
//!   memory (`f32` in `[0, 1]`), loaded from IDX files (gzip or raw,
//!   [`ImageDataset::from_idx`]), CSV rows ([`ImageDataset::from_csv`]) or
//!   image folders, one sub-folder per class ([`ImageDataset::from_folder`],
//!   or [`ImageDataset::from_folder_with`] to resize photos of many sizes);
//!   per-channel [`Normalisation`]; seeded, stratified splits
//!   ([`ImageDataset::train_validation_test`]).
//! * **Burn glue**: [`ImageDataset`] is a Burn `Dataset<ImageItem>`,
//!   [`ImageBatcher`] a Burn `Batcher`; for deterministic loops,
//!   [`ImageDataset::batches`] + [`ImageDataset::batch_of`] build each batch
//!   with one copy. Functions take a Burn `Device`; no backend is named here.
//! * **Task distributions** for meta-learning: [`TaskDistributionConfig`]
//!   draws k-way, n-shot tasks with optional exact transforms
//!   ([`TaskTransform`]); [`FixedTask`] makes a whole dataset one task;
//!   both are [`TaskSampler`]s, seeded.
//! * **Benchmark tables** ([`BenchmarkTable`]): NAS-Bench-201 accuracies and
//!   latencies, or any CSV with an `arch` column, looked up in O(1) through a
//!   [`metanas_space::SearchSpace`]; each column as a [`TableTask`] with its
//!   report column and family in a [`TaskCatalog`], whose
//!   [`TaskCatalog::leave_family_out`] cannot leak the held-out task.
//! * Errors are one [`DataError`] naming the file and the position.
//!
//! ```no_run
//! use metanas_data::{ImageDataset, TaskCatalog, TaskDistributionConfig, TaskSampler, datasets_dir};
//! use metanas_data::BenchmarkTable;
//! use metanas_space::nb201::Nb201Space;
//! # fn main() -> metanas_data::Result<()> {
//! let dir = datasets_dir()?;
//!
//! // Images: load, split, batch.
//! let fashion = ImageDataset::from_idx(
//!     &dir.join("fashion-mnist/t10k-images-idx3-ubyte.gz"),
//!     &dir.join("fashion-mnist/t10k-labels-idx1-ubyte.gz"),
//! )?;
//! let parts = fashion.train_validation_test(0.1, 0.1, 42)?;
//! let stats = parts.train.normalisation();
//! # let device: burn::tensor::Device = unimplemented!();
//! for indices in parts.train.batches(64, Some(0)) {
//!     let batch = parts.train.batch_of(&indices, Some(&stats), &device)?;
//!     // batch.images: [64, 1, 28, 28], batch.targets: [64]
//! }
//!
//! // Few-shot tasks: 5-way, 1-shot, sometimes rotated.
//! let tasks = TaskDistributionConfig::new(5, 1)
//!     .with_rotation_probability(0.5)
//!     .init(parts.train)?;
//! let task = tasks.task_for_seed(7);
//! assert_eq!(task.train.len(), 5);
//!
//! // Benchmark tables and leave-one-family-out.
//! let acc = BenchmarkTable::from_csv(Nb201Space, &dir.join("nb201.csv.gz"))?;
//! let lat = BenchmarkTable::from_csv(Nb201Space, &dir.join("nb201_latency.csv.gz"))?;
//! let catalog = TaskCatalog::nb201(&acc, &lat)?;
//! let split = catalog.leave_family_out("c100")?; // no c100_* column in split.train
//! let best = acc.max("c100_test")?;
//! # Ok(()) }
//! ```

mod augmentation;
mod batcher;
mod benchmark_table;
mod csv_images;
mod dataset_format;
mod datasets_dir;
mod error;
mod file_bytes;
mod fixed_task;
mod idx;
mod image_dataset;
mod image_file_reading;
mod image_folder;
mod image_inputs;
mod image_task;
mod latency_sources;
mod measured_latencies;
mod mirror_check;
mod normalisation;
pub mod shipped;
mod split;
mod table_task;
pub mod task_catalog;
mod task_direction;
mod task_distribution;
mod transform;

pub use augmentation::{Augmentation, augmentation_rng};
pub use batcher::{ImageBatch, ImageBatcher, index_batches};
pub use benchmark_table::{ARCH_COLUMN, BenchmarkTable, INDEX_COLUMN};
pub use dataset_format::DatasetFormat;
pub use datasets_dir::{DATASETS_ENV, datasets_dir};
pub use error::{DataError, Result};
pub use file_bytes::read_file_bytes;
pub use fixed_task::FixedTask;
pub use idx::IdxArray;
pub use image_dataset::{ImageDataset, ImageItem};
pub use image_file_reading::{ImageFileReading, MAX_RESIZED_SIDE};
pub use image_folder::IMAGE_EXTENSIONS;
pub use image_inputs::ImageInputs;
pub use image_task::{ImageTask, TaskSampler};
pub use latency_sources::{latency_and_cost_catalog, nb201_latency_and_cost_table};
pub use measured_latencies::{MIN_MEASURED_CELLS, MeasuredLatencies};
pub use mirror_check::{MIRROR_SAFE_RATIO, MirrorCheck};
pub use normalisation::Normalisation;
pub use split::{TrainValidationTest, stratified_indices};
pub use table_task::{MetricKind, Objective, TableTask};
pub use task_catalog::{FamilySplit, ReportColumn, TaskCatalog, TaskOverride, read_overrides};
pub use task_direction::{
    DirectionSource, SIDE_CAR_SUFFIX, TableTasks, TaskDirection, objective_by_name, side_car_path,
};
pub use task_distribution::{TaskDistribution, TaskDistributionConfig};
pub use transform::TaskTransform;
