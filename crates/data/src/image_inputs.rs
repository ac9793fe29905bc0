//! Images to classify with a trained model: a folder, an IDX file or a CSV
//! file, with or without labels, each image named by where it came from.

use crate::csv_images::{LabelColumn, read_csv_images};
use crate::dataset_format::DatasetFormat;
use crate::error::{DataError, Result};
use crate::idx::IdxArray;
use crate::image_dataset::ImageDataset;
use crate::image_file_reading::ImageFileReading;
use crate::image_folder::{file_name, image_files, sorted_entries};
use std::path::{Path, PathBuf};

/// Images to classify, each with an id.
///
/// Read by [`ImageInputs::read`] from the formats a search trains on, labels
/// optional:
/// - a **folder** of PNG/JPEG images (ids: the file names); or, when the
///   folder holds no image itself, one sub-folder per class as for training
///   (ids: `class/file`; the sub-folders' names are the true classes);
/// - an **IDX** image file, `[N, H, W]` (grey) or `[N, C, H, W]`, plain or
///   gzip (ids: the image's index, from 0);
/// - a **CSV** file, `.csv` or `.csv.gz`: rows of `C·H·W` values, or a label
///   then the values as for training (ids: the row's index, from 0).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInputs {
    /// The images, pixels in `[0, 1]` as the training loaders give them. Their
    /// labels are the true classes when [`Self::labels`] is set, 0 otherwise.
    pub images: ImageDataset,
    /// One id per image.
    pub ids: Vec<String>,
    /// The true class of each image, when the input has labels.
    pub labels: Option<Vec<usize>>,
}

impl ImageInputs {
    /// Reads `path` (see the type's documentation), image files as they are
    /// stored. `csv_shape` is the `[C, H, W]` of a CSV file's rows (a CSV
    /// row does not say it; pass the model's input shape); the other formats
    /// carry their own shape.
    ///
    /// # Errors
    /// As [`ImageInputs::read_with`].
    pub fn read(path: &Path, csv_shape: [usize; 3]) -> Result<Self> {
        Self::read_with(path, csv_shape, ImageFileReading::as_stored())
    }

    /// Reads `path` as [`ImageInputs::read`] does, the image files of a
    /// folder as `reading` says (a model's own reading: the size its
    /// training files were resized to, colour when it takes colour).
    ///
    /// # Errors
    /// The loaders' errors: [`DataError::MixedImageSizes`],
    /// [`DataError::ImageDecode`], [`DataError::IdxMagic`],
    /// [`DataError::IdxLayout`], [`DataError::CsvFormat`] (a row with another
    /// number of values than `csv_shape` gives), [`DataError::BadValue`],
    /// [`DataError::Empty`] and [`DataError::Io`].
    pub fn read_with(
        path: &Path,
        csv_shape: [usize; 3],
        reading: ImageFileReading,
    ) -> Result<Self> {
        match DatasetFormat::of_path(path) {
            DatasetFormat::Folder => Self::from_folder(path, reading),
            DatasetFormat::Idx => Self::from_idx(path),
            DatasetFormat::Csv => Self::from_csv(path, csv_shape),
        }
    }

    fn from_folder(root: &Path, reading: ImageFileReading) -> Result<Self> {
        let files = image_files(root)?;
        if !files.is_empty() {
            let (pixels, shape) = reading.read(&files, root)?;
            let ids = files.iter().map(|file| file_name(file)).collect();
            return Ok(Self::unlabelled(pixels, shape, ids));
        }
        let images = ImageDataset::from_folder_with(root, reading)?;
        let mut ids = Vec::with_capacity(images.len());
        for class in sorted_entries(root, |p| p.is_dir())? {
            let class_name = file_name(&class);
            let files: Vec<PathBuf> = image_files(&class)?;
            ids.extend(
                files
                    .iter()
                    .map(|file| format!("{class_name}/{}", file_name(file))),
            );
        }
        let labels = images.labels().to_vec();
        Ok(Self {
            images,
            ids,
            labels: Some(labels),
        })
    }

    fn from_idx(path: &Path) -> Result<Self> {
        let array = IdxArray::read(path)?;
        let (n, shape) = match *array.dims.as_slice() {
            [n, h, w] => (n, [1, h, w]),
            [n, c, h, w] => (n, [c, h, w]),
            _ => {
                return Err(DataError::IdxLayout {
                    path: path.to_path_buf(),
                    reason: format!(
                        "expected images as [N, H, W] or [N, C, H, W], found dimensions {:?}",
                        array.dims
                    ),
                });
            }
        };
        if n == 0 || shape.contains(&0) {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        let pixels = array.data.iter().map(|&p| f32::from(p) / 255.0).collect();
        Ok(Self::unlabelled(
            pixels,
            shape,
            (0..n).map(|i| i.to_string()).collect(),
        ))
    }

    fn from_csv(path: &Path, shape: [usize; 3]) -> Result<Self> {
        let rows = read_csv_images(path, shape, LabelColumn::Optional)?;
        let ids = (0..rows.lines.len()).map(|i| i.to_string()).collect();
        match rows.labels {
            None => Ok(Self::unlabelled(rows.pixels, shape, ids)),
            Some(labels) => {
                let num_classes = labels.iter().max().map_or(1, |m| m + 1);
                Ok(Self {
                    images: ImageDataset::from_parts(
                        rows.pixels,
                        labels.clone(),
                        shape,
                        num_classes,
                        None,
                    ),
                    ids,
                    labels: Some(labels),
                })
            }
        }
    }

    fn unlabelled(pixels: Vec<f32>, shape: [usize; 3], ids: Vec<String>) -> Self {
        let labels = vec![0; ids.len()];
        Self {
            images: ImageDataset::from_parts(pixels, labels, shape, 1, None),
            ids,
            labels: None,
        }
    }

    /// The true class name of image `index`, when the input has labels: the
    /// class sub-folder's name, or the label's number.
    pub fn label_name(&self, index: usize) -> Option<String> {
        let label = *self.labels.as_ref()?.get(index)?;
        Some(
            self.images
                .class_names()
                .and_then(|names| names.get(label).cloned())
                .unwrap_or_else(|| label.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::GrayImage;

    #[test]
    fn a_model_reading_resizes_files_and_reads_grey_as_colour() {
        let dir = tempfile::tempdir().expect("temp dir");
        GrayImage::new(7, 5)
            .save(dir.path().join("a.png"))
            .expect("save");
        GrayImage::new(2, 3)
            .save(dir.path().join("b.png"))
            .expect("save");
        let reading = ImageFileReading::resized_to(4, 4)
            .expect("valid size")
            .with_colour(true);
        let inputs = ImageInputs::read_with(dir.path(), [9, 9, 9], reading).expect("reads");
        assert_eq!(inputs.images.shape(), [3, 4, 4]);
        assert_eq!(inputs.ids, ["a.png", "b.png"]);
        assert!(matches!(
            ImageInputs::read(dir.path(), [9, 9, 9]),
            Err(DataError::MixedImageSizes { .. })
        ));
    }

    #[test]
    fn a_flat_folder_is_unlabelled_and_a_class_folder_labelled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let flat = dir.path().join("flat");
        std::fs::create_dir(&flat).expect("mkdir");
        for (k, name) in ["b.png", "a.png"].iter().enumerate() {
            GrayImage::from_raw(2, 1, vec![255, 51 * k as u8])
                .expect("size")
                .save(flat.join(name))
                .expect("save");
        }
        let inputs = ImageInputs::read(&flat, [9, 9, 9]).expect("reads");
        assert_eq!(inputs.ids, ["a.png", "b.png"], "sorted by name");
        assert_eq!(inputs.images.shape(), [1, 1, 2]);
        assert_eq!(inputs.images.image(0), Some(&[1.0, 0.2][..]));
        assert_eq!((inputs.labels.clone(), inputs.label_name(0)), (None, None));

        let classes = dir.path().join("classes");
        for class in ["cat", "dog"] {
            std::fs::create_dir_all(classes.join(class)).expect("mkdir");
            GrayImage::new(2, 1)
                .save(classes.join(class).join("x.png"))
                .expect("save");
        }
        let inputs = ImageInputs::read(&classes, [9, 9, 9]).expect("reads");
        assert_eq!(inputs.ids, ["cat/x.png", "dog/x.png"]);
        assert_eq!(inputs.labels, Some(vec![0, 1]));
        assert_eq!(inputs.label_name(1).as_deref(), Some("dog"));
    }

    #[test]
    fn idx_images_without_labels_and_csv_rows_with_or_without_labels() {
        let dir = tempfile::tempdir().expect("temp dir");
        let idx = dir.path().join("images-idx3-ubyte");
        let mut bytes = vec![0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        bytes.extend_from_slice(&[0, 255, 51, 102]);
        std::fs::write(&idx, bytes).expect("write");
        let inputs = ImageInputs::read(&idx, [9, 9, 9]).expect("reads");
        assert_eq!((inputs.images.shape(), inputs.ids.len()), ([1, 1, 2], 2));
        assert_eq!(inputs.images.image(1), Some(&[0.2, 0.4][..]));
        assert_eq!(inputs.labels, None);

        let csv = dir.path().join("rows.csv");
        std::fs::write(&csv, "0,255\n51,102\n").expect("write");
        let inputs = ImageInputs::read(&csv, [1, 1, 2]).expect("reads");
        assert_eq!((inputs.ids.len(), inputs.labels.clone()), (2, None));
        assert_eq!(inputs.images.image(1), Some(&[0.2, 0.4][..]));
        std::fs::write(&csv, "label,a,b\n3,0,255\n1,51,102\n").expect("write");
        let inputs = ImageInputs::read(&csv, [1, 1, 2]).expect("reads");
        assert_eq!(inputs.labels, Some(vec![3, 1]));
        assert_eq!(inputs.images.image(0), Some(&[0.0, 1.0][..]));
        // Features (not pixels) without labels, the first value a fraction.
        std::fs::write(&csv, "0.5,-1\n2,3\n").expect("write");
        let inputs = ImageInputs::read(&csv, [1, 1, 2]).expect("reads");
        assert_eq!(inputs.images.pixels(), &[0.5, -1.0, 2.0, 3.0]);
        // Rows of another length than the model's images: one clear error.
        std::fs::write(&csv, "1,2,3,4\n").expect("write");
        match ImageInputs::read(&csv, [1, 1, 2]) {
            Err(DataError::CsvFormat {
                line: 1, reason, ..
            }) => {
                assert!(
                    reason.contains("2 pixels, or 1 label + 2 pixels"),
                    "{reason}"
                );
            }
            other => panic!("expected CsvFormat, got {other:?}"),
        }
        std::fs::write(&csv, "1,2\n1,2,3\n").expect("write");
        assert!(matches!(
            ImageInputs::read(&csv, [1, 1, 2]),
            Err(DataError::CsvFormat { line: 2, .. })
        ));
    }
}
