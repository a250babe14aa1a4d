//! Training from a folder of images, streamed from disk: Keras's `image_dataset_from_directory`
//! layout (one sub-folder per class) read by `ImageFolder`, batches decoded on a background
//! thread by `DataLoader` while the model trains.
//!
//! Without arguments it first writes a folder of PNGs from Fashion-MNIST (provisioned by
//! `scripts/setup.sh`): 600 training and 100 test images per class, under
//! `<temp>/tch-keras-fashion-mnist-png/{train,test}/<n>_<class>/`, once. It trains the recipe's
//! CNN for 3 epochs on 90% of `train/` (a seeded Keras-style validation split, the other 10%
//! validating each epoch) and prints the test accuracy on `test/`.
//!
//! With `DIR [SIZE] [gray|rgb]` it trains a small CNN on your folder instead, resized to
//! SIZE x SIZE (default 64, RGB), holding out 20% for validation, and prints the validation
//! accuracy.
//!
//! Measured (CPU): on the Fashion-MNIST folder, val_accuracy 0.8200 after the third epoch and
//! test accuracy 0.8140 (the recipe's CNN on 5,400 of the 60,000 training images).
//!
//! Run with `cargo run --release --example image_folder [DIR [SIZE] [gray|rgb]]`.
use std::path::{Path, PathBuf};

use anyhow::Context;
use tch::Kind;
use tch_keras::data::{self, ColorMode, DataLoader, DatasetKind, ImageFolder, ImageFolderOptions, Subset};
use tch_keras::{
    recipes, Activation, Conv2D, Dense, FitConfig, Flatten, Loss, MaxPooling2D, Metric, Optimizer, Sequential,
    Verbosity,
};

const CLASSES: [&str; 10] = [
    "0_tshirt_top",
    "1_trouser",
    "2_pullover",
    "3_dress",
    "4_coat",
    "5_sandal",
    "6_shirt",
    "7_sneaker",
    "8_bag",
    "9_ankle_boot",
];

/// Writes `per_class` images of each class from `images` `[N, 784]` (floats in [0, 1]) as PNGs.
fn write_pngs(dir: &Path, images: &tch::Tensor, labels: &tch::Tensor, per_class: usize) -> anyhow::Result<()> {
    let pixels: Vec<u8> = Vec::try_from(images.multiply_scalar(255.0).round().to_kind(Kind::Uint8).flatten(0, -1))?;
    let labels: Vec<i64> = Vec::try_from(labels)?;
    let mut count = [0usize; 10];
    for (i, &label) in labels.iter().enumerate() {
        let class = label as usize;
        if count[class] == per_class {
            continue;
        }
        count[class] += 1;
        let folder = dir.join(CLASSES[class]);
        std::fs::create_dir_all(&folder)?;
        let img = image::GrayImage::from_raw(28, 28, pixels[i * 784..(i + 1) * 784].to_vec()).context("28x28 image")?;
        img.save(folder.join(format!("{i:05}.png")))?;
    }
    Ok(())
}

/// The Fashion-MNIST PNG folder, written on first use.
fn fashion_folder() -> anyhow::Result<PathBuf> {
    let root = std::env::temp_dir().join("tch-keras-fashion-mnist-png");
    if !root.join(".complete").exists() {
        eprintln!("writing Fashion-MNIST PNGs to {}", root.display());
        let _ = std::fs::remove_dir_all(&root);
        let ds = data::load(DatasetKind::FashionMnist, None)?;
        write_pngs(&root.join("train"), &ds.train_images, &ds.train_labels, 600)?;
        write_pngs(&root.join("test"), &ds.test_images, &ds.test_labels, 100)?;
        std::fs::write(root.join(".complete"), "")?;
    }
    Ok(root)
}

/// A small CNN for `[channels, size, size]` images of `classes` classes.
fn small_cnn(channels: i64, size: i64, classes: i64) -> Sequential {
    Sequential::new()
        .name("folder_cnn")
        .input_shape([channels, size, size])
        .add(Conv2D::new(16, 3).activation(Activation::Relu))
        .add(MaxPooling2D::new(2))
        .add(Conv2D::new(32, 3).activation(Activation::Relu))
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .add(Dense::new(classes).activation(Activation::Softmax))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (train_dir, test_dir, size, mode) = match args.first() {
        None => {
            let root = fashion_folder()?;
            (root.join("train"), Some(root.join("test")), 28, ColorMode::Grayscale)
        }
        Some(dir) => {
            let size: u32 = args.get(1).map(|s| s.parse()).transpose().context("SIZE must be a number")?.unwrap_or(64);
            let mode = match args.get(2).map(String::as_str) {
                None | Some("rgb") => ColorMode::Rgb,
                Some("gray" | "grayscale") => ColorMode::Grayscale,
                Some(other) => anyhow::bail!("color mode '{other}': use gray or rgb"),
            };
            (PathBuf::from(dir), None, size, mode)
        }
    };
    let split = if test_dir.is_some() { 0.1 } else { 0.2 };
    let options = |subset| {
        ImageFolderOptions::new().image_size(size, size).color_mode(mode).seed(1337).validation_split(split, subset)
    };
    let training = ImageFolder::open(&train_dir, &options(Subset::Training))?;
    let validation = ImageFolder::open(&train_dir, &options(Subset::Validation))?;
    let classes = training.class_names().len() as i64;
    println!(
        "{}: {} classes, {} training and {} validation images",
        train_dir.display(),
        classes,
        training.len(),
        validation.len()
    );

    let mut model =
        if test_dir.is_some() { recipes::mnist_cnn() } else { small_cnn(mode.channels(), size as i64, classes) };
    model.compile(Optimizer::adam(0.001), Loss::SparseCategoricalCrossentropy, vec![Metric::accuracy()])?;
    let mut train_batches = DataLoader::new(training, 64)?.seed(7).prefetch(4);
    let mut val_batches = DataLoader::new(validation, 256)?.shuffle(false);
    let history = model.fit_source(
        &mut train_batches,
        FitConfig {
            epochs: 3,
            verbose: Verbosity::EpochLine,
            validation_source: Some(&mut val_batches),
            ..Default::default()
        },
    )?;
    let last = |key: &str| history.series(key).and_then(|s| s.last().copied()).unwrap_or(f64::NAN);
    println!("final epoch: accuracy {:.4}, val_accuracy {:.4}", last("accuracy"), last("val_accuracy"));
    if let Some(test_dir) = test_dir {
        let test = ImageFolder::open(
            &test_dir,
            &ImageFolderOptions::new().image_size(28, 28).color_mode(mode).shuffle(false),
        )?;
        let mut test_batches = DataLoader::new(test, 256)?.shuffle(false);
        let logs = model.evaluate_source(&mut test_batches, Vec::new())?;
        println!("test accuracy: {:.4}", logs.get("accuracy").unwrap_or(f64::NAN));
    }
    Ok(())
}
