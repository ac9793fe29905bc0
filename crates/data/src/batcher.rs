//! Turning images into Burn tensors: a [`Batcher`] for Burn's data loaders and
//! a deterministic fast path for our own training loops.

use crate::error::{DataError, Result};
use crate::image_dataset::{ImageDataset, ImageItem};
use crate::normalisation::Normalisation;
use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// A batch of images and their classes.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// `[batch, channels, height, width]`.
    pub images: Tensor<4>,
    /// `[batch]`, the class of each image.
    pub targets: Tensor<1, Int>,
}

/// Batches [`ImageItem`]s for Burn's `DataLoaderBuilder`, optionally normalising.
#[derive(Debug, Clone, Default)]
pub struct ImageBatcher {
    normalisation: Option<Normalisation>,
}

impl ImageBatcher {
    /// A batcher that leaves pixels in `[0, 1]`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A batcher that normalises each channel with `normalisation`.
    pub fn with_normalisation(normalisation: Normalisation) -> Self {
        Self {
            normalisation: Some(normalisation),
        }
    }
}

impl Batcher<ImageItem, ImageBatch> for ImageBatcher {
    /// # Panics
    /// When the items have different shapes. Items of one [`ImageDataset`]
    /// never do; mixing datasets of different shapes is a programming error.
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> ImageBatch {
        let shape = items.first().map_or([0, 0, 0], |i| i.shape);
        let size = shape.iter().product::<usize>();
        let mut pixels = Vec::with_capacity(items.len() * size);
        let mut targets = Vec::with_capacity(items.len());
        for item in &items {
            assert_eq!(
                item.shape, shape,
                "ImageBatcher: items of shapes {:?} and {:?} in one batch",
                shape, item.shape
            );
            pixels.extend_from_slice(&item.image);
            targets.push(item.label as i64);
        }
        to_batch(pixels, targets, shape, self.normalisation.as_ref(), device)
    }
}

/// Builds the tensors of a batch (normalising in place first).
pub(crate) fn to_batch(
    mut pixels: Vec<f32>,
    targets: Vec<i64>,
    [c, h, w]: [usize; 3],
    normalisation: Option<&Normalisation>,
    device: &Device,
) -> ImageBatch {
    if let Some(n) = normalisation {
        n.apply(&mut pixels, h * w);
    }
    let b = targets.len();
    // [batch, channels, height, width]
    let images = Tensor::<4>::from_data(TensorData::new(pixels, [b, c, h, w]), device);
    // [batch]
    let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [b]), device);
    ImageBatch { images, targets }
}

/// The indices `0..len` in batches of `batch_size` (at least 1), shuffled by
/// `shuffle_seed` when given; the last batch may be smaller.
pub fn index_batches(
    len: usize,
    batch_size: usize,
    shuffle_seed: Option<u64>,
) -> impl Iterator<Item = Vec<usize>> + Send + 'static {
    let mut order: Vec<usize> = (0..len).collect();
    if let Some(seed) = shuffle_seed {
        order.shuffle(&mut StdRng::seed_from_u64(seed));
    }
    let batch_size = batch_size.max(1);
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= order.len() {
            return None;
        }
        let end = (start + batch_size).min(order.len());
        let batch = order[start..end].to_vec();
        start = end;
        Some(batch)
    })
}

impl ImageDataset {
    /// The dataset's indices in batches (see [`index_batches`]): one epoch,
    /// in a fixed order for a given seed, for [`ImageDataset::batch_of`].
    pub fn batches(
        &self,
        batch_size: usize,
        shuffle_seed: Option<u64>,
    ) -> impl Iterator<Item = Vec<usize>> + Send + 'static {
        index_batches(self.len(), batch_size, shuffle_seed)
    }

    /// The images at `indices` as one batch on `device`, optionally
    /// normalised; the pixels are copied once into a single buffer.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`] for an index past the end.
    pub fn batch_of(
        &self,
        indices: &[usize],
        normalisation: Option<&Normalisation>,
        device: &Device,
    ) -> Result<ImageBatch> {
        self.batch_written_by(indices, normalisation, device, |image, pixels| {
            pixels.extend_from_slice(image)
        })
    }

    /// The images at `indices` as one batch on `device`, each image's pixels
    /// appended to the batch's buffer by `write` (a copy, or an augmentation),
    /// then optionally normalised.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`] for an index past the end.
    pub(crate) fn batch_written_by(
        &self,
        indices: &[usize],
        normalisation: Option<&Normalisation>,
        device: &Device,
        mut write: impl FnMut(&[f32], &mut Vec<f32>),
    ) -> Result<ImageBatch> {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_size());
        let mut targets = Vec::with_capacity(indices.len());
        for &i in indices {
            let (Some(image), Some(label)) = (self.image(i), self.label(i)) else {
                return Err(DataError::IndexOutOfRange {
                    index: i,
                    len: self.len(),
                });
            };
            write(image, &mut pixels);
            targets.push(label as i64);
        }
        Ok(to_batch(
            pixels,
            targets,
            self.shape(),
            normalisation,
            device,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::data::dataloader::DataLoaderBuilder;
    use metanas_device::test_device;

    fn dataset() -> ImageDataset {
        // Five 1×2×2 images; image i has pixels i/10 + {0, .01, .02, .03}, label i % 3.
        let pixels = (0..5)
            .flat_map(|i| (0..4).map(move |p| i as f32 / 10.0 + p as f32 / 100.0))
            .collect();
        ImageDataset::new(pixels, (0..5).map(|i| i % 3).collect(), [1, 2, 2], 3).expect("valid")
    }

    #[test]
    fn index_batches_cover_the_epoch_once() {
        let batches: Vec<_> = index_batches(10, 4, Some(5)).collect();
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        let mut all = batches.concat();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(batches, index_batches(10, 4, Some(5)).collect::<Vec<_>>());
        assert_eq!(
            index_batches(3, 2, None).collect::<Vec<_>>(),
            vec![vec![0, 1], vec![2]]
        );
    }

    #[test]
    fn batch_of_builds_tensors_of_the_right_shape_and_values() {
        let device = test_device();
        let d = dataset();
        let batch = d.batch_of(&[4, 1], None, &device).expect("in range");
        assert_eq!(batch.images.dims(), [2, 1, 2, 2]);
        assert_eq!(batch.targets.dims(), [2]);
        let px: Vec<f32> = batch.images.into_data().try_to_vec().expect("f32");
        let want = [0.4, 0.41, 0.42, 0.43, 0.1, 0.11, 0.12, 0.13];
        assert!(
            px.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{px:?}"
        );
        let t: Vec<i64> = batch
            .targets
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .expect("ints");
        assert_eq!(t, vec![1, 1]);
        assert!(matches!(
            d.batch_of(&[5], None, &device),
            Err(DataError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn normalised_batch_has_zero_mean_unit_std() {
        let device = test_device();
        let d = dataset();
        let n = d.normalisation();
        let all: Vec<usize> = (0..d.len()).collect();
        let batch = d.batch_of(&all, Some(&n), &device).expect("in range");
        let px: Vec<f32> = batch.images.into_data().try_to_vec().expect("f32");
        let mean = px.iter().sum::<f32>() / px.len() as f32;
        let var = px.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / px.len() as f32;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
            "{mean} {var}"
        );
    }

    #[test]
    fn burn_data_loader_consumes_the_dataset() {
        let device = test_device();
        let loader = DataLoaderBuilder::new(ImageBatcher::new())
            .batch_size(2)
            .set_device(device.clone())
            .build(dataset());
        let mut seen = 0;
        for batch in loader.iter() {
            let batch = batch.expect("in-memory items never fail");
            let [b, c, h, w] = batch.images.dims();
            assert_eq!([c, h, w], [1, 2, 2]);
            seen += b;
        }
        assert_eq!(seen, 5);
        let item_batch =
            ImageBatcher::new().batch(vec![dataset().item(2).expect("in range")], &device);
        assert_eq!(item_batch.images.dims(), [1, 1, 2, 2]);
    }
}
