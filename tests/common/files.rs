//! Small model and idx files for the reliability and fuzz tests, and the edits they apply.
#![allow(dead_code)]
use std::io::Write;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use tch_keras::saving::{read_safetensors, write_safetensors, MODEL_KEY};
use tch_keras::{
    Activation, BatchNormalization, Conv2D, Dense, FitConfig, Flatten, Loss, MaxPooling2D, Metric, Optimizer,
    Sequential, Verbosity,
};

/// A small CNN with every kind of variable (kernels, biases, batch-norm statistics), trained
/// one epoch with Adam so the file holds optimizer slots too.
pub fn small_model() -> Sequential {
    tch::manual_seed(1);
    let mut m = Sequential::new()
        .input_shape([1, 6, 6])
        .add(Conv2D::new(2, 3).activation(Activation::Relu))
        .add(BatchNormalization::new())
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .add(Dense::new(3).activation(Activation::Softmax))
        .seed(3);
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    let x = Tensor::randn([16, 1, 6, 6], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(3, [16], (Kind::Int64, Device::Cpu));
    m.fit(&x, &y, FitConfig { epochs: 1, batch_size: 8, verbose: Verbosity::Silent, ..Default::default() }).unwrap();
    m
}

/// Saves [`small_model`] to `dir/model.safetensors`.
pub fn save_small_model(dir: &Path) -> PathBuf {
    let path = dir.join("model.safetensors");
    small_model().save(&path).unwrap();
    path
}

/// Copies the model file `from` to `to` with its JSON description edited by `edit`.
pub fn edit_description(from: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let (tensors, mut meta) = read_safetensors(from).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&meta[MODEL_KEY]).unwrap();
    edit(&mut json);
    meta.insert(MODEL_KEY.to_string(), json.to_string());
    write_safetensors(to, &tensors, meta).unwrap();
}

/// A safetensors file's bytes with its JSON header edited by `edit` (the data untouched).
pub fn edit_header(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(&mut header);
    let text = header.to_string();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

/// An idx file of unsigned bytes: magic `0x08` + number of axes, the sizes, the values.
pub fn idx_bytes(sizes: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, sizes.len() as u8];
    for s in sizes {
        out.extend_from_slice(&s.to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Images and labels of a tiny MNIST-format set: image `i` has pixel `j` = `(i * 7 + j) % 256`,
/// label `i % 10`.
pub fn images_and_labels(n: u32, rows: u32, cols: u32) -> (Vec<u8>, Vec<u8>) {
    let pixels = (rows * cols) as usize;
    let images = (0..n as usize * pixels).map(|k| ((k / pixels * 7 + k % pixels) % 256) as u8).collect::<Vec<_>>();
    let labels = (0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>();
    (idx_bytes(&[n, rows, cols], &images), idx_bytes(&[n], &labels))
}

/// Writes the four MNIST files into `dir` (`.gz`-compressed under `NAME.gz` when `gz`).
pub fn write_mnist_dir(dir: &Path, train: u32, test: u32, rows: u32, cols: u32, gz: bool) {
    let (train_x, train_y) = images_and_labels(train, rows, cols);
    let (test_x, test_y) = images_and_labels(test, rows, cols);
    for (name, bytes) in [
        ("train-images-idx3-ubyte", train_x),
        ("train-labels-idx1-ubyte", train_y),
        ("t10k-images-idx3-ubyte", test_x),
        ("t10k-labels-idx1-ubyte", test_y),
    ] {
        if gz {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// This process's peak resident memory so far, in KiB (`VmHWM`).
///
/// The kernel folds the current resident size into this peak only at some events, so a later
/// reading can be lower than an earlier one: subtract readings with `saturating_sub`.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
