//! How PNG/JPEG files become images of one `[C, H, W]` shape: grey among
//! colour, and sizes that differ.

use crate::error::{DataError, Result};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The longest side [`ImageFileReading::resized_to`] accepts: a dataset of
/// many images of this size already fills gigabytes.
pub const MAX_RESIZED_SIDE: usize = 1024;

/// How a set of image files is read into images of one shape.
///
/// Channels: when any file has colour, every image is read with three
/// channels (a grey file's value in each), otherwise with one; `colour`
/// asks for three channels even when every file is grey (a model that takes
/// colour images). Size: every image resized to `resize_to` (`[height,
/// width]`, bilinear, averaging over the pixels a shrunk one covers), or,
/// without it, every file must have the same size. A file's orientation tag
/// (EXIF, as cameras write it) is applied first, so that a photo is read
/// upright, as a viewer shows it; its size is the upright one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFileReading {
    /// Resize every image to `[height, width]`; `None` reads them as they are.
    pub resize_to: Option<[usize; 2]>,
    /// Three channels even when every file is grey.
    pub colour: bool,
}

impl ImageFileReading {
    /// Files read as they are (one size, channels as the files have them).
    pub fn as_stored() -> Self {
        Self::default()
    }

    /// Every image resized to `[height, width]`.
    ///
    /// # Errors
    /// [`DataError::InvalidDataset`] when a side is zero or above
    /// [`MAX_RESIZED_SIDE`].
    pub fn resized_to(height: usize, width: usize) -> Result<Self> {
        if height == 0 || width == 0 {
            return Err(DataError::InvalidDataset(format!(
                "cannot resize images to {height}×{width}: both sides must be at least 1"
            )));
        }
        if height.max(width) > MAX_RESIZED_SIDE {
            return Err(DataError::InvalidDataset(format!(
                "cannot resize images to {height}×{width}: a side may be at most {MAX_RESIZED_SIDE} pixels (every image is held in memory at this size, and a network is trained at it)"
            )));
        }
        Ok(Self {
            resize_to: Some([height, width]),
            colour: false,
        })
    }

    /// The same reading, with three channels even for grey files.
    pub fn with_colour(mut self, colour: bool) -> Self {
        self.colour = colour;
        self
    }

    /// Decodes `files` into pixels in `[0, 1]`, channel-major, image after
    /// image, and returns them with their common `[C, H, W]`.
    ///
    /// Every file's header is read first, so a set of mixed sizes is refused
    /// before anything is decoded.
    ///
    /// # Errors
    /// [`DataError::MixedImageSizes`] naming the first file whose size
    /// differs from the first one's (without `resize_to`),
    /// [`DataError::ImageDecode`] for a file that is not a readable image,
    /// [`DataError::Empty`] for no file (named by `source`), and
    /// [`DataError::Io`].
    pub fn read(&self, files: &[PathBuf], source: &Path) -> Result<(Vec<f32>, [usize; 3])> {
        let mut colour = self.colour;
        let mut first: Option<(&PathBuf, [usize; 2])> = None;
        for file in files {
            let header = Header::of(file)?;
            colour |= header.colour;
            match first {
                None => first = Some((file, header.size)),
                Some((first_file, size)) if self.resize_to.is_none() && size != header.size => {
                    return Err(DataError::MixedImageSizes {
                        path: file.clone(),
                        found: header.size,
                        first: first_file.clone(),
                        expected: size,
                        files: files.len(),
                    });
                }
                Some(_) => {}
            }
        }
        let Some((_, stored)) = first else {
            return Err(DataError::Empty {
                path: source.to_path_buf(),
            });
        };
        let [h, w] = self.resize_to.unwrap_or(stored);
        let shape = [if colour { 3 } else { 1 }, h, w];
        let mut pixels = Vec::with_capacity(files.len() * shape.iter().product::<usize>());
        for file in files {
            let mut image = decode(file)?;
            if [image.height() as usize, image.width() as usize] != [h, w] {
                image = image.resize_exact(
                    u32::try_from(w).unwrap_or(u32::MAX),
                    u32::try_from(h).unwrap_or(u32::MAX),
                    FilterType::Triangle,
                );
            }
            push_chw(&image, shape, &mut pixels);
        }
        Ok((pixels, shape))
    }
}

/// What a file's header says, read without decoding the pixels.
struct Header {
    colour: bool,
    /// `[height, width]`.
    size: [usize; 2],
}

impl Header {
    fn of(path: &Path) -> Result<Self> {
        let mut decoder = reader(path)?
            .into_decoder()
            .map_err(|e| decode_error(path, e.to_string()))?;
        let orientation = decoder
            .orientation()
            .map_err(|e| decode_error(path, e.to_string()))?;
        let (width, height) = decoder.dimensions();
        let [height, width] = [height as usize, width as usize];
        Ok(Self {
            colour: decoder.color_type().has_color(),
            size: if turns_sideways(orientation) {
                [width, height]
            } else {
                [height, width]
            },
        })
    }
}

/// Whether applying `orientation` swaps the stored height and width.
fn turns_sideways(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn reader(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| decode_error(path, e.to_string()))
}

/// The file's image, upright (its orientation tag applied).
fn decode(path: &Path) -> Result<DynamicImage> {
    let failed = |e: image::ImageError| decode_error(path, e.to_string());
    let mut decoder = reader(path)?.into_decoder().map_err(failed)?;
    let orientation = decoder.orientation().map_err(failed)?;
    // The allocation limits that `ImageReader::decode` keeps (512 MiB, the
    // decoded image counted against them): a huge file is refused instead
    // of filling the memory.
    let mut limits = image::Limits::default();
    limits.reserve(decoder.total_bytes()).map_err(failed)?;
    decoder.set_limits(limits).map_err(failed)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(failed)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn decode_error(path: &Path, reason: String) -> DataError {
    DataError::ImageDecode {
        path: path.to_path_buf(),
        reason,
    }
}

/// Appends the image's pixels in `[0, 1]`, channel-major, as `shape`'s
/// channels (1: grey; 3: colour, a grey image's value in each).
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

    fn save_grey(dir: &Path, name: &str, width: u32, height: u32, value: u8) -> PathBuf {
        let path = dir.join(name);
        GrayImage::from_pixel(width, height, image::Luma([value]))
            .save(&path)
            .expect("save");
        path
    }

    #[test]
    fn grey_files_among_colour_ones_read_as_colour() {
        let dir = tempfile::tempdir().expect("temp dir");
        let grey = save_grey(dir.path(), "a.png", 2, 1, 51);
        let colour = dir.path().join("b.png");
        RgbImage::from_raw(2, 1, vec![255, 0, 102, 0, 255, 0])
            .expect("size")
            .save(&colour)
            .expect("save");
        let (pixels, shape) = ImageFileReading::as_stored()
            .read(&[grey.clone(), colour], dir.path())
            .expect("reads");
        assert_eq!(shape, [3, 1, 2]);
        let bytes: Vec<f32> = pixels.iter().map(|v| (v * 255.0).round()).collect();
        assert_eq!(
            bytes,
            vec![
                51.0, 51.0, 51.0, 51.0, 51.0, 51.0, // the grey file in each channel
                255.0, 0.0, 0.0, 255.0, 102.0, 0.0, // the colour file, channel-major
            ]
        );
        let (_, shape) = ImageFileReading::as_stored()
            .read(std::slice::from_ref(&grey), dir.path())
            .expect("reads");
        assert_eq!(shape, [1, 1, 2], "grey files alone stay grey");
        let (pixels, shape) = ImageFileReading::as_stored()
            .with_colour(true)
            .read(&[grey], dir.path())
            .expect("reads");
        assert_eq!((shape, pixels.len()), ([3, 1, 2], 6));
    }

    #[test]
    fn mixed_sizes_are_refused_unless_resized_and_resizing_averages() {
        let dir = tempfile::tempdir().expect("temp dir");
        let small = save_grey(dir.path(), "small.png", 3, 2, 200);
        // A 6×4 checkerboard of 0 and 255: shrunk to 3×2, every pixel averages both.
        let board = dir.path().join("board.png");
        GrayImage::from_fn(6, 4, |x, y| {
            image::Luma([if (x + y) % 2 == 0 { 255 } else { 0 }])
        })
        .save(&board)
        .expect("save");
        let files = [small, board.clone()];
        match ImageFileReading::as_stored().read(&files, dir.path()) {
            Err(error @ DataError::MixedImageSizes { .. }) => {
                let message = error.to_string();
                assert!(
                    message.contains("board.png") && message.contains("4×6"),
                    "{message}"
                );
                assert!(
                    message.contains("2×3") && message.contains("resize"),
                    "{message}"
                );
            }
            other => panic!("expected MixedImageSizes, got {other:?}"),
        }
        let (pixels, shape) = ImageFileReading::resized_to(2, 3)
            .expect("valid size")
            .read(&files, dir.path())
            .expect("reads");
        assert_eq!(shape, [1, 2, 3]);
        let (first, second) = pixels.split_at(6);
        assert!(
            first.iter().all(|&v| (v - 200.0 / 255.0).abs() < 1e-6),
            "{first:?}"
        );
        assert!(
            second.iter().all(|&v| (v - 0.5).abs() < 0.2),
            "a shrunk checkerboard is grey, not aliased: {second:?}"
        );
        assert!(matches!(
            ImageFileReading::resized_to(0, 3),
            Err(DataError::InvalidDataset(_))
        ));
    }

    /// A little-endian EXIF (TIFF) block with one entry: the orientation tag.
    fn exif_orientation(value: u16) -> Vec<u8> {
        let mut exif = b"II*\0".to_vec();
        exif.extend(8u32.to_le_bytes()); // the first directory follows the header
        exif.extend(1u16.to_le_bytes()); // one entry
        exif.extend(0x0112u16.to_le_bytes()); // Orientation
        exif.extend(3u16.to_le_bytes()); // SHORT
        exif.extend(1u32.to_le_bytes()); // one value
        exif.extend(value.to_le_bytes());
        exif.extend(0u16.to_le_bytes()); // padding of the value field
        exif.extend(0u32.to_le_bytes()); // no next directory
        exif
    }

    /// Encodes a grey image of `width × height` tagged 6, "turn 90°
    /// clockwise to view", as a phone held upright writes it.
    fn encode_turned(mut encoder: impl image::ImageEncoder, grey: &[u8], width: u32, height: u32) {
        encoder
            .set_exif_metadata(exif_orientation(6))
            .expect("the format takes EXIF");
        encoder
            .write_image(grey, width, height, image::ExtendedColorType::L8)
            .expect("encode");
    }

    #[test]
    fn a_photo_tagged_as_turned_is_read_upright() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Stored 3 wide, 2 high: rows [10 20 30], [40 50 60]; tagged 6.
        let stored = [10u8, 20, 30, 40, 50, 60];
        let path = dir.path().join("turned.png");
        let mut bytes = Vec::new();
        encode_turned(
            image::codecs::png::PngEncoder::new(&mut bytes),
            &stored,
            3,
            2,
        );
        std::fs::write(&path, bytes).expect("write");
        let plain = save_grey(dir.path(), "plain.png", 2, 3, 0);
        let (pixels, shape) = ImageFileReading::as_stored()
            .read(&[path, plain], dir.path())
            .expect("both are 3 high and 2 wide once upright");
        assert_eq!(shape, [1, 3, 2]);
        let upright: Vec<u8> = pixels[..6]
            .iter()
            .map(|v| (v * 255.0).round() as u8)
            .collect();
        assert_eq!(upright, [40, 10, 50, 20, 60, 30]);
    }

    #[test]
    fn the_orientations_that_turn_a_photo_sideways_swap_its_sides() {
        let stored = DynamicImage::ImageLuma8(image::GrayImage::new(3, 2));
        for tag in 1..=8 {
            let orientation = Orientation::from_exif(tag).expect("a tag of 1 to 8");
            let mut upright = stored.clone();
            upright.apply_orientation(orientation);
            let swapped = (upright.width(), upright.height()) == (2, 3);
            assert_eq!(turns_sideways(orientation), swapped, "tag {tag}");
        }
    }

    #[test]
    fn a_jpeg_tagged_as_turned_is_read_upright() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("turned.jpg");
        let mut bytes = Vec::new();
        let jpeg = image::codecs::jpeg::JpegEncoder::new(&mut bytes);
        encode_turned(jpeg, &[128u8; 24 * 16], 24, 16);
        std::fs::write(&path, bytes).expect("write");
        let (_, shape) = ImageFileReading::as_stored()
            .read(&[path], dir.path())
            .expect("reads");
        assert_eq!(shape, [1, 24, 16]);
    }

    #[test]
    fn a_resize_to_a_huge_size_is_refused() {
        assert!(ImageFileReading::resized_to(MAX_RESIZED_SIDE, 32).is_ok());
        let message = ImageFileReading::resized_to(50_000, 50_000)
            .expect_err("too large")
            .to_string();
        assert!(message.contains("at most 1024"), "{message}");
    }

    #[test]
    fn no_file_and_a_corrupt_file_are_typed_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            ImageFileReading::as_stored().read(&[], dir.path()),
            Err(DataError::Empty { .. })
        ));
        let corrupt = dir.path().join("x.png");
        std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\ngarbage").expect("write");
        assert!(matches!(
            ImageFileReading::as_stored().read(&[corrupt], dir.path()),
            Err(DataError::ImageDecode { .. })
        ));
    }
}
