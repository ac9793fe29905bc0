//! An in-memory labelled image dataset, and its Burn [`Dataset`] view.

use crate::error::{DataError, Result};
use crate::normalisation::Normalisation;
use burn::data::dataset::{Dataset, DatasetError};

/// One example: a `[C, H, W]` image (pixels in `[0, 1]`, channel-major) and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageItem {
    /// Pixels, `C·H·W` of them, channel-major.
    pub image: Vec<f32>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// The class, `0..num_classes`.
    pub label: usize,
}

/// Labelled images of one shape `[C, H, W]`, held in memory as `f32` in `[0, 1]`.
///
/// Loaders: [`ImageDataset::from_idx`], [`ImageDataset::from_csv`],
/// [`ImageDataset::from_folder`]; or [`ImageDataset::new`] from vectors.
/// Pixels are stored contiguously (image after image), so a batch is one copy
/// ([`ImageDataset::batch_of`]). Memory: `4·C·H·W` bytes per image (31 MB for
/// 10,000 Fashion-MNIST images).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    pixels: Vec<f32>,
    labels: Vec<usize>,
    shape: [usize; 3],
    num_classes: usize,
    class_names: Option<Vec<String>>,
    files_resized_to: Option<[usize; 2]>,
}

impl ImageDataset {
    /// A dataset from pixels (`labels.len()` images of `shape`, channel-major)
    /// and labels in `0..num_classes`.
    ///
    /// # Errors
    /// [`DataError::InvalidDataset`] when the lengths disagree, a dimension is
    /// zero, a label is out of range or a pixel is not finite.
    pub fn new(
        pixels: Vec<f32>,
        labels: Vec<usize>,
        shape: [usize; 3],
        num_classes: usize,
    ) -> Result<Self> {
        let size = shape.iter().product::<usize>();
        if size == 0 {
            return Err(DataError::InvalidDataset(format!(
                "image shape {shape:?} has a zero dimension"
            )));
        }
        if pixels.len() != labels.len() * size {
            return Err(DataError::InvalidDataset(format!(
                "{} pixels for {} images of shape {shape:?} (expected {})",
                pixels.len(),
                labels.len(),
                labels.len() * size
            )));
        }
        if let Some((i, &l)) = labels.iter().enumerate().find(|(_, l)| **l >= num_classes) {
            return Err(DataError::InvalidDataset(format!(
                "label {l} of image {i} is not below num_classes = {num_classes}"
            )));
        }
        if let Some(p) = pixels.iter().position(|v| !v.is_finite()) {
            return Err(DataError::InvalidDataset(format!(
                "pixel {} of image {} is not finite",
                p % size,
                p / size
            )));
        }
        Ok(Self::from_parts(pixels, labels, shape, num_classes, None))
    }

    /// Builds without checks: for loaders and transforms that keep the invariants.
    pub(crate) fn from_parts(
        pixels: Vec<f32>,
        labels: Vec<usize>,
        shape: [usize; 3],
        num_classes: usize,
        class_names: Option<Vec<String>>,
    ) -> Self {
        debug_assert_eq!(pixels.len(), labels.len() * shape.iter().product::<usize>());
        Self {
            pixels,
            labels,
            shape,
            num_classes,
            class_names,
            files_resized_to: None,
        }
    }

    /// The same dataset, recorded as read from image files resized to
    /// `[height, width]` (or not resized: `None`).
    pub(crate) fn with_files_resized_to(mut self, size: Option<[usize; 2]>) -> Self {
        self.files_resized_to = size;
        self
    }

    /// The same dataset with names for its classes.
    ///
    /// # Errors
    /// [`DataError::InvalidDataset`] when there is not one name per class.
    pub fn with_class_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.num_classes {
            return Err(DataError::InvalidDataset(format!(
                "{} class names for {} classes",
                names.len(),
                self.num_classes
            )));
        }
        self.class_names = Some(names);
        Ok(self)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `[C, H, W]` of every image.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Number of values per image, `C·H·W`.
    pub fn image_size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of classes (labels are `0..num_classes`; a class may have no image).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Class names, when the source had them (folder names, or set by the user).
    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }

    /// The `[height, width]` that the image files were resized to as they
    /// were read ([`crate::ImageFileReading`]), kept by subsets and splits:
    /// a model trained on the images reads new files the same way. `None`
    /// when the images were not resized.
    pub fn files_resized_to(&self) -> Option<[usize; 2]> {
        self.files_resized_to
    }

    /// Every label, in order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Every pixel, image after image, channel-major.
    pub fn pixels(&self) -> &[f32] {
        &self.pixels
    }

    /// The pixels of image `index`.
    pub fn image(&self, index: usize) -> Option<&[f32]> {
        let size = self.image_size();
        self.pixels.get(index * size..(index + 1) * size)
    }

    /// The label of image `index`.
    pub fn label(&self, index: usize) -> Option<usize> {
        self.labels.get(index).copied()
    }

    /// Image `index` with its label, as an owned item.
    pub fn item(&self, index: usize) -> Option<ImageItem> {
        Some(ImageItem {
            image: self.image(index)?.to_vec(),
            shape: self.shape,
            label: self.label(index)?,
        })
    }

    /// Images per class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[l] += 1;
        }
        counts
    }

    /// The indices of each class's images, in dataset order, indexed by label.
    pub fn indices_by_class(&self) -> Vec<Vec<usize>> {
        let mut by_class = vec![Vec::new(); self.num_classes];
        for (i, &l) in self.labels.iter().enumerate() {
            by_class[l].push(i);
        }
        by_class
    }

    /// The images at `indices` (in that order; repeats allowed), same classes.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`] for an index past the end.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let size = self.image_size();
        let mut pixels = Vec::with_capacity(indices.len() * size);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let image = self.image(i).ok_or(DataError::IndexOutOfRange {
                index: i,
                len: self.len(),
            })?;
            pixels.extend_from_slice(image);
            labels.push(self.labels[i]);
        }
        Ok(Self::from_parts(
            pixels,
            labels,
            self.shape,
            self.num_classes,
            self.class_names.clone(),
        )
        .with_files_resized_to(self.files_resized_to))
    }

    /// The images at `indices` relabelled: the image of original class
    /// `classes[k]` gets label `k`. Images of other classes are an error.
    pub(crate) fn relabelled_subset(&self, indices: &[usize], classes: &[usize]) -> Result<Self> {
        let mut out = self.subset(indices)?;
        for l in &mut out.labels {
            *l = classes.iter().position(|c| c == l).ok_or_else(|| {
                DataError::InvalidDataset(format!("label {l} is not among the task's classes"))
            })?;
        }
        out.num_classes = classes.len();
        out.class_names = self.class_names.as_ref().map(|names| {
            classes
                .iter()
                .filter_map(|&c| names.get(c).cloned())
                .collect()
        });
        Ok(out)
    }

    /// Per-channel mean and standard deviation of all pixels.
    pub fn normalisation(&self) -> Normalisation {
        let [c, h, w] = self.shape;
        Normalisation::of(&self.pixels, c, h * w)
    }

    /// Replaces the images by `f(image, shape) -> image` of a new common shape
    /// (no longer the files' pixels: the resize of the files is not kept).
    pub(crate) fn map_images(
        &self,
        new_shape: [usize; 3],
        f: impl Fn(&[f32], &mut Vec<f32>),
    ) -> Self {
        let size = self.image_size();
        let mut pixels = Vec::with_capacity(self.len() * new_shape.iter().product::<usize>());
        for img in self.pixels.chunks_exact(size) {
            f(img, &mut pixels);
        }
        Self::from_parts(
            pixels,
            self.labels.clone(),
            new_shape,
            self.num_classes,
            self.class_names.clone(),
        )
    }
}

impl Dataset<ImageItem> for ImageDataset {
    /// The item at `index`; an index past the end is an `Err` (never a panic).
    fn get(&self, index: usize) -> std::result::Result<ImageItem, DatasetError> {
        self.item(index).ok_or_else(|| {
            DatasetError::new(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            })
        })
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageDataset {
        // Four 1×1×2 images, labels 0, 1, 0, 2.
        ImageDataset::new(
            vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
            vec![0, 1, 0, 2],
            [1, 1, 2],
            3,
        )
        .expect("valid")
    }

    #[test]
    fn accessors_and_subset() {
        let d = tiny();
        assert_eq!(d.len(), 4);
        assert_eq!(d.image(2), Some(&[0.4, 0.5][..]));
        assert_eq!(d.class_counts(), vec![2, 1, 1]);
        let s = d.subset(&[3, 0]).expect("in range");
        assert_eq!(s.labels(), &[2, 0]);
        assert_eq!(s.pixels(), &[0.6, 0.7, 0.0, 0.1]);
        assert!(matches!(
            d.subset(&[4]),
            Err(DataError::IndexOutOfRange { index: 4, len: 4 })
        ));
        assert_eq!(Dataset::get(&d, 1).expect("in range").label, 1);
        assert!(Dataset::get(&d, 9).is_err());
    }

    #[test]
    fn relabelling_follows_the_class_list() {
        let r = tiny()
            .relabelled_subset(&[1, 3, 0], &[2, 1, 0])
            .expect("ok");
        assert_eq!(r.labels(), &[1, 0, 2]);
        assert_eq!(r.num_classes(), 3);
    }

    #[test]
    fn new_rejects_inconsistent_input() {
        assert!(ImageDataset::new(vec![0.0; 3], vec![0, 0], [1, 1, 2], 1).is_err());
        assert!(ImageDataset::new(vec![0.0; 4], vec![0, 5], [1, 1, 2], 2).is_err());
        assert!(ImageDataset::new(vec![f32::NAN; 2], vec![0], [1, 1, 2], 1).is_err());
    }
}
