//! Data: MNIST and Fashion-MNIST from idx files, and `to_categorical`.
//!
//! Files are checked before `tch::vision::mnist::load_dir` reads them, so a missing or
//! truncated file is an error naming the file and the command that fetches it.
//!
//! Your own data:
//! - [`csv`]: delimited text files (plain or `.gz`) into feature and label tensors;
//! - [`numpy`]: `.npy` / `.npz` arrays saved by NumPy;
//! - [`image_folder`]: a folder of images, one sub-folder per class (Keras's
//!   `image_dataset_from_directory`), read lazily as a [`Dataset`];
//! - [`Dataset`] and [`TensorDataset`]: indexed data read a batch at a time, and
//!   [`DataLoader`]: shuffled batches prepared on a background thread;
//! - [`sklearn`]: scikit-learn's small real data sets (iris, wine, breast cancer, digits,
//!   diabetes), provisioned by `scripts/setup.sh`; [`Standardizer`] to normalise features.
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::{Error, Result};

pub mod csv;
mod dataset;
pub mod image_folder;
pub mod loader;
pub mod numpy;
mod numpy_rng;
mod preprocess;
pub mod sklearn;

pub use dataset::{Dataset, TensorDataset};
pub use image_folder::{ColorMode, ImageFolder, ImageFolderOptions, Subset};
pub use loader::{shuffled_indices, DataLoader, EpochBatches};
pub use preprocess::Standardizer;

/// The command that provisions the data sets.
pub const FETCH_COMMAND: &str = "scripts/setup.sh";

/// The four idx files, as `tch::vision::mnist::load_dir` names them: (name, magic, dims).
const FILES: [(&str, u32, usize); 4] = [
    ("train-images-idx3-ubyte", 2051, 3),
    ("train-labels-idx1-ubyte", 2049, 1),
    ("t10k-images-idx3-ubyte", 2051, 3),
    ("t10k-labels-idx1-ubyte", 2049, 1),
];

/// The data sets the project provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Handwritten digits.
    Mnist,
    /// Zalando's clothing images, same format as MNIST.
    FashionMnist,
}

impl DatasetKind {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// Where `scripts/setup.sh` puts the files: `$TCH_KERAS_CACHE/data/<name>`, with the cache
    /// defaulting to `${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras`.
    pub fn default_dir(self) -> PathBuf {
        cache_dir().join("data").join(self.name())
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DatasetKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mnist" => Ok(DatasetKind::Mnist),
            "fashion-mnist" | "fashion_mnist" => Ok(DatasetKind::FashionMnist),
            _ => Err(Error::Parse { what: "dataset", value: s.into(), expected: "mnist, fashion-mnist".into() }),
        }
    }
}

/// The project's cache folder: `$TCH_KERAS_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TCH_KERAS_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("tch-keras")
}

/// A loaded image classification data set: images `[N, 784]` as floats in `[0, 1]`
/// (pixels / 255) and labels `[N]` as int64.
#[derive(Debug)]
pub struct Mnist {
    /// Training images, `[60000, 784]`.
    pub train_images: Tensor,
    /// Training labels, `[60000]`.
    pub train_labels: Tensor,
    /// Test images, `[10000, 784]`.
    pub test_images: Tensor,
    /// Test labels, `[10000]`.
    pub test_labels: Tensor,
}

impl Mnist {
    /// Number of classes.
    pub const CLASSES: i64 = 10;
}

fn data_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data { path: path.to_path_buf(), message: message.into() }
}

/// Checks that `path` is an idx file with the expected magic number and exactly the bytes its
/// header announces.
fn check_idx(path: &Path, magic: u32, dims: usize) -> Result<()> {
    let fetch = format!("run {FETCH_COMMAND} to fetch the data sets, or pass the folder that holds them");
    let meta = std::fs::metadata(path).map_err(|_| data_error(path, format!("missing; {fetch}")))?;
    let header_len = 4 + 4 * dims as u64;
    let mut header = vec![0u8; header_len as usize];
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if meta.len() < header_len {
        return Err(data_error(path, format!("truncated ({} bytes, not even an idx header); {fetch}", meta.len())));
    }
    header.copy_from_slice(&bytes[..header_len as usize]);
    let word = |i: usize| u32::from_be_bytes([header[4 * i], header[4 * i + 1], header[4 * i + 2], header[4 * i + 3]]);
    if word(0) != magic {
        return Err(data_error(path, format!("not an idx file (magic {:#x}, expected {magic:#x}); {fetch}", word(0))));
    }
    let payload: u64 = (1..=dims).map(|i| word(i) as u64).product();
    if meta.len() != header_len + payload {
        return Err(data_error(
            path,
            format!(
                "truncated or padded: {} bytes, the header announces {}; {fetch}",
                meta.len(),
                header_len + payload
            ),
        ));
    }
    Ok(())
}

/// Loads MNIST-format idx files from `dir` through `tch::vision::mnist::load_dir`, after
/// checking each file.
pub fn load_mnist_dir(dir: impl AsRef<Path>) -> Result<Mnist> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(data_error(
            dir,
            format!("no such folder; run {FETCH_COMMAND} to fetch the data sets, or pass --data-dir"),
        ));
    }
    for (name, magic, dims) in FILES {
        check_idx(&dir.join(name), magic, dims)?;
    }
    let ds = tch::vision::mnist::load_dir(dir).map_err(|e| data_error(dir, format!("could not be read: {e}")))?;
    Ok(Mnist {
        train_images: ds.train_images,
        train_labels: ds.train_labels.f_to_kind(Kind::Int64)?,
        test_images: ds.test_images,
        test_labels: ds.test_labels.f_to_kind(Kind::Int64)?,
    })
}

/// Loads a provisioned data set from `dir`, or from its default folder.
pub fn load(kind: DatasetKind, dir: Option<&Path>) -> Result<Mnist> {
    match dir {
        Some(d) => load_mnist_dir(d),
        None => load_mnist_dir(kind.default_dir()),
    }
}

/// One-hot encodes integer labels `[N]` into `[N, num_classes]` floats (Keras's
/// `to_categorical`).
pub fn to_categorical(labels: &Tensor, num_classes: i64) -> Result<Tensor> {
    if num_classes <= 0 {
        return Err(Error::invalid("num_classes", format!("must be positive, got {num_classes}")));
    }
    if labels.is_floating_point() || labels.dim() != 1 {
        return Err(Error::invalid(
            "labels",
            format!(
                "to_categorical takes integer labels of shape (N,), got {:?} of shape {:?}",
                labels.kind(),
                labels.size()
            ),
        ));
    }
    if labels.numel() > 0 {
        let (lo, hi) = (labels.f_min()?.int64_value(&[]), labels.f_max()?.int64_value(&[]));
        if lo < 0 || hi >= num_classes {
            return Err(Error::invalid("labels", format!("range over [{lo}, {hi}], outside 0..{num_classes}")));
        }
    }
    Ok(labels.f_to_kind(Kind::Int64)?.f_one_hot(num_classes)?.f_to_kind(Kind::Float)?)
}
