//! The idx format of MNIST-style data sets, raw or gzip-compressed (`.gz`, as the files are
//! published), read with every size checked before anything is allocated.
//!
//! An idx file is a big-endian header (magic `0x0000 08 D`: unsigned bytes, `D` axes; then `D`
//! sizes as u32) followed by the values. Images are `idx3` (count, rows, columns), labels
//! `idx1` (count).
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use crate::{Error, Result};

/// Magic number of an idx file of unsigned bytes with three axes (images).
pub const IMAGES_MAGIC: u32 = 0x0803;
/// Magic number of an idx file of unsigned bytes with one axis (labels).
pub const LABELS_MAGIC: u32 = 0x0801;
/// The largest payload read from one idx file: 4 GiB (MNIST's training images are 47 MB).
pub const MAX_IDX_BYTES: u64 = 1 << 32;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn data_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data { path: path.to_path_buf(), message: message.into() }
}

/// `path`, or `path.gz` when only the compressed file exists.
pub fn resolve(path: &Path) -> PathBuf {
    if !path.exists() {
        let mut gz = path.as_os_str().to_owned();
        gz.push(".gz");
        let gz = PathBuf::from(gz);
        if gz.exists() {
            return gz;
        }
    }
    path.to_path_buf()
}

/// Reads one idx file of unsigned bytes with `dims` axes: its sizes and values.
fn read_idx(path: &Path, magic: u32, dims: usize, hint: &str) -> Result<(Vec<u64>, Vec<u8>)> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => data_error(path, format!("missing; {hint}")),
        _ => Error::io(path, e),
    })?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut reader = BufReader::new(file);
    let mut start = [0u8; 2];
    let got = read_up_to(&mut reader, &mut start).map_err(|e| Error::io(path, e))?;
    let gzipped = got == 2 && start == GZIP_MAGIC;
    let rest = std::io::Cursor::new(start[..got].to_vec()).chain(reader);
    let mut input: Box<dyn Read> = if gzipped { Box::new(flate2::read::GzDecoder::new(rest)) } else { Box::new(rest) };
    let unreadable = |e: std::io::Error| {
        if gzipped {
            data_error(
                path,
                format!("is gzip-compressed but could not be decompressed ({e}); check it with `gunzip -t`; {hint}"),
            )
        } else {
            Error::io(path, e)
        }
    };
    let (sizes, payload) = read_header(&mut input, path, (magic, dims), hint).map_err(|e| match e {
        HeaderError::Io(e) => unreadable(e),
        HeaderError::Data(e) => e,
    })?;
    let header_len = 4 + 4 * dims;
    let header_bytes = header_len as u64;
    if !gzipped && file_len != header_bytes + payload {
        return Err(data_error(
            path,
            format!(
                "truncated or padded: {file_len} bytes, the header (sizes {sizes:?}) announces {}; {hint}",
                header_bytes + payload
            ),
        ));
    }
    // Read at most one byte more than announced, so trailing data is noticed; the buffer grows
    // with the data actually present, never to the announced size up front.
    let mut values = Vec::new();
    input.take(payload + 1).read_to_end(&mut values).map_err(unreadable)?;
    if values.len() as u64 != payload {
        let what = if (values.len() as u64) < payload { "truncated" } else { "padded" };
        return Err(data_error(
            path,
            format!(
                "{what}: it holds {} bytes of values, the header (sizes {sizes:?}) announces {payload}; {hint}",
                values.len()
            ),
        ));
    }
    Ok((sizes, values))
}

/// Why an idx header could not be read.
enum HeaderError {
    Io(std::io::Error),
    Data(Error),
}

impl From<Error> for HeaderError {
    fn from(e: Error) -> Self {
        HeaderError::Data(e)
    }
}

/// Reads and checks the header (magic number and `dims` sizes); returns the sizes and the
/// number of value bytes they announce.
fn read_header(
    input: &mut dyn Read,
    path: &Path,
    (magic, dims): (u32, usize),
    hint: &str,
) -> std::result::Result<(Vec<u64>, u64), HeaderError> {
    let header_len = 4 + 4 * dims;
    let mut header = vec![0u8; header_len];
    let got = read_up_to(input, &mut header).map_err(HeaderError::Io)?;
    if got < header_len {
        return Err(HeaderError::Data(data_error(
            path,
            format!("truncated ({got} bytes, not even an idx header); {hint}"),
        )));
    }
    let word = |i: usize| u32::from_be_bytes([header[4 * i], header[4 * i + 1], header[4 * i + 2], header[4 * i + 3]]);
    if word(0) != magic {
        return Err(HeaderError::Data(data_error(
            path,
            format!("not an idx file of this kind (magic {:#010x}, expected {magic:#010x}); {hint}", word(0)),
        )));
    }
    let sizes: Vec<u64> = (1..=dims).map(|i| u64::from(word(i))).collect();
    let payload = sizes.iter().try_fold(1u64, |n, &d| n.checked_mul(d)).filter(|&n| n <= MAX_IDX_BYTES);
    let Some(payload) = payload else {
        return Err(HeaderError::Data(data_error(
            path,
            format!(
                "its header announces sizes {sizes:?}, more than {MAX_IDX_BYTES} bytes; the file is damaged; {hint}"
            ),
        )));
    };
    Ok((sizes, payload))
}

/// Fills as much of `buf` as the reader gives; returns how many bytes were read.
fn read_up_to(reader: &mut (impl Read + ?Sized), buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn to_i64(path: &Path, n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| data_error(path, format!("size {n} is too large")))
}

/// Reads an idx3 image file (raw or gzip-compressed): images as `[N, rows * cols]` floats in
/// `[0, 1]` (pixels / 255, as `tch::vision::mnist`), and `[rows, cols]`. `hint` ends every
/// error message (say how to get the file).
pub fn read_images(path: &Path, hint: &str) -> Result<(Tensor, [i64; 2])> {
    let (sizes, values) = read_idx(path, IMAGES_MAGIC, 3, hint)?;
    let [n, rows, cols] = [sizes[0], sizes[1], sizes[2]];
    if rows == 0 || cols == 0 {
        return Err(data_error(path, format!("images of {rows}x{cols} pixels: the file is damaged; {hint}")));
    }
    let pixels = rows.checked_mul(cols).filter(|&p| p <= MAX_IDX_BYTES).ok_or_else(|| {
        data_error(path, format!("images of {rows}x{cols} pixels are too large: the file is damaged; {hint}"))
    })?;
    let (n, rows, cols, pixels) = (to_i64(path, n)?, to_i64(path, rows)?, to_i64(path, cols)?, to_i64(path, pixels)?);
    let images =
        Tensor::f_from_data_size(&values, &[n, pixels], Kind::Uint8)?.f_to_kind(Kind::Float)?.f_div_scalar(255.0)?;
    Ok((images, [rows, cols]))
}

/// Reads an idx1 label file (raw or gzip-compressed): labels as `[N]` int64.
pub fn read_labels(path: &Path, hint: &str) -> Result<Tensor> {
    let (sizes, values) = read_idx(path, LABELS_MAGIC, 1, hint)?;
    let n = to_i64(path, sizes[0])?;
    Ok(Tensor::f_from_data_size(&values, &[n], Kind::Uint8)?.f_to_kind(Kind::Int64)?)
}
