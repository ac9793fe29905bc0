//! The crate's error type.

use metanas_space::SpaceError;
use std::path::PathBuf;

/// What went wrong when reading data or building datasets and tasks.
///
/// Every variant that comes from a file names the file and the position in it
/// (byte offset, image index, 1-based line number or column name) so that a
/// user can fix the input without reading the loader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The gzip stream ends before its end marker.
    #[error("`{path}`: truncated gzip stream (ends at compressed byte {offset})")]
    TruncatedGzip {
        /// The file.
        path: PathBuf,
        /// Compressed bytes read when the stream ended.
        offset: u64,
    },
    /// The gzip stream is damaged (bad header, bad deflate data or checksum).
    #[error("`{path}`: corrupt gzip stream near compressed byte {offset}: {reason}")]
    CorruptGzip {
        /// The file.
        path: PathBuf,
        /// Compressed bytes read when the damage was found.
        offset: u64,
        /// The decoder's message.
        reason: String,
    },
    /// The first four bytes are not an IDX magic number for unsigned bytes.
    #[error(
        "`{path}`: wrong IDX magic {found:02x?} at byte 0; expected [00, 00, 08, ndims] (unsigned bytes)"
    )]
    IdxMagic {
        /// The file.
        path: PathBuf,
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The IDX header announces a layout this loader cannot use.
    #[error("`{path}`: {reason}")]
    IdxLayout {
        /// The file.
        path: PathBuf,
        /// What is wrong with the dimensions.
        reason: String,
    },
    /// The IDX body is shorter or longer than its header says.
    #[error("`{path}`: IDX header announces {expected} data bytes, file holds {found}")]
    IdxLength {
        /// The file.
        path: PathBuf,
        /// Bytes announced by the header.
        expected: usize,
        /// Bytes present after the header.
        found: usize,
    },
    /// Image and label files disagree on the number of examples.
    #[error("`{images}` holds {image_count} images but `{labels}` holds {label_count} labels")]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// The label file.
        labels: PathBuf,
        /// Number of images.
        image_count: usize,
        /// Number of labels.
        label_count: usize,
    },
    /// An image file has another size than the first one, and the files are
    /// read as they are (not resized).
    #[error(
        "`{path}` is {} pixels (height×width, upright: its EXIF orientation applied) but `{first}` is {}: the {files} images must have one size, or be resized as they are read (`--image-size H,W` in `cargo xtask search`, `ImageFileReading::resized_to` in Rust)",
        size_text(*found),
        size_text(*expected)
    )]
    MixedImageSizes {
        /// The offending image.
        path: PathBuf,
        /// Its `[height, width]`.
        found: [usize; 2],
        /// The first image read.
        first: PathBuf,
        /// The first image's `[height, width]`.
        expected: [usize; 2],
        /// How many image files were being read.
        files: usize,
    },
    /// An image file could not be decoded.
    #[error("cannot decode image `{path}`: {reason}")]
    ImageDecode {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// A CSV file is malformed (wrong number of fields, bad UTF-8, bad quoting).
    #[error("`{path}` line {line}: {reason}")]
    CsvFormat {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A cell of a CSV file holds an unusable value (not a number, NaN,
    /// infinite, out of range).
    #[error("`{path}` line {line}, column `{column}`: value `{value}` {reason}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column's name (or `#n`, 1-based, when the file has no header).
        column: String,
        /// The text found (at most 80 characters).
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A table lacks a column it must have.
    #[error("`{path}` has no `{column}` column (columns: {available})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The required column.
        column: String,
        /// The header's columns, comma separated.
        available: String,
    },
    /// A header names the same column twice.
    #[error("`{path}`: column `{column}` appears twice in the header")]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The repeated name.
        column: String,
    },
    /// A column was asked for that the table (or catalog) does not have.
    #[error("unknown column `{column}` in `{source_name}`; available: {available}")]
    UnknownColumn {
        /// The table's file (or the catalog).
        source_name: String,
        /// The name asked for.
        column: String,
        /// Available names, comma separated.
        available: String,
    },
    /// An architecture string in a table is not in the search space.
    #[error("`{path}` line {line}: architecture `{text}` is not in the space: {source}")]
    ArchNotInSpace {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The text found (at most 200 characters).
        text: String,
        /// The space's reason.
        #[source]
        source: SpaceError,
    },
    /// Two rows of a table describe the same architecture.
    #[error("`{path}`: lines {first_line} and {second_line} hold the same architecture `{arch}`")]
    DuplicateArch {
        /// The file.
        path: PathBuf,
        /// The architecture's text form.
        arch: String,
        /// 1-based line of the first occurrence.
        first_line: u64,
        /// 1-based line of the repeat.
        second_line: u64,
    },
    /// A file of measured latencies has another header than `arch` and one
    /// latency column.
    #[error(
        "`{path}`: a file of measured latencies has an `arch` column and one latency column named for the device (e.g. `arch,my_phone_ms`); its columns are: {found}"
    )]
    MeasuredLayout {
        /// The file.
        path: PathBuf,
        /// The header's columns, comma separated.
        found: String,
    },
    /// Two rows of a file of measurements are the same cell (one canonical
    /// form: the strings differ only in operations that compute nothing).
    #[error(
        "`{path}`: lines {first_line} and {second_line} are the same cell (`{first}` and `{second}` compute the same graph); measure each cell once and keep one row"
    )]
    SameCell {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first occurrence.
        first_line: u64,
        /// 1-based line of the repeat.
        second_line: u64,
        /// The first row's cell.
        first: String,
        /// The repeat's cell.
        second: String,
    },
    /// A file of measurements holds too few rows to adapt a model to.
    #[error(
        "`{path}` holds {found} measured cells; at least {needed} are needed (`cargo xtask latency plan` lists cells worth measuring)"
    )]
    TooFewMeasurements {
        /// The file.
        path: PathBuf,
        /// Rows found.
        found: usize,
        /// Rows needed.
        needed: usize,
    },
    /// An architecture was looked up that the table does not hold.
    #[error("architecture `{arch}` is not in table `{source_name}`")]
    ArchNotInTable {
        /// The table's file.
        source_name: String,
        /// The architecture's text form.
        arch: String,
    },
    /// An architecture string could not be read (outside of any file).
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// A family was asked for that the catalog does not have.
    #[error("unknown task family `{family}`; available: {available}")]
    UnknownFamily {
        /// The name asked for.
        family: String,
        /// Available families, comma separated.
        available: String,
    },
    /// A JSON side-car file could not be read.
    #[error("`{path}`: invalid JSON: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// serde's message, with line and column.
        reason: String,
    },
    /// Pixels, labels and shape of an in-memory dataset disagree.
    #[error("invalid dataset: {0}")]
    InvalidDataset(String),
    /// A dataset or folder holds no examples.
    #[error("`{path}` holds no examples")]
    Empty {
        /// The file or folder.
        path: PathBuf,
    },
    /// An index past the end of a dataset.
    #[error("index {index} out of range for a dataset of {len} examples")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The dataset's length.
        len: usize,
    },
    /// Settings that cannot work (checked before any work starts).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No `datasets/` folder was found.
    #[error(
        "no datasets folder found; set METANAS_DATASETS or run inside the repository (searched: {searched})"
    )]
    DatasetsDirNotFound {
        /// The places looked at, comma separated.
        searched: String,
    },
}

impl DataError {
    /// A [`DataError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// `[height, width]` as `H×W`.
fn size_text([height, width]: [usize; 2]) -> String {
    format!("{height}×{width}")
}

/// Keeps at most `max` characters of `text` (for error messages).
pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DataError>;
