//! A folder of images in Keras's `image_dataset_from_directory` layout, read lazily from disk.
//!
//! ```text
//! main_directory/
//! ├── class_a/   a_image_1.png, a_image_2.jpg, ... (sub-folders are searched too)
//! └── class_b/   b_image_1.png, ...
//! ```
//!
//! [`ImageFolder::open`] only lists the files; [`Dataset::get`] decodes the requested ones
//! (PNG, JPEG, BMP, GIF's first frame), converts them to grayscale or RGB, resizes them
//! bilinearly to `image_size` and returns `x` as float32 `[B, C, H, W]` in `[0, 1]` (pixel /
//! 255; Keras returns 0-255 and leaves the rescaling to a layer) and `y` as int64 class indices
//! `[B]`, classes numbered in sorted sub-folder order.
//!
//! As Keras, the file list is shuffled once with `seed` (NumPy's `RandomState(seed).shuffle`,
//! reimplemented, so the same seed selects the same files as Keras) and `validation_split`
//! keeps the first files for the training subset and the last `int(split * n)` for the
//! validation subset, so the two subsets opened with the same seed are disjoint and cover the
//! folder. Per-epoch shuffling is the [`DataLoader`](crate::data::DataLoader)'s job.
//!
//! An image file may decode to at most [`MAX_IMAGE_PIXELS`] pixels (64 Mi: 8192 x 8192, or
//! 16384 x 4096) and `image_size` may ask for no more: a larger file is an
//! [`Error::DataFormat`] naming it, found from its header before any pixel is decoded (a 64 KB
//! PNG can announce 23000 x 23000 pixels).
//!
//! Differences from Keras: the resize is LibTorch's bilinear interpolation with half-pixel
//! centres (`align_corners=False`, which is TensorFlow 2's `tf.image.resize` without
//! antialiasing); grayscale conversion is the `image` crate's (Rec. 709 weights), which
//! TensorFlow's PNG decoder also uses but its JPEG decoder does not (ITU-R 601).
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader};
use tch::Tensor;

use super::dataset::{check_indices, Dataset};
use super::numpy_rng::Mt19937;
use crate::{Error, Result};

/// The file extensions Keras's `image_dataset_from_directory` lists (compared in lower case).
pub const IMAGE_EXTENSIONS: [&str; 5] = [".bmp", ".gif", ".jpeg", ".jpg", ".png"];

/// The most pixels (height x width) an image file may hold, and an `image_size` may ask for:
/// 64 Mi (8192 x 8192). Decoding one such image takes up to 512 MiB (16-bit RGBA), its
/// conversion and resize about as much again.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 26;

/// The most bytes the decoder of one image may allocate: [`MAX_IMAGE_PIXELS`] at 8 bytes a
/// pixel (16-bit RGBA).
const MAX_DECODE_BYTES: u64 = MAX_IMAGE_PIXELS * 8;

/// The most threads [`ImageFolderOptions::decode_threads`] may ask for.
pub const MAX_DECODE_THREADS: usize = 256;

/// The channels of the returned images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// One channel.
    Grayscale,
    /// Three channels (an alpha channel is dropped, a gray image is repeated).
    Rgb,
}

impl ColorMode {
    /// Number of channels.
    pub fn channels(self) -> i64 {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
        }
    }
}

/// Which part of a folder split by `validation_split` to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// The first `n - int(split * n)` files of the shuffled list.
    Training,
    /// The last `int(split * n)` files of the shuffled list.
    Validation,
}

/// How to read an image folder (Keras's `image_dataset_from_directory` arguments).
#[derive(Debug, Clone)]
pub struct ImageFolderOptions {
    /// `(height, width)` the images are resized to. Default: `(256, 256)`, as Keras. At most
    /// [`MAX_IMAGE_PIXELS`] pixels.
    pub image_size: (u32, u32),
    /// Grayscale or RGB. Default: RGB.
    pub color_mode: ColorMode,
    /// Shuffle the file list once with `seed`, as Keras does before splitting. Default: true.
    pub shuffle: bool,
    /// Seed of that shuffle, below 2**32. Default: `None`, a random seed (as Keras); required
    /// with `validation_split` so the training and validation subsets agree.
    pub seed: Option<u64>,
    /// Fraction of the files held out for validation, in `(0, 1)`. Default: none.
    pub validation_split: Option<f64>,
    /// Which subset to open when `validation_split` is set.
    pub subset: Option<Subset>,
    /// The classes (sub-folder names) to use, in this order; default: all sub-folders sorted.
    pub class_names: Option<Vec<String>>,
    /// Threads decoding the images of one batch in parallel (default 1: the loader's
    /// background thread alone). Raise it when decoding large JPEGs cannot keep up with
    /// training. At most [`MAX_DECODE_THREADS`].
    pub decode_threads: usize,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        Self {
            image_size: (256, 256),
            color_mode: ColorMode::Rgb,
            shuffle: true,
            seed: None,
            validation_split: None,
            subset: None,
            class_names: None,
            decode_threads: 1,
        }
    }
}

impl ImageFolderOptions {
    /// Keras's defaults: RGB, 256x256, shuffled with a random seed, no split.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `(height, width)` the images are resized to.
    pub fn image_size(mut self, height: u32, width: u32) -> Self {
        self.image_size = (height, width);
        self
    }

    /// Sets grayscale or RGB.
    pub fn color_mode(mut self, mode: ColorMode) -> Self {
        self.color_mode = mode;
        self
    }

    /// Sets whether the file list is shuffled before the split.
    pub fn shuffle(mut self, yes: bool) -> Self {
        self.shuffle = yes;
        self
    }

    /// Sets the seed of the file-list shuffle.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Holds out `fraction` of the files and opens `subset` of them.
    pub fn validation_split(mut self, fraction: f64, subset: Subset) -> Self {
        self.validation_split = Some(fraction);
        self.subset = Some(subset);
        self
    }

    /// Sets the number of threads decoding one batch's images.
    pub fn decode_threads(mut self, threads: usize) -> Self {
        self.decode_threads = threads;
        self
    }

    /// Uses only these classes, numbered in this order.
    pub fn class_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.class_names = Some(names.into_iter().map(Into::into).collect());
        self
    }
}

/// An image folder opened as a [`Dataset`] (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct ImageFolder {
    files: Vec<PathBuf>,
    labels: Vec<i64>,
    class_names: Vec<String>,
    image_size: (u32, u32),
    color_mode: ColorMode,
    decode_threads: usize,
}

fn folder_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data { path: path.to_path_buf(), message: message.into() }
}

fn has_image_extension(name: &str) -> bool {
    let lower = name.to_lowercase();
    IMAGE_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// Lists the image files under `dir` as Keras does: `os.walk` without following links to
/// folders, folders in sorted path order, files sorted by name within each.
fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut folders: Vec<(String, Vec<String>)> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&folder).map_err(|e| Error::io(&folder, e))? {
            let entry = entry.map_err(|e| Error::io(&folder, e))?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_symlink() && std::fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false) {
                // os.walk(followlinks=False) lists a link to a folder but does not enter it.
            } else if has_image_extension(&name) {
                files.push(name);
            }
        }
        files.sort();
        folders.push((folder.to_string_lossy().into_owned(), files));
    }
    folders.sort();
    Ok(folders.into_iter().flat_map(|(root, files)| files.into_iter().map(move |f| Path::new(&root).join(f))).collect())
}

/// The class sub-folders of `dir`, sorted (or those `options.class_names` names, in its order).
fn class_folders(dir: &Path, options: &ImageFolderOptions) -> Result<Vec<String>> {
    let mut subdirs: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') {
            subdirs.push(name);
        }
    }
    subdirs.sort();
    let class_names = match &options.class_names {
        Some(names) => {
            if let Some(missing) = names.iter().find(|n| !subdirs.contains(n)) {
                return Err(folder_error(
                    dir,
                    format!(
                        "class_names names '{missing}', which is not a sub-folder; sub-folders: {}",
                        subdirs.join(", ")
                    ),
                ));
            }
            names.clone()
        }
        None => subdirs,
    };
    if class_names.is_empty() {
        return Err(folder_error(
            dir,
            "has no sub-folders: put the images of each class in a sub-folder named after it",
        ));
    }
    Ok(class_names)
}

/// Shuffles the files as Keras does (NumPy's RandomState with the seed) and keeps the subset
/// the split asks for.
fn order_and_split(
    files: &mut Vec<PathBuf>,
    labels: &mut Vec<i64>,
    options: &ImageFolderOptions,
    split: Option<(f64, Subset)>,
) -> Result<()> {
    if options.shuffle {
        let seed = match options.seed {
            Some(s) => u32::try_from(s)
                .map_err(|_| Error::invalid("seed", format!("{s} is not below 2**32 (NumPy's RandomState range)")))?,
            None => random_seed(),
        };
        Mt19937::new(seed).shuffle(files);
        Mt19937::new(seed).shuffle(labels);
    }
    if let Some((fraction, subset)) = split {
        let n_val = (fraction * files.len() as f64) as usize;
        if n_val == 0 || n_val == files.len() {
            return Err(Error::invalid(
                "validation_split",
                format!(
                    "{fraction} of {} files leaves {n_val} for validation and {} for training; both need at least one",
                    files.len(),
                    files.len() - n_val
                ),
            ));
        }
        let cut = files.len() - n_val;
        match subset {
            Subset::Training => {
                files.truncate(cut);
                labels.truncate(cut);
            }
            Subset::Validation => {
                files.drain(..cut);
                labels.drain(..cut);
            }
        }
    }
    Ok(())
}

impl ImageFolder {
    /// Lists the images under `dir` (one sub-folder per class) and selects the requested
    /// subset; no image is decoded yet.
    pub fn open(dir: impl AsRef<Path>, options: &ImageFolderOptions) -> Result<Self> {
        let dir = dir.as_ref();
        let (height, width) = options.image_size;
        if height == 0 || width == 0 {
            return Err(Error::invalid("image_size", format!("({height}, {width}): both sides must be positive")));
        }
        if u64::from(height) * u64::from(width) > MAX_IMAGE_PIXELS {
            return Err(Error::invalid(
                "image_size",
                format!(
                    "({height}, {width}) is more than {MAX_IMAGE_PIXELS} pixels (8192 x 8192): choose a smaller size"
                ),
            ));
        }
        if options.decode_threads == 0 || options.decode_threads > MAX_DECODE_THREADS {
            return Err(Error::invalid(
                "decode_threads",
                format!("{} is not between 1 and {MAX_DECODE_THREADS}", options.decode_threads),
            ));
        }
        let split = check_split(options)?;
        if !dir.is_dir() {
            return Err(folder_error(dir, "no such folder: give a folder with one sub-folder of images per class"));
        }
        let class_names = class_folders(dir, options)?;
        let mut files = Vec::new();
        let mut labels = Vec::new();
        for (label, class) in class_names.iter().enumerate() {
            let listed = list_images(&dir.join(class))?;
            labels.extend(std::iter::repeat_n(label as i64, listed.len()));
            files.extend(listed);
        }
        if files.is_empty() {
            return Err(folder_error(
                dir,
                format!("has no image files ({}) in its class sub-folders", IMAGE_EXTENSIONS.join(", ")),
            ));
        }
        order_and_split(&mut files, &mut labels, options, split)?;
        Ok(Self {
            files,
            labels,
            class_names,
            image_size: options.image_size,
            color_mode: options.color_mode,
            decode_threads: options.decode_threads,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the folder (subset) has no images; never true for an opened folder.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The class names, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The image files, in sample order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The labels, in sample order.
    pub fn labels(&self) -> &[i64] {
        &self.labels
    }

    /// Shape of one image: `[channels, height, width]`.
    pub fn image_shape(&self) -> [i64; 3] {
        [self.color_mode.channels(), self.image_size.0 as i64, self.image_size.1 as i64]
    }

    /// Decodes, converts and resizes sample `index`: float32 `[C, H, W]` in `[0, 1]`.
    pub fn image(&self, index: usize) -> Result<Tensor> {
        if index >= self.files.len() {
            return Err(Error::invalid(
                "index",
                format!("{index} is outside the folder's {} images", self.files.len()),
            ));
        }
        let [c, h, w] = self.image_shape();
        let mut out = vec![0f32; (c * h * w) as usize];
        self.decode_into(index, &mut out)?;
        Ok(Tensor::from_slice(&out).f_view([c, h, w])?)
    }

    /// Decodes image `index` into `out` (`C * H * W` floats, channels first), converted and
    /// resized. Plain Rust, no LibTorch operation: a loader thread running it does not start
    /// LibTorch's (OpenMP) worker threads next to the training thread's.
    fn decode_into(&self, index: usize, out: &mut [f32]) -> Result<()> {
        let decoded = decode_file(&self.files[index])?;
        let (w, h, c, raw) = match self.color_mode {
            ColorMode::Grayscale => {
                let img = decoded.into_luma8();
                (img.width() as usize, img.height() as usize, 1, img.into_raw())
            }
            ColorMode::Rgb => {
                let img = decoded.into_rgb8();
                (img.width() as usize, img.height() as usize, 3, img.into_raw())
            }
        };
        let (out_h, out_w) = (self.image_size.0 as usize, self.image_size.1 as usize);
        let mut plane = vec![0f32; w * h];
        for ch in 0..c {
            for (p, v) in plane.iter_mut().zip(raw.iter().skip(ch).step_by(c)) {
                *p = *v as f32 / 255.0;
            }
            resize_bilinear(&plane, h, w, &mut out[ch * out_h * out_w..(ch + 1) * out_h * out_w], out_h, out_w);
        }
        Ok(())
    }

    /// Every sample at once: `x` `[N, C, H, W]` and `y` `[N]`, for folders that fit in memory.
    pub fn load_all(&self) -> Result<(Tensor, Tensor)> {
        let all: Vec<i64> = (0..self.files.len() as i64).collect();
        self.get(&all)
    }
}

/// Decodes the image file at `path` after checking, from its header, that it holds at least
/// one and at most [`MAX_IMAGE_PIXELS`] pixels; the decoder may allocate at most [`MAX_DECODE_BYTES`].
fn decode_file(path: &Path) -> Result<DynamicImage> {
    let bad = |message: String| Error::DataFormat { path: path.to_path_buf(), line: None, column: None, message };
    let undecodable = |e: image::ImageError| {
        bad(format!("could not be decoded as an image ({e}); remove it or replace it with a PNG or JPEG"))
    };
    let mut reader = ImageReader::open(path)
        .map_err(|e| Error::io(path, e))?
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(undecodable)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(bad(format!("is {w} x {h} pixels: an image has no pixels to resize; remove it")));
    }
    if u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS || decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(bad(format!(
            "is {w} x {h} pixels, more than the {MAX_IMAGE_PIXELS} (8192 x 8192) an image folder decodes: \
             shrink it or remove it"
        )));
    }
    DynamicImage::from_decoder(decoder).map_err(undecodable)
}

/// The validated `(fraction, subset)` of the options, if any (Keras's
/// `check_validation_split_arg`).
fn check_split(options: &ImageFolderOptions) -> Result<Option<(f64, Subset)>> {
    match (options.validation_split, options.subset) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Error::invalid("subset", "a subset needs a validation_split")),
        (Some(_), None) => Err(Error::invalid("validation_split", "choose the subset to open: Training or Validation")),
        (Some(f), Some(s)) => {
            if !(f > 0.0 && f < 1.0) {
                return Err(Error::invalid("validation_split", format!("{f} must be between 0 and 1 (exclusive)")));
            }
            if options.shuffle && options.seed.is_none() {
                return Err(Error::invalid(
                    "seed",
                    "a validation_split of shuffled files needs a seed, so both subsets see the same shuffle",
                ));
            }
            Ok(Some((f, s)))
        }
    }
}

/// A seed for an unseeded shuffle, as Keras's `np.random.randint(1e6)`.
fn random_seed() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (nanos % 1_000_000) as u32
}

impl Dataset for ImageFolder {
    fn len(&self) -> usize {
        self.files.len()
    }

    fn get(&self, indices: &[i64]) -> Result<(Tensor, Tensor)> {
        check_indices(indices, self.files.len())?;
        let [c, h, w] = self.image_shape();
        let size = (c * h * w) as usize;
        let mut x = Vec::new();
        size.checked_mul(indices.len()).and_then(|n| x.try_reserve_exact(n).ok()).ok_or_else(|| {
            Error::invalid(
                "indices",
                format!("a batch of {} images of {c} x {h} x {w} does not fit in memory: ask for fewer", indices.len()),
            )
        })?;
        x.resize(size * indices.len(), 0f32);
        let decode = |ids: &[i64], out: &mut [f32]| -> Result<()> {
            ids.iter().zip(out.chunks_mut(size)).try_for_each(|(&i, o)| self.decode_into(i as usize, o))
        };
        let threads = self.decode_threads.min(indices.len());
        if threads <= 1 {
            decode(indices, &mut x)?;
        } else {
            let per = indices.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let jobs: Vec<_> = indices
                    .chunks(per)
                    .zip(x.chunks_mut(per * size))
                    .map(|(ids, out)| scope.spawn(move || decode(ids, out)))
                    .collect();
                jobs.into_iter().try_for_each(|job| {
                    job.join()
                        .unwrap_or_else(|_| Err(Error::Loader { message: "an image decoding thread panicked".into() }))
                })
            })?;
        }
        let y: Vec<i64> = indices.iter().map(|&i| self.labels[i as usize]).collect();
        Ok((Tensor::from_slice(&x).f_view([indices.len() as i64, c, h, w])?, Tensor::from_slice(&y)))
    }
}

/// Resizes a `h x w` plane into `out` (`out_h x out_w`) by bilinear interpolation with
/// half-pixel centres, as LibTorch's `upsample_bilinear2d(align_corners=False)` (and
/// TensorFlow 2's `tf.image.resize` without antialiasing); a plane of the same size is copied.
pub(crate) fn resize_bilinear(plane: &[f32], h: usize, w: usize, out: &mut [f32], out_h: usize, out_w: usize) {
    if (h, w) == (out_h, out_w) {
        out.copy_from_slice(plane);
        return;
    }
    // Source index, lower neighbour, whether an upper one exists, and the upper weight.
    let taps = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f32)> {
        let scale = n_in as f32 / n_out as f32;
        (0..n_out)
            .map(|o| {
                let src = (scale * (o as f32 + 0.5) - 0.5).max(0.0);
                let i0 = (src as usize).min(n_in - 1);
                let step = usize::from(i0 < n_in - 1);
                (i0, step, src - i0 as f32)
            })
            .collect()
    };
    let (rows, cols) = (taps(h, out_h), taps(w, out_w));
    for (oy, &(y0, dy, ly)) in rows.iter().enumerate() {
        let (r0, r1) = (&plane[y0 * w..(y0 + 1) * w], &plane[(y0 + dy) * w..(y0 + dy + 1) * w]);
        for (ox, &(x0, dx, lx)) in cols.iter().enumerate() {
            let top = (1.0 - lx) * r0[x0] + lx * r0[x0 + dx];
            let bottom = (1.0 - lx) * r1[x0] + lx * r1[x0 + dx];
            out[oy * out_w + ox] = (1.0 - ly) * top + ly * bottom;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resize agrees with LibTorch's upsample_bilinear2d (align_corners=False), shrinking
    /// and enlarging, square and not.
    #[test]
    fn resize_matches_libtorch_bilinear() {
        for (h, w, oh, ow) in [(8, 8, 16, 16), (28, 28, 13, 9), (5, 7, 5, 3), (3, 10, 7, 10), (1, 4, 3, 2)] {
            let plane: Vec<f32> = (0..h * w).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
            let mut out = vec![0f32; oh * ow];
            resize_bilinear(&plane, h, w, &mut out, oh, ow);
            let t = Tensor::from_slice(&plane).view([1, 1, h as i64, w as i64]);
            let expected = t.upsample_bilinear2d([oh as i64, ow as i64], false, None, None);
            let expected = Vec::<f32>::try_from(expected.flatten(0, -1)).unwrap();
            let worst = out.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-6, "{h}x{w} -> {oh}x{ow}: off by {worst}");
        }
    }
}
