//! Reading a whole file, gunzipping it when it starts with the gzip magic bytes.

use crate::error::{DataError, Result};
use flate2::read::MultiGzDecoder;
use std::io::{ErrorKind, Read};
use std::path::Path;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The file's bytes, decompressed when it is gzip (detected by its magic
/// bytes, not by its name).
///
/// # Errors
/// [`DataError::Io`] when the file cannot be read,
/// [`DataError::TruncatedGzip`] when the stream stops early and
/// [`DataError::CorruptGzip`] when it is damaged; both name the compressed
/// byte offset where the decoder stopped.
pub fn read_file_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if raw.starts_with(&GZIP_MAGIC) {
        gunzip(path, &raw)
    } else {
        Ok(raw)
    }
}

/// Decompresses a gzip stream held in memory; `path` only names it in errors.
pub(crate) fn gunzip(path: &Path, compressed: &[u8]) -> Result<Vec<u8>> {
    let mut counter = CountingReader {
        inner: compressed,
        count: 0,
    };
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4));
    let result = MultiGzDecoder::new(&mut counter).read_to_end(&mut out);
    match result {
        Ok(_) => Ok(out),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(DataError::TruncatedGzip {
            path: path.to_path_buf(),
            offset: counter.count,
        }),
        Err(e) => Err(DataError::CorruptGzip {
            path: path.to_path_buf(),
            offset: counter.count,
            reason: e.to_string(),
        }),
    }
}

/// Counts the bytes handed to the decoder, so errors can say where they happened.
struct CountingReader<'a> {
    inner: &'a [u8],
    count: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).expect("in memory");
        enc.finish().expect("in memory")
    }

    fn payload() -> Vec<u8> {
        (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect()
    }

    #[test]
    fn plain_and_gzip_files_read_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let plain = dir.path().join("plain.bin");
        let packed = dir.path().join("packed.bin");
        std::fs::write(&plain, payload()).expect("write");
        std::fs::write(&packed, gzip(&payload())).expect("write");
        assert_eq!(read_file_bytes(&plain).expect("plain"), payload());
        assert_eq!(read_file_bytes(&packed).expect("gzip"), payload());
    }

    #[test]
    fn truncated_gzip_is_a_typed_error_with_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cut.gz");
        let full = gzip(&payload());
        std::fs::write(&path, &full[..full.len() / 2]).expect("write");
        match read_file_bytes(&path) {
            Err(DataError::TruncatedGzip { path: p, offset }) => {
                assert_eq!(p, path);
                assert!(offset > 0 && offset <= full.len() as u64 / 2, "{offset}");
            }
            other => panic!("expected TruncatedGzip, got {other:?}"),
        }
    }

    #[test]
    fn corrupt_gzip_is_a_typed_error_with_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.gz");
        let mut bytes = gzip(&payload());
        // Damage the deflate body and the checksum trailer.
        let n = bytes.len();
        for b in &mut bytes[20..40] {
            *b ^= 0xa5;
        }
        bytes[n - 8] ^= 0xff;
        std::fs::write(&path, &bytes).expect("write");
        match read_file_bytes(&path) {
            Err(DataError::CorruptGzip {
                path: p, reason, ..
            }) => {
                assert_eq!(p, path);
                assert!(!reason.is_empty());
            }
            other => panic!("expected CorruptGzip, got {other:?}"),
        }
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = read_file_bytes(Path::new("/nonexistent/metanas.bin")).expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/metanas.bin"),
            "{err}"
        );
    }
}
