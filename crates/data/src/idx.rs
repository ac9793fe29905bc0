//! The IDX format of MNIST and Fashion-MNIST (gzip or raw).
//!
//! A file is a 4-byte magic `[0, 0, type, ndims]`, `ndims` big-endian `u32`
//! dimensions, then the values. Only unsigned bytes (`type = 0x08`) are used by
//! image datasets and only they are read here.

use crate::error::{DataError, Result};
use crate::file_bytes::read_file_bytes;
use crate::image_dataset::ImageDataset;
use std::path::Path;

/// The IDX type code of unsigned bytes.
const IDX_U8: u8 = 0x08;

/// The content of an IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (e.g. `[10000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// Reads an IDX file of unsigned bytes, gzip-compressed or not.
    ///
    /// # Errors
    /// [`DataError::IdxMagic`] for a wrong magic number,
    /// [`DataError::IdxLength`] when the body does not match the header, and
    /// the errors of [`crate::read_file_bytes`].
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = read_file_bytes(path)?;
        Self::parse(path, &bytes)
    }

    /// Parses IDX bytes; `path` only names the source in errors.
    ///
    /// # Errors
    /// As [`IdxArray::read`].
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let mut magic = [0u8; 4];
        for (m, b) in magic.iter_mut().zip(bytes) {
            *m = *b;
        }
        if bytes.len() < 4 || magic[0] != 0 || magic[1] != 0 || magic[2] != IDX_U8 || magic[3] == 0
        {
            return Err(DataError::IdxMagic {
                path: path.to_path_buf(),
                found: magic,
            });
        }
        let ndims = usize::from(magic[3]);
        let header = 4 + 4 * ndims;
        let dims_bytes = bytes.get(4..header).ok_or_else(|| DataError::IdxLayout {
            path: path.to_path_buf(),
            reason: format!(
                "header announces {ndims} dimensions but the file has only {} bytes",
                bytes.len()
            ),
        })?;
        let dims: Vec<usize> = dims_bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
            .collect();
        let expected = dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| DataError::IdxLayout {
                path: path.to_path_buf(),
                reason: format!("dimensions {dims:?} overflow"),
            })?;
        let body = &bytes[header..];
        if body.len() != expected {
            return Err(DataError::IdxLength {
                path: path.to_path_buf(),
                expected,
                found: body.len(),
            });
        }
        Ok(Self {
            dims,
            data: body.to_vec(),
        })
    }
}

impl ImageDataset {
    /// Loads an IDX image file (`[N, H, W]`, grey) and its label file (`[N]`),
    /// each gzip-compressed or raw. Pixels become `value / 255`; images are
    /// `[1, H, W]`; `num_classes` is the largest label plus one.
    ///
    /// # Errors
    /// [`DataError::CountMismatch`] when the files hold different numbers of
    /// examples, [`DataError::IdxLayout`] for wrong dimensions, and the
    /// errors of [`IdxArray::read`].
    pub fn from_idx(images: &Path, labels: &Path) -> Result<Self> {
        let img = IdxArray::read(images)?;
        let lab = IdxArray::read(labels)?;
        let &[n, h, w] = img.dims.as_slice() else {
            return Err(DataError::IdxLayout {
                path: images.to_path_buf(),
                reason: format!(
                    "expected images as [N, H, W], found dimensions {:?}",
                    img.dims
                ),
            });
        };
        let &[m] = lab.dims.as_slice() else {
            return Err(DataError::IdxLayout {
                path: labels.to_path_buf(),
                reason: format!("expected labels as [N], found dimensions {:?}", lab.dims),
            });
        };
        if n != m {
            return Err(DataError::CountMismatch {
                images: images.to_path_buf(),
                labels: labels.to_path_buf(),
                image_count: n,
                label_count: m,
            });
        }
        if n == 0 {
            return Err(DataError::Empty {
                path: images.to_path_buf(),
            });
        }
        if h == 0 || w == 0 {
            return Err(DataError::IdxLayout {
                path: images.to_path_buf(),
                reason: format!("images of size {h}×{w}"),
            });
        }
        let labels: Vec<usize> = lab.data.iter().map(|&l| usize::from(l)).collect();
        let num_classes = labels.iter().max().map_or(0, |m| m + 1);
        let pixels = img.data.iter().map(|&p| f32::from(p) / 255.0).collect();
        Ok(Self::from_parts(
            pixels,
            labels,
            [1, h, w],
            num_classes,
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets_dir::datasets_dir;

    /// The IDX bytes of `dims` and `data`.
    pub(crate) fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, IDX_U8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn fashion_mnist_test_set_is_10k_images_1k_per_class() {
        let dir = datasets_dir()
            .expect("datasets folder")
            .join("fashion-mnist");
        let d = ImageDataset::from_idx(
            &dir.join("t10k-images-idx3-ubyte.gz"),
            &dir.join("t10k-labels-idx1-ubyte.gz"),
        )
        .expect("Fashion-MNIST loads");
        assert_eq!(d.len(), 10_000);
        assert_eq!(d.shape(), [1, 28, 28]);
        assert_eq!(d.num_classes(), 10);
        assert_eq!(d.class_counts(), vec![1_000; 10]);
        assert!(d.pixels().iter().all(|p| (0.0..=1.0).contains(p)));
        // Mean pixel of the Fashion-MNIST test set (Python: sum(bytes[16:]) / len / 255 = 0.286849).
        let n = d.normalisation();
        assert!((n.mean[0] - 0.286_849).abs() < 1e-4, "{:?}", n);
    }

    #[test]
    fn mnist_file_holds_10k_digits_of_10_classes() {
        let dir = datasets_dir().expect("datasets folder").join("mnist");
        let d = ImageDataset::from_idx(
            &dir.join("images-idx3-ubyte.gz"),
            &dir.join("labels-idx1-ubyte.gz"),
        )
        .expect("MNIST loads");
        assert_eq!(d.len(), 10_000);
        assert_eq!(d.shape(), [1, 28, 28]);
        assert_eq!(d.num_classes(), 10);
        assert!(d.class_counts().iter().all(|&c| c > 0));
    }

    #[test]
    fn raw_idx_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (imgs, labs) = (dir.path().join("i.idx"), dir.path().join("l.idx"));
        std::fs::write(&imgs, idx_bytes(&[2, 1, 2], &[0, 255, 51, 102])).expect("write");
        std::fs::write(&labs, idx_bytes(&[2], &[1, 0])).expect("write");
        let d = ImageDataset::from_idx(&imgs, &labs).expect("loads");
        assert_eq!(d.shape(), [1, 1, 2]);
        assert_eq!(d.labels(), &[1, 0]);
        assert_eq!(d.pixels(), &[0.0, 1.0, 0.2, 0.4]);
    }

    #[test]
    fn wrong_magic_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.idx");
        let mut bytes = idx_bytes(&[1, 1, 1], &[0]);
        bytes[2] = 0x0d; // float type: not images of bytes
        std::fs::write(&path, &bytes).expect("write");
        match IdxArray::read(&path) {
            Err(DataError::IdxMagic { path: p, found }) => {
                assert_eq!(p, path);
                assert_eq!(found, [0, 0, 0x0d, 3]);
            }
            other => panic!("expected IdxMagic, got {other:?}"),
        }
        std::fs::write(&path, b"PK\x03\x04 not idx").expect("write");
        assert!(matches!(
            IdxArray::read(&path),
            Err(DataError::IdxMagic { .. })
        ));
    }

    #[test]
    fn short_body_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("short.idx");
        std::fs::write(&path, idx_bytes(&[2, 2, 2], &[0; 7])).expect("write");
        assert!(matches!(
            IdxArray::read(&path),
            Err(DataError::IdxLength {
                expected: 8,
                found: 7,
                ..
            })
        ));
    }

    #[test]
    fn image_label_count_mismatch_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (imgs, labs) = (dir.path().join("i.idx"), dir.path().join("l.idx"));
        std::fs::write(&imgs, idx_bytes(&[3, 1, 1], &[0, 1, 2])).expect("write");
        std::fs::write(&labs, idx_bytes(&[2], &[0, 1])).expect("write");
        match ImageDataset::from_idx(&imgs, &labs) {
            Err(DataError::CountMismatch {
                images,
                labels,
                image_count: 3,
                label_count: 2,
            }) => {
                assert_eq!((images, labels), (imgs, labs));
            }
            other => panic!("expected CountMismatch, got {other:?}"),
        }
    }
}
