//! Data: MNIST and Fashion-MNIST from idx files, and `to_categorical`.
//!
//! The idx files are read by [`crate::idx`] (raw or gzip-compressed, every size checked first),
//! so a missing, truncated or damaged file is an error naming the file and the command that
//! fetches it.
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
pub use loader::{shuffled_indices, DataLoader, EpochBatches, MAX_PREFETCH};
pub use preprocess::Standardizer;

/// The command that provisions the data sets.
pub const FETCH_COMMAND: &str = "scripts/setup.sh";

/// The four idx files (each may also be present as `NAME.gz`): training images and labels,
/// test images and labels.
const FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

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
    /// Each image's `[rows, cols]` (`[28, 28]` for MNIST), the same for both sets. The images
    /// are flat rows of `rows * cols` pixels.
    pub image_shape: [i64; 2],
}

impl Mnist {
    /// Number of classes.
    pub const CLASSES: i64 = 10;
}

fn data_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data { path: path.to_path_buf(), message: message.into() }
}

/// Loads MNIST-format idx files from `dir`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or gzip-compressed (also as
/// `NAME.gz`). Each file's header is checked against its size, labels must be in `0..10` and
/// as many as the images, and both sets must have the same image shape; errors name the file.
pub fn load_mnist_dir(dir: impl AsRef<Path>) -> Result<Mnist> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(data_error(
            dir,
            format!("no such folder; run {FETCH_COMMAND} to fetch the data sets, or pass --data-dir"),
        ));
    }
    let hint = format!("run {FETCH_COMMAND} to fetch the data sets, or pass the folder that holds them");
    let [train_x, train_y, test_x, test_y] = FILES.map(|name| crate::idx::resolve(&dir.join(name)));
    let (train_images, image_shape) = crate::idx::read_images(&train_x, &hint)?;
    let train_labels = checked_labels(&train_y, &train_images, &train_x, &hint)?;
    let (test_images, test_shape) = crate::idx::read_images(&test_x, &hint)?;
    if test_shape != image_shape {
        return Err(data_error(
            &test_x,
            format!(
                "holds {}x{} images but {} holds {}x{}; both sets must have one image shape",
                test_shape[0],
                test_shape[1],
                train_x.display(),
                image_shape[0],
                image_shape[1]
            ),
        ));
    }
    let test_labels = checked_labels(&test_y, &test_images, &test_x, &hint)?;
    Ok(Mnist { train_images, train_labels, test_images, test_labels, image_shape })
}

/// Reads a label file and checks it against its images: one label in `0..10` per image.
fn checked_labels(path: &Path, images: &Tensor, images_path: &Path, hint: &str) -> Result<Tensor> {
    let labels = crate::idx::read_labels(path, hint)?;
    let (n, m) = (labels.size()[0], images.size()[0]);
    if n != m {
        return Err(data_error(path, format!("holds {n} labels but {} holds {m} images", images_path.display())));
    }
    if n > 0 {
        let max = labels.f_max()?.f_int64_value(&[])?;
        if max >= Mnist::CLASSES {
            return Err(data_error(
                path,
                format!("holds label {max}, outside 0..{}; the file is damaged; {hint}", Mnist::CLASSES),
            ));
        }
    }
    Ok(labels)
}

/// Loads a provisioned data set from `dir`, or from its default folder.
pub fn load(kind: DatasetKind, dir: Option<&Path>) -> Result<Mnist> {
    match dir {
        Some(d) => load_mnist_dir(d),
        None => load_mnist_dir(kind.default_dir()),
    }
}

/// One-hot encodes class labels into floats with a trailing axis of `num_classes` (Keras's
/// `to_categorical`): labels `[N]` or `[N, 1]` give `[N, num_classes]`, labels `[N, T]` give
/// `[N, T, num_classes]`. Labels may be integers or whole-number floats (as read from a CSV
/// file).
///
/// Differences from Keras: a label outside `0..num_classes` is an error (Keras's NumPy
/// indexing counts a negative one from the end), and so is a float label with a fractional
/// part (Keras truncates it toward zero).
pub fn to_categorical(labels: &Tensor, num_classes: i64) -> Result<Tensor> {
    if num_classes <= 0 {
        return Err(Error::invalid("num_classes", format!("must be positive, got {num_classes}")));
    }
    let size = labels.size();
    if size.is_empty() {
        return Err(Error::invalid(
            "labels",
            "to_categorical takes labels of shape (N,) or (N, 1), got a scalar: give one label per sample",
        ));
    }
    // Keras drops a trailing axis of 1: (N, 1) labels give (N, num_classes).
    let labels =
        if size.len() > 1 && size.last() == Some(&1) { labels.f_squeeze_dim(-1)? } else { labels.shallow_clone() };
    let labels = whole_labels(&labels)?;
    let mut hi = -1;
    if labels.numel() > 0 {
        let lo = labels.f_min()?.int64_value(&[]);
        hi = labels.f_max()?.int64_value(&[]);
        if lo < 0 || hi >= num_classes {
            return Err(Error::invalid(
                "labels",
                format!("range over [{lo}, {hi}], outside 0..{num_classes}: give labels from 0 to num_classes - 1"),
            ));
        }
    }
    one_hot(&labels, num_classes, hi)
}

/// `labels` (checked to lie in `0..num_classes`, the largest being `hi`) one-hot encoded as
/// floats; a one-hot too large to allocate is an error naming the classes the labels need.
fn one_hot(labels: &Tensor, num_classes: i64, hi: i64) -> Result<Tensor> {
    let n = labels.numel() as i64;
    let too_large = |what: String| {
        Error::invalid(
            "num_classes",
            format!(
                "{n} one-hot rows of {num_classes} classes {what}: give the number of classes (here at least {})",
                hi + 1
            ),
        )
    };
    // The int64 one-hot LibTorch makes first: 8 bytes per value.
    if n.checked_mul(num_classes).and_then(|v| v.checked_mul(8)).is_none() {
        return Err(too_large("hold more bytes than fit in 64 bits".into()));
    }
    let one_hot = labels.f_one_hot(num_classes).map_err(|e| {
        let reason = Error::from(e).to_string();
        too_large(format!("cannot be allocated ({})", reason.trim_start_matches("LibTorch: ")))
    })?;
    Ok(one_hot.f_to_kind(Kind::Float)?)
}

/// Integer or whole-number float labels as `Int64`; a non-finite or fractional float is an error.
fn whole_labels(labels: &Tensor) -> Result<Tensor> {
    if !labels.is_floating_point() {
        return Ok(labels.f_to_kind(Kind::Int64)?);
    }
    let values = labels.f_to_kind(Kind::Double)?;
    let bad = values.f_isfinite()?.f_logical_not()?.f_logical_or(&values.f_frac()?.f_ne(0.0)?)?;
    if bad.f_any()?.int64_value(&[]) != 0 {
        let index = bad.f_flatten(0, -1)?.f_to_kind(Kind::Uint8)?.f_argmax(0, false)?.int64_value(&[]);
        let value = values.f_flatten(0, -1)?.f_get(index)?.f_double_value(&[])?;
        return Err(Error::invalid(
            "labels",
            format!(
                "to_categorical takes class indices, but label {index} (in row-major order) is {value}: \
                 round the labels or check that this column holds classes"
            ),
        ));
    }
    Ok(values.f_to_kind(Kind::Int64)?)
}
