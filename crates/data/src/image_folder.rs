//! Image folders: one sub-folder per class, PNG or JPEG files inside.

use crate::error::{DataError, Result};
use crate::image_dataset::ImageDataset;
use crate::image_file_reading::ImageFileReading;
use std::path::{Path, PathBuf};

/// File extensions read as images (compared case-insensitively).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

impl ImageDataset {
    /// Loads `root/<class>/<image>` files as they are stored (see
    /// [`ImageDataset::from_folder_with`]): every image must have the same
    /// size.
    ///
    /// # Errors
    /// As [`ImageDataset::from_folder_with`].
    pub fn from_folder(root: &Path) -> Result<Self> {
        Self::from_folder_with(root, ImageFileReading::as_stored())
    }

    /// Loads `root/<class>/<image>` files. Classes are the sub-folders,
    /// sorted by name (label `k` is the `k`-th name, kept as the class
    /// names); files with another extension than [`IMAGE_EXTENSIONS`] and
    /// hidden entries are skipped. Grey images give 1 channel, colour images
    /// 3 (alpha is dropped; grey images among colour ones are read as
    /// colour); photos are read upright (their EXIF orientation applied);
    /// pixels are scaled to `[0, 1]`. `reading` may resize every
    /// image to one size, which the dataset then records
    /// ([`ImageDataset::files_resized_to`]) so that a model trained on it can
    /// read new files the same way.
    ///
    /// # Errors
    /// [`DataError::MixedImageSizes`] naming the first image whose size
    /// differs from the first one read (when not resizing),
    /// [`DataError::ImageDecode`] for an unreadable image,
    /// [`DataError::Empty`] when no image is found, and [`DataError::Io`] for
    /// a folder that cannot be listed.
    pub fn from_folder_with(root: &Path, reading: ImageFileReading) -> Result<Self> {
        let classes = sorted_entries(root, |p| p.is_dir())?;
        let mut names = Vec::with_capacity(classes.len());
        let mut files = Vec::new();
        let mut labels = Vec::new();
        for (label, class_dir) in classes.iter().enumerate() {
            names.push(file_name(class_dir));
            let class_files = image_files(class_dir)?;
            labels.extend(std::iter::repeat_n(label, class_files.len()));
            files.extend(class_files);
        }
        let (pixels, shape) = reading.read(&files, root)?;
        Ok(
            Self::from_parts(pixels, labels, shape, names.len(), Some(names))
                .with_files_resized_to(reading.resize_to),
        )
    }
}

/// The image files of `dir` (by [`IMAGE_EXTENSIONS`], not hidden), sorted by name.
pub(crate) fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    sorted_entries(dir, |p| p.is_file() && has_image_extension(p))
}

/// The non-hidden entries of `dir` that pass `keep`, sorted by name.
pub(crate) fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        if !file_name(&path).starts_with('.') && keep(&path) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, RgbImage};

    #[test]
    fn grey_png_folder_loads_back_to_the_same_pixels() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut expected: Vec<(usize, Vec<u8>)> = Vec::new();
        for (label, class) in ["ankle_boot", "bag", "coat"].iter().enumerate() {
            std::fs::create_dir(dir.path().join(class)).expect("mkdir");
            for k in 0..4u8 {
                let raw: Vec<u8> = (0..6 * 5u8)
                    .map(|i| i.wrapping_mul(37).wrapping_add(k * 11 + label as u8))
                    .collect();
                let img = GrayImage::from_raw(5, 6, raw.clone()).expect("size matches");
                img.save(dir.path().join(class).join(format!("{k}.png")))
                    .expect("save png");
                expected.push((label, raw));
            }
        }
        std::fs::write(dir.path().join("bag").join("notes.txt"), "skipped").expect("write");
        let d = ImageDataset::from_folder(dir.path()).expect("loads");
        assert_eq!(d.len(), 12);
        assert_eq!(d.shape(), [1, 6, 5]);
        assert_eq!(d.num_classes(), 3);
        assert_eq!(d.class_names().expect("names")[1], "bag");
        for (i, (label, raw)) in expected.iter().enumerate() {
            assert_eq!(d.label(i), Some(*label));
            let back: Vec<u8> = d
                .image(i)
                .expect("in range")
                .iter()
                .map(|v| (v * 255.0).round() as u8)
                .collect();
            assert_eq!(&back, raw, "image {i}");
        }
    }

    #[test]
    fn rgb_png_is_three_channels_channel_major() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        let img = RgbImage::from_raw(2, 1, vec![255, 0, 51, 0, 102, 255]).expect("size");
        img.save(dir.path().join("a/x.png")).expect("save");
        let d = ImageDataset::from_folder(dir.path()).expect("loads");
        assert_eq!(d.shape(), [3, 1, 2]);
        let px: Vec<f32> = d.pixels().iter().map(|v| (v * 255.0).round()).collect();
        assert_eq!(px, vec![255.0, 0.0, 0.0, 102.0, 51.0, 255.0]);
    }

    #[test]
    fn mixed_sizes_name_the_offending_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        for class in ["a", "b"] {
            std::fs::create_dir(dir.path().join(class)).expect("mkdir");
        }
        GrayImage::new(4, 4)
            .save(dir.path().join("a/0.png"))
            .expect("save");
        GrayImage::new(4, 3)
            .save(dir.path().join("b/0.png"))
            .expect("save");
        match ImageDataset::from_folder(dir.path()) {
            Err(DataError::MixedImageSizes {
                path,
                found,
                first,
                expected,
                ..
            }) => {
                assert_eq!(path, dir.path().join("b/0.png"));
                assert_eq!(first, dir.path().join("a/0.png"));
                assert_eq!((found, expected), ([3, 4], [4, 4]));
            }
            other => panic!("expected MixedImageSizes, got {other:?}"),
        }
    }

    #[test]
    fn a_resized_folder_records_its_size_through_splits() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (label, class) in ["a", "b"].iter().enumerate() {
            std::fs::create_dir(dir.path().join(class)).expect("mkdir");
            for k in 0..5u32 {
                GrayImage::new(4 + k + label as u32, 3 + k)
                    .save(dir.path().join(class).join(format!("{k}.png")))
                    .expect("save");
            }
        }
        let reading = ImageFileReading::resized_to(3, 4).expect("valid size");
        let d = ImageDataset::from_folder_with(dir.path(), reading).expect("loads");
        assert_eq!((d.len(), d.shape()), (10, [1, 3, 4]));
        assert_eq!(d.files_resized_to(), Some([3, 4]));
        for part in d.stratified_split(&[0.6, 0.4], 0).expect("splits") {
            assert_eq!(part.files_resized_to(), Some([3, 4]));
        }
        // The task's description (a search store's key) says so; one read
        // as stored does not.
        let describe = |d: &ImageDataset| {
            crate::FixedTask::new(d, 0.4, 0)
                .expect("task")
                .task()
                .describe()
        };
        assert!(
            describe(&d).ends_with(" resized to 3×4"),
            "{}",
            describe(&d)
        );
        let stored = ImageDataset::new(vec![0.0; 8], vec![0, 1], [1, 2, 2], 2).expect("valid");
        assert!(
            !describe(&stored).contains("resized"),
            "{}",
            describe(&stored)
        );
        assert_eq!(
            ImageDataset::new(vec![0.0; 4], vec![0], [1, 2, 2], 1)
                .expect("valid")
                .files_resized_to(),
            None
        );
    }

    #[test]
    fn corrupt_image_and_empty_folder_are_typed_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            ImageDataset::from_folder(dir.path()),
            Err(DataError::Empty { .. })
        ));
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        std::fs::write(dir.path().join("a/x.png"), b"\x89PNG\r\n\x1a\ngarbage").expect("write");
        assert!(matches!(
            ImageDataset::from_folder(dir.path()),
            Err(DataError::ImageDecode { .. })
        ));
    }
}
