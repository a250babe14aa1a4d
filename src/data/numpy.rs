//! NumPy's `.npy` and `.npz` files, for data prepared in Python (`np.save`, `np.savez`,
//! `np.savez_compressed`).
//!
//! `tch::Tensor::read_npy` trusts the file: a truncated `.npy` makes LibTorch copy past the end
//! of the buffer, and a damaged `.npz` entry panics. These readers check the header and the
//! data length first and return an [`Error::DataFormat`] instead; they accept format versions
//! 1 to 3, little-endian or byte-order-free types (`bool`, `uint8`, `int8`, `int16`, `int32`,
//! `int64`, `float16`, `float32`, `float64`, `complex64`, `complex128`) and Fortran order
//! (transposed back into a contiguous tensor).
//!
//! ```no_run
//! use tch_keras::data::numpy;
//!
//! // In Python: np.savez("train.npz", x=x.astype("float32"), y=y)
//! let npz = numpy::read_npz("train.npz")?;
//! let (x, y) = (npz.get("x")?, npz.get("y")?);
//! # Ok::<(), tch_keras::Error>(())
//! ```
use std::io::Read;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use crate::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";
/// Headers are a few hundred bytes; anything larger is a damaged file.
const MAX_HEADER: usize = 1 << 20;

fn format_error(path: &Path, message: impl Into<String>) -> Error {
    Error::DataFormat { path: path.to_path_buf(), line: None, column: None, message: message.into() }
}

/// The parsed header of an array.
#[derive(Debug)]
struct Header {
    kind: Kind,
    fortran_order: bool,
    shape: Vec<i64>,
}

/// The quoted or bare value after `'key':` in a Python dict literal.
fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let start = dict.find(&format!("'{key}'")).or_else(|| dict.find(&format!("\"{key}\"")))? + key.len() + 2;
    let rest = dict[start..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
        rest[1..].find(q)? + 2
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

fn parse_descr(descr: &str) -> std::result::Result<Kind, String> {
    let (order, code) = match descr.as_bytes().first() {
        Some(b'<' | b'|' | b'=') => (descr.as_bytes()[0], &descr[1..]),
        Some(b'>') => (b'>', &descr[1..]),
        _ => (b'=', descr),
    };
    let kind = match code {
        "b1" | "?" => Kind::Bool,
        "u1" | "B" => Kind::Uint8,
        "i1" | "b" => Kind::Int8,
        "i2" | "h" => Kind::Int16,
        "i4" | "i" => Kind::Int,
        "i8" | "q" | "l" => Kind::Int64,
        "f2" | "e" => Kind::Half,
        "f4" | "f" => Kind::Float,
        "f8" | "d" => Kind::Double,
        "c8" | "F" => Kind::ComplexFloat,
        "c16" | "D" => Kind::ComplexDouble,
        "O" => return Err("holds Python objects (dtype object): save a numeric array instead".into()),
        _ => {
            return Err(format!(
                "dtype '{descr}' is not supported: save bool, uint8, int8/16/32/64, float16/32/64 or complex \
                 arrays (structured, string, unsigned 16-64 bit and datetime arrays have no LibTorch type)"
            ))
        }
    };
    if order == b'>' && kind.elt_size_in_bytes() > 1 {
        return Err(format!(
            "dtype '{descr}' is big-endian: convert it in Python with arr.astype(arr.dtype.newbyteorder('<'))"
        ));
    }
    Ok(kind)
}

fn parse_header(dict: &str) -> std::result::Result<Header, String> {
    let descr = dict_value(dict, "descr").ok_or("the header has no 'descr' entry")?;
    if descr.starts_with('[') {
        return Err("structured dtypes (record arrays) are not supported: save one array per field".into());
    }
    let kind = parse_descr(descr.trim_matches(['\'', '"']))?;
    let fortran_order = match dict_value(dict, "fortran_order").ok_or("the header has no 'fortran_order' entry")? {
        "True" => true,
        "False" => false,
        other => return Err(format!("fortran_order is '{other}', not True or False")),
    };
    let shape_text = dict_value(dict, "shape").ok_or("the header has no 'shape' entry")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("shape '{shape_text}' is not a tuple"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<i64>().ok().filter(|d| *d >= 0))
        .collect::<Option<Vec<i64>>>()
        .ok_or_else(|| format!("shape '{shape_text}' is not a tuple of non-negative integers"))?;
    Ok(Header { kind, fortran_order, shape })
}

/// Where an array is read from, for error messages and for reading errors: a `.npy` file, or
/// one array of an `.npz` archive.
struct Source<'a> {
    path: &'a Path,
    /// The array's name inside an `.npz`.
    entry: Option<&'a str>,
}

impl Source<'_> {
    fn error(&self, message: impl std::fmt::Display) -> Error {
        match self.entry {
            Some(e) => format_error(self.path, format!("array '{e}': {message}")),
            None => format_error(self.path, message.to_string()),
        }
    }

    /// A failed read: a decompression error inside an `.npz`, an I/O error for a file.
    fn read_error(&self, e: std::io::Error) -> Error {
        match self.entry {
            Some(_) => self.error(format!("could not be decompressed: {e}")),
            None => Error::io(self.path, e),
        }
    }
}

/// Reads at most `n` bytes of `input`: fewer only where it ends first.
fn read_up_to(input: &mut impl Read, n: u64, capacity: usize, src: &Source) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(capacity);
    input.take(n).read_to_end(&mut bytes).map_err(|e| src.read_error(e))?;
    Ok(bytes)
}

/// Reads and parses the header of a `.npy` array, at most [`MAX_HEADER`] bytes of it; returns
/// it with the number of bytes it took.
fn read_header(input: &mut impl Read, src: &Source) -> Result<(Header, u64)> {
    let start = read_up_to(input, MAGIC.len() as u64 + 2, 8, src)?;
    if !start.starts_with(MAGIC) {
        return Err(src.error("not a .npy array (no \\x93NUMPY magic string); write it with numpy.save"));
    }
    let len_bytes = match start.get(MAGIC.len()) {
        Some(1) => 2,
        Some(2 | 3) => 4,
        Some(v) => return Err(src.error(format!("format version {v} is not supported (1 to 3 are)"))),
        None => return Err(src.error("truncated in the header")),
    };
    let len_field = read_up_to(input, len_bytes, 4, src)?;
    if len_field.len() as u64 != len_bytes {
        return Err(src.error("truncated in the header"));
    }
    let header_len = len_field.iter().rev().fold(0usize, |acc, &v| acc * 256 + v as usize);
    if header_len > MAX_HEADER {
        return Err(src.error(format!("header length {header_len} is not plausible; the file is damaged")));
    }
    let header_bytes = read_up_to(input, header_len as u64, header_len, src)?;
    if header_bytes.len() != header_len {
        return Err(src.error("truncated in the header"));
    }
    let dict = std::str::from_utf8(&header_bytes).map_err(|_| src.error("the header is not text"))?;
    let header = parse_header(dict.trim()).map_err(|m| src.error(m))?;
    Ok((header, (MAGIC.len() + 2) as u64 + len_bytes + header_len as u64))
}

/// Reads one `.npy` array from `input`: the header, then exactly the data bytes it announces
/// (and one more, to notice trailing data), so a header announcing a small array is never
/// followed by reading the rest of a large (or decompressing) input. `size` bounds what
/// `input` can hold in all; the buffer starts at no more than that.
fn read_array(input: &mut impl Read, size: u64, src: &Source) -> Result<Tensor> {
    let (header, header_bytes) = read_header(input, src)?;
    let numel = header.shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    let expected = numel
        .and_then(|n| n.checked_mul(header.kind.elt_size_in_bytes() as u64))
        .filter(|e| *e < u64::MAX)
        .ok_or_else(|| src.error(format!("shape {:?} is too large", header.shape)))?;
    let capacity = expected.min(size.saturating_sub(header_bytes)).min(usize::MAX as u64) as usize;
    let data = read_up_to(input, expected + 1, capacity, src)?;
    if data.len() as u64 != expected {
        let held = if data.len() as u64 > expected { "more".to_string() } else { data.len().to_string() };
        let how = if data.len() as u64 > expected { "has trailing bytes" } else { "truncated" };
        return Err(src.error(format!(
            "{how}: shape {:?} of {:?} needs {expected} data bytes, the file holds {held}",
            header.shape, header.kind
        )));
    }
    if header.fortran_order && header.shape.len() > 1 {
        let reversed: Vec<i64> = header.shape.iter().rev().copied().collect();
        let dims: Vec<i64> = (0..reversed.len() as i64).rev().collect();
        Ok(Tensor::f_from_data_size(&data, &reversed, header.kind)?.f_permute(&dims)?.f_contiguous()?)
    } else {
        Ok(Tensor::f_from_data_size(&data, &header.shape, header.kind)?)
    }
}

/// Reads a `.npy` file into a CPU tensor of the array's type and shape.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    read_array(&mut std::io::BufReader::new(file), size, &Source { path, entry: None })
}

/// The arrays of an `.npz` file, in the order the archive stores them.
#[derive(Debug)]
pub struct Npz {
    path: PathBuf,
    arrays: Vec<(String, Tensor)>,
}

impl Npz {
    /// The arrays' names (the keyword names given to `np.savez`, or `arr_0`, `arr_1`, ...).
    pub fn names(&self) -> Vec<&str> {
        self.arrays.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The array called `name`, or an error listing the names the file has.
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, t)| t).ok_or_else(|| {
            format_error(&self.path, format!("has no array '{name}'; it holds {}", self.names().join(", ")))
        })
    }

    /// All arrays as `(name, tensor)` pairs.
    pub fn into_vec(self) -> Vec<(String, Tensor)> {
        self.arrays
    }
}

/// The name of entry `i` of an `.npz` archive, after checking from its metadata alone that it
/// can be read: stored or deflated (what `numpy.savez` and `numpy.savez_compressed` write) and
/// not AES-encrypted. Other entries are refused before any decoder sees them (the zip reader
/// panics on some of them).
fn check_entry<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>, i: usize, path: &Path) -> Result<String> {
    let raw = zip.by_index_raw(i).map_err(|e| format_error(path, format!("entry {i} is damaged: {e}")))?;
    let name = raw.name().to_string();
    let method = raw.compression();
    if !matches!(method, zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated) {
        return Err(format_error(
            path,
            format!(
                "array '{name}' is compressed with {method}; only stored and deflated entries are read: \
                 save it again with numpy.savez or numpy.savez_compressed"
            ),
        ));
    }
    if has_aes_field(raw.extra_data()) {
        return Err(format_error(
            path,
            format!("array '{name}' is AES-encrypted: save it again with numpy.savez, without a password"),
        ));
    }
    Ok(name)
}

/// Whether a zip extra field holds an AES record (id 0x9901, length 7, vendor "AE"), at any
/// offset: the zip reader's own walk over the records can drift from a plain one on damaged
/// fields, so every position is checked.
fn has_aes_field(extra: &[u8]) -> bool {
    extra.windows(8).any(|w| w[..4] == [0x01, 0x99, 0x07, 0x00] && w[6..8] == [0x41, 0x45])
}

/// Reads every array of an `.npz` file (`np.savez` or `np.savez_compressed`).
pub fn read_npz(path: impl AsRef<Path>) -> Result<Npz> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let archive_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| format_error(path, format!("not an .npz archive ({e}); write it with numpy.savez")))?;
    let mut arrays = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let name = check_entry(&mut zip, i, path)?;
        let mut entry = zip.by_index(i).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(m) if m == zip::result::ZipError::PASSWORD_REQUIRED => {
                format_error(
                    path,
                    format!("array '{name}' is encrypted: save it again with numpy.savez, without a password"),
                )
            }
            e => format_error(path, format!("entry {i} ('{name}') is damaged: {e}")),
        })?;
        // What the entry can hold: its announced size, at most what the archive's bytes can
        // inflate to (deflate expands at most 1032-fold).
        let most = if entry.compression() == zip::CompressionMethod::Stored { 1 } else { 1032 };
        let size = entry.size().min(archive_len.saturating_mul(most));
        let short = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let tensor = read_array(&mut entry, size, &Source { path, entry: Some(&short) })?;
        arrays.push((short, tensor));
    }
    Ok(Npz { path: path.to_path_buf(), arrays })
}

/// The kinds `.npy` files are written in: float16/32/64, int8/16/32/64 and uint8.
const WRITABLE_KINDS: [Kind; 8] =
    [Kind::Half, Kind::Float, Kind::Double, Kind::Int8, Kind::Int16, Kind::Int, Kind::Int64, Kind::Uint8];

/// Refuses a kind `.npy` writing does not support, before anything is written.
fn check_writable(path: &Path, what: &str, tensor: &Tensor) -> Result<()> {
    if WRITABLE_KINDS.contains(&tensor.kind()) {
        return Ok(());
    }
    Err(format_error(
        path,
        format!(
            "{what} has kind {:?}, which is not written to .npy files: convert it first with to_kind(Kind::Float), \
             Kind::Uint8 for booleans, or another of float16/32/64, int8/16/32/64, uint8",
            tensor.kind()
        ),
    ))
}

/// Writes `tensor` (moved to the CPU) as a `.npy` file that `numpy.load` reads: float16/32/64,
/// int8/16/32/64 or uint8; other kinds are an error saying what to convert them to.
pub fn write_npy(tensor: &Tensor, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    check_writable(path, "the tensor", tensor)?;
    tensor
        .f_to_device(tch::Device::Cpu)?
        .f_contiguous()?
        .write_npy(path)
        .map_err(|e| format_error(path, format!("could not be written: {e}")))
}

/// Writes named tensors (moved to the CPU) as an uncompressed `.npz` file that `numpy.load`
/// reads, in the kinds [`write_npy`] writes. Names must be unique.
pub fn write_npz(arrays: &[(&str, &Tensor)], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut seen = std::collections::HashSet::new();
    for (name, tensor) in arrays {
        if !seen.insert(*name) {
            return Err(format_error(path, format!("the name {name:?} is given twice: give each array its own name")));
        }
        check_writable(path, &format!("array {name:?}"), tensor)?;
    }
    let cpu: Vec<(&str, Tensor)> = arrays
        .iter()
        .map(|(n, t)| Ok((*n, t.f_to_device(tch::Device::Cpu)?.f_contiguous()?)))
        .collect::<Result<_>>()?;
    Tensor::write_npz(&cpu, path).map_err(|e| format_error(path, format!("could not be written: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that counts the bytes taken from it.
    struct Counting<R>(R, u64);

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n as u64;
            Ok(n)
        }
    }

    /// A header announcing 3 float32 values followed by endless zeros: the array is refused
    /// as having trailing data after reading the header, 12 data bytes and one more.
    #[test]
    fn array_reads_only_the_bytes_its_header_announces() {
        let dict = b"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        let header = [MAGIC, &[1, 0], &(dict.len() as u16).to_le_bytes(), dict].concat();
        let mut input = Counting(header.as_slice().chain(std::io::repeat(0)), 0);
        let src = Source { path: Path::new("endless.npy"), entry: None };
        let err = read_array(&mut input, u64::MAX, &src).unwrap_err().to_string();
        assert!(err.contains("endless.npy") && err.contains("trailing bytes"), "{err}");
        assert_eq!(input.1, header.len() as u64 + 12 + 1);
        // The same header and exactly its data: the values come back.
        let mut exact = header.as_slice().chain([0u8; 12].as_slice());
        let t = read_array(&mut exact, u64::MAX, &src).unwrap();
        assert_eq!((t.size(), t.kind()), (vec![3], Kind::Float));
    }

    #[test]
    fn header_values() {
        let h = parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").unwrap();
        assert_eq!((h.kind, h.fortran_order, h.shape), (Kind::Float, false, vec![3, 4]));
        let h = parse_header("{'descr': '|b1', 'fortran_order': True, 'shape': (5,), }").unwrap();
        assert_eq!((h.kind, h.fortran_order, h.shape), (Kind::Bool, true, vec![5]));
        let h = parse_header("{'descr': '<i8', 'fortran_order': False, 'shape': (), }").unwrap();
        assert_eq!(h.shape, Vec::<i64>::new());
        assert!(parse_header("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }")
            .unwrap_err()
            .contains("big-endian"));
        assert!(parse_header("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }")
            .unwrap_err()
            .contains("not supported"));
        assert!(parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }").is_err());
    }
}
