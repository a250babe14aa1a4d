//! A small ResNet on Fashion-MNIST: residual blocks in a `Sequential`.
//!
//! Conv2D(16, 3, same) -> BatchNormalization -> relu -> three residual blocks -> global average
//! pooling -> Dense(10, softmax). Each block is ResNet's basic block, `relu(block(x) +
//! shortcut(x))` with the block Conv2D(3, same) -> BatchNormalization -> relu -> Conv2D(3,
//! same) -> BatchNormalization. The first block keeps the shape (16 channels at 28x28) and adds
//! its input as it is; the other two halve the image and double the channels (32 at 14x14, 64
//! at 7x7), so their shortcut is a projection: a 1x1 Conv2D with stride 2 and a
//! BatchNormalization. A Keras user writes the same model with the functional API
//! (`Activation("relu")(Add()([y, shortcut]))`). Convolutions start from `he_normal`; batch
//! normalizations use momentum 0.9. Adam 0.001, sparse categorical cross-entropy, batch 64.
//!
//! Measured (CPU, `OMP_NUM_THREADS=1`): `resnet 3 20000` (3 epochs on 20,000 images) tests at
//! 0.8508 in about 9 minutes on a busy 2-core machine; quick mode at 0.76 in about 40 seconds. The defaults train on
//! three times as many images as `3 20000`, so they take about three times as long.
//!
//! Run with `cargo run --release --example resnet [EPOCHS] [SAMPLES]` after `scripts/setup.sh`
//! (it provisions Fashion-MNIST; defaults: 3 epochs on all 60,000 training images, tested on
//! the 10,000 test images). `TCH_KERAS_EXAMPLE_QUICK=1` makes the defaults 2 epochs on 4,000
//! images, tested on 2,000. Prints the test accuracy (chance is 0.10).
use tch_keras::data::{self, DatasetKind};
use tch_keras::{
    Activation, BatchNormalization, Conv2D, Dense, Error, FitConfig, GlobalAveragePooling2D, Initializer, Loss,
    Optimizer, Padding, Residual, Sequential,
};

/// The run's size: `[EPOCHS] [SAMPLES]` from the command line, else the defaults given, or
/// quick mode's (2 epochs, 4,000 samples) when `TCH_KERAS_EXAMPLE_QUICK=1`.
struct Settings {
    epochs: usize,
    samples: i64,
    quick: bool,
}

impl Settings {
    fn from_args(epochs: usize, samples: i64) -> tch_keras::Result<Self> {
        let quick = std::env::var("TCH_KERAS_EXAMPLE_QUICK").is_ok_and(|v| v == "1");
        let mut args = std::env::args().skip(1);
        let mut next = |name: &'static str, default: i64| match args.next() {
            None => Ok(default),
            Some(arg) => arg.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| Error::InvalidArgument {
                name,
                message: format!("{arg:?} is not a positive whole number; usage: [EPOCHS] [SAMPLES]"),
            }),
        };
        let epochs = next("EPOCHS", if quick { 2 } else { epochs as i64 })? as usize;
        let samples = next("SAMPLES", if quick { 4000 } else { samples })?;
        Ok(Settings { epochs, samples, quick })
    }
}

/// A 3x3 `same` convolution with `he_normal` kernels.
fn conv(filters: i64, strides: i64) -> Conv2D {
    Conv2D::new(filters, 3).strides(strides).padding(Padding::Same).kernel_initializer(Initializer::HeNormal)
}

/// Batch normalization whose moving statistics keep 90% at each step (Keras's default keeps
/// 99%, which in a run of a few hundred steps leaves them far behind the weights: a model that
/// trains well then tests poorly, in Keras as here).
fn batch_norm() -> BatchNormalization {
    BatchNormalization { momentum: 0.9, ..Default::default() }
}

/// ResNet's basic block; with `strides` 2 it halves the image, and its shortcut is a 1x1
/// strided projection to the block's shape.
fn basic_block(filters: i64, strides: i64) -> Residual {
    let block = Residual::new()
        .add(conv(filters, strides))
        .add(batch_norm())
        .add(Activation::Relu)
        .add(conv(filters, 1))
        .add(batch_norm())
        .activation(Activation::Relu);
    if strides == 1 {
        return block;
    }
    block
        .shortcut_add(Conv2D::new(filters, 1).strides(strides).kernel_initializer(Initializer::HeNormal))
        .shortcut_add(batch_norm())
}

fn main() -> tch_keras::Result<()> {
    let run = Settings::from_args(3, 60_000)?;
    let fashion = data::load(DatasetKind::FashionMnist, None)?;
    let [rows, cols] = fashion.image_shape;
    let n_train = run.samples.min(fashion.train_images.size()[0]);
    let n_test = if run.quick { 2000 } else { fashion.test_images.size()[0] };
    // Keras's (28, 28, 1) images are [1, 28, 28] in LibTorch's channels-first layout.
    let x_train = fashion.train_images.f_narrow(0, 0, n_train)?.f_reshape([-1, 1, rows, cols])?;
    let y_train = fashion.train_labels.f_narrow(0, 0, n_train)?;
    let x_test = fashion.test_images.f_narrow(0, 0, n_test)?.f_reshape([-1, 1, rows, cols])?;
    let y_test = fashion.test_labels.f_narrow(0, 0, n_test)?;

    let mut model = Sequential::new()
        .name("fashion_resnet")
        .seed(0)
        .input_shape([1, rows, cols])
        .add(conv(16, 1))
        .add(batch_norm())
        .add(Activation::Relu)
        .add(basic_block(16, 1))
        .add(basic_block(32, 2))
        .add(basic_block(64, 2))
        .add(GlobalAveragePooling2D::new())
        .add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Optimizer::adam(0.001), Loss::SparseCategoricalCrossentropy, ["accuracy"])?;
    println!("{}", model.summary()?);

    model.fit(&x_train, &y_train, FitConfig { epochs: run.epochs, batch_size: 64, ..Default::default() })?;
    let test = model.evaluate(&x_test, &y_test, 1024)?;
    println!("trained on {n_train} images for {} epochs, tested on {n_test}", run.epochs);
    println!("test loss: {:.4}", test["loss"]);
    println!("test accuracy: {:.4}", test["accuracy"]);
    Ok(())
}
