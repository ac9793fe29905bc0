//! Image folders: one sub-folder per class, PNG or JPEG files inside.

use crate::error::{DataError, Result};
use crate::image_dataset::ImageDataset;
use image::{DynamicImage, ImageReader};
use std::path::{Path, PathBuf};

/// File extensions read as images (compared case-insensitively).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

impl ImageDataset {
    /// Loads `root/<class>/<image>` files. Classes are the sub-folders,
    /// sorted by name (label `k` is the `k`-th name, kept as the class
    /// names); files with another extension than [`IMAGE_EXTENSIONS`] and
    /// hidden entries are skipped. Grey images give 1 channel, colour images
    /// 3 (alpha is dropped); pixels are scaled to `[0, 1]`.
    ///
    /// # Errors
    /// [`DataError::MixedImageSizes`] naming the first image whose shape
    /// differs from the first one read, [`DataError::ImageDecode`] for an
    /// unreadable image, [`DataError::Empty`] when no image is found, and
    /// [`DataError::Io`] for a folder that cannot be listed.
    pub fn from_folder(root: &Path) -> Result<Self> {
        let classes = sorted_entries(root, |p| p.is_dir())?;
        let mut names = Vec::with_capacity(classes.len());
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        let mut first: Option<(PathBuf, [usize; 3])> = None;
        for (label, class_dir) in classes.iter().enumerate() {
            names.push(file_name(class_dir));
            let files = image_files(class_dir)?;
            read_images(&files, &mut first, &mut pixels)?;
            labels.extend(std::iter::repeat_n(label, files.len()));
        }
        let Some((_, shape)) = first else {
            return Err(DataError::Empty {
                path: root.to_path_buf(),
            });
        };
        Ok(Self::from_parts(
            pixels,
            labels,
            shape,
            names.len(),
            Some(names),
        ))
    }
}

/// The image files of `dir` (by [`IMAGE_EXTENSIONS`], not hidden), sorted by name.
pub(crate) fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    sorted_entries(dir, |p| p.is_file() && has_image_extension(p))
}

/// Decodes `files` and appends their pixels (`[0, 1]`, channel-major) to
/// `pixels`. Every image must have the shape of `first` (the first image
/// read, set by the first call).
///
/// # Errors
/// [`DataError::MixedImageSizes`] naming the first image of another shape,
/// [`DataError::ImageDecode`] and [`DataError::Io`].
pub(crate) fn read_images(
    files: &[PathBuf],
    first: &mut Option<(PathBuf, [usize; 3])>,
    pixels: &mut Vec<f32>,
) -> Result<()> {
    for file in files {
        let image = decode(file)?;
        let shape = shape_of(&image);
        match first {
            None => *first = Some((file.clone(), shape)),
            Some((first_path, expected)) if *expected != shape => {
                return Err(DataError::MixedImageSizes {
                    path: file.clone(),
                    found: shape,
                    first: first_path.clone(),
                    expected: *expected,
                });
            }
            Some(_) => {}
        }
        push_chw(&image, shape, pixels);
    }
    Ok(())
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

fn decode(path: &Path) -> Result<DynamicImage> {
    let decode_error = |reason: String| DataError::ImageDecode {
        path: path.to_path_buf(),
        reason,
    };
    ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| decode_error(e.to_string()))?
        .decode()
        .map_err(|e| decode_error(e.to_string()))
}

/// `[C, H, W]`: 1 channel for grey images, 3 for colour ones.
fn shape_of(image: &DynamicImage) -> [usize; 3] {
    let channels = if image.color().has_color() { 3 } else { 1 };
    [channels, image.height() as usize, image.width() as usize]
}

/// Appends the image's pixels in `[0, 1]`, channel-major.
fn push_chw(image: &DynamicImage, [c, h, w]: [usize; 3], out: &mut Vec<f32>) {
    if c == 1 {
        out.extend_from_slice(image.to_luma32f().as_raw());
    } else {
        let rgb = image.to_rgb32f();
        let raw = rgb.as_raw();
        for channel in 0..3 {
            out.extend((0..h * w).map(|p| raw[p * 3 + channel]));
        }
    }
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
            }) => {
                assert_eq!(path, dir.path().join("b/0.png"));
                assert_eq!(first, dir.path().join("a/0.png"));
                assert_eq!((found, expected), ([1, 3, 4], [1, 4, 4]));
            }
            other => panic!("expected MixedImageSizes, got {other:?}"),
        }
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
