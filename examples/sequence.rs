//! MNIST read as sequences: each 28x28 image is 28 time steps (its rows) of 28 pixels, read in
//! both directions by a `Bidirectional(LSTM(64))` whose two last states (concatenated, 128
//! values) feed a `Dense(10, softmax)`; Adam 0.001, sparse categorical cross-entropy, batch 64.
//!
//! Keras: `Sequential([Input((28, 28)), Bidirectional(LSTM(64)), Dense(10, "softmax")])`.
//! Sequences are `(None, timesteps, features)` here as in Keras, so the flat 784-pixel rows only
//! need a reshape to `[N, 28, 28]`.
//!
//! Expected (CPU, defaults): validation accuracy rising to about 0.977 and a test accuracy of
//! 0.9734 (measured with `OMP_NUM_THREADS=1`, about a minute).
//!
//! Run with `cargo run --release --example sequence [EPOCHS] [SAMPLES]` after
//! `scripts/setup.sh` (defaults: 3 epochs on all 60,000 training images, tested on the 10,000
//! test images). `TCH_KERAS_EXAMPLE_QUICK=1` makes the defaults 2 epochs on 4,000 images,
//! tested on 2,000, for a check that takes seconds. Prints the test accuracy (chance is 0.10).
mod common;

use common::Settings;
use tch_keras::data::{self, DatasetKind};
use tch_keras::{Activation, Bidirectional, Dense, FitConfig, Loss, Optimizer, Sequential, LSTM};

fn main() -> tch_keras::Result<()> {
    let run = Settings::from_args(3, 60_000)?;
    let mnist = data::load(DatasetKind::Mnist, None)?;
    let [rows, cols] = mnist.image_shape;
    let n_train = run.samples.min(mnist.train_images.size()[0]);
    let n_test = if run.quick { 2000 } else { mnist.test_images.size()[0] };
    let x_train = mnist.train_images.f_narrow(0, 0, n_train)?.f_reshape([-1, rows, cols])?;
    let y_train = mnist.train_labels.f_narrow(0, 0, n_train)?;
    let x_test = mnist.test_images.f_narrow(0, 0, n_test)?.f_reshape([-1, rows, cols])?;
    let y_test = mnist.test_labels.f_narrow(0, 0, n_test)?;

    let mut model = Sequential::new()
        .name("mnist_rows_bilstm")
        .seed(0)
        .input_shape([rows, cols])
        .add(Bidirectional::new(LSTM::new(64)))
        .add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Optimizer::adam(0.001), Loss::SparseCategoricalCrossentropy, ["accuracy"])?;
    println!("{}", model.summary()?);
    model.fit(
        &x_train,
        &y_train,
        FitConfig { epochs: run.epochs, batch_size: 64, validation_split: 0.1, ..Default::default() },
    )?;
    let test = model.evaluate(&x_test, &y_test, 1024)?;
    println!("trained on {n_train} sequences for {} epochs, tested on {n_test}", run.epochs);
    println!("test accuracy: {:.4}", test["accuracy"]);
    Ok(())
}
