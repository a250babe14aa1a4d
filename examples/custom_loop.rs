//! A training loop written by hand, as a Keras user writes one with `train_on_batch`: the loop
//! shuffles MNIST at each epoch, takes one optimizer step per batch of 64, averages the
//! batches' losses and accuracies into the epoch's (each `train_on_batch` returns its own
//! batch's, as in Keras 3), then scores the held-out images with `test_on_batch`.
//!
//! Dense(128, relu) -> Dropout(0.2) -> Dense(10, softmax) on the flat 784-pixel rows; Nadam
//! 0.001 (Keras's default rate), sparse categorical cross-entropy, metric `accuracy`. The loop
//! runs no callbacks and does not count epochs in the model: it is the loop's own.
//!
//! Keras:
//! ```python
//! for epoch in range(epochs):
//!     for i in range(0, n, 64):
//!         logs = model.train_on_batch(x[perm[i:i+64]], y[perm[i:i+64]], return_dict=True)
//!     val = model.test_on_batch(x_test, y_test, return_dict=True)
//! ```
//!
//! Expected (CPU, defaults): the loss falling from 0.3355 in the first epoch to 0.0837 in the
//! fifth, and a test accuracy of 0.9757.
//!
//! Run with `cargo run --release --example custom_loop [EPOCHS] [SAMPLES]` after
//! `scripts/setup.sh` (defaults: 5 epochs on all 60,000 training images, tested on the 10,000
//! test images). `TCH_KERAS_EXAMPLE_QUICK=1` makes the defaults 2 epochs on 4,000 images,
//! tested on 2,000. Prints each epoch's loss and accuracy, then the test accuracy.
mod common;

use common::Settings;
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{Activation, Dense, Dropout, Loss, Optimizer, Sequential};

/// One epoch of `train_on_batch` over `x`, `y` in a shuffled order: the mean loss and accuracy
/// over its samples.
fn train_epoch(model: &mut Sequential, x: &Tensor, y: &Tensor, batch_size: i64) -> tch_keras::Result<(f64, f64)> {
    let n = x.size()[0];
    let order = Tensor::f_randperm(n, (Kind::Int64, Device::Cpu))?;
    let (mut loss, mut accuracy) = (0.0, 0.0);
    for start in (0..n).step_by(batch_size as usize) {
        let rows = order.f_narrow(0, start, batch_size.min(n - start))?;
        let logs = model.train_on_batch(&x.f_index_select(0, &rows)?, &y.f_index_select(0, &rows)?)?;
        let share = rows.size()[0] as f64 / n as f64;
        loss += logs["loss"] * share;
        accuracy += logs["accuracy"] * share;
    }
    Ok((loss, accuracy))
}

fn main() -> tch_keras::Result<()> {
    let run = Settings::from_args(5, 60_000)?;
    let mnist = data::load(DatasetKind::Mnist, None)?;
    let n_train = run.samples.min(mnist.train_images.size()[0]);
    let n_test = if run.quick { 2000 } else { mnist.test_images.size()[0] };
    let x_train = mnist.train_images.f_narrow(0, 0, n_train)?;
    let y_train = mnist.train_labels.f_narrow(0, 0, n_train)?;
    let x_test = mnist.test_images.f_narrow(0, 0, n_test)?;
    let y_test = mnist.test_labels.f_narrow(0, 0, n_test)?;

    let mut model = Sequential::new()
        .name("mnist_custom_loop")
        .seed(0)
        .input_shape([x_train.size()[1]])
        .add(Dense::new(128).activation(Activation::Relu))
        .add(Dropout::new(0.2))
        .add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Optimizer::nadam(0.001), Loss::SparseCategoricalCrossentropy, ["accuracy"])?;
    for epoch in 0..run.epochs {
        // The shuffle is the loop's: seed LibTorch's generator so that each run shuffles alike.
        tch::manual_seed(epoch as i64);
        let (loss, accuracy) = train_epoch(&mut model, &x_train, &y_train, 64)?;
        let val = model.test_on_batch(&x_test, &y_test)?;
        println!(
            "epoch {}/{}: loss {loss:.4} - accuracy {accuracy:.4} - val_loss {:.4} - val_accuracy {:.4}",
            epoch + 1,
            run.epochs,
            val["loss"],
            val["accuracy"]
        );
    }
    let test = model.test_on_batch(&x_test, &y_test)?;
    println!("trained on {n_train} images for {} epochs, tested on {n_test}", run.epochs);
    println!("test accuracy: {:.4}", test["accuracy"]);
    Ok(())
}
