//! The cookbook recipe's MLP on MNIST: Dense(32, relu) -> Dense(16, relu) -> Dense(10, softmax),
//! Adam(0.001), categorical cross-entropy on one-hot targets, accuracy, 5 epochs.
//!
//! Expected: the summary shows 25,818 parameters, and the test accuracy printed at the end is
//! about 0.96 (at least 0.955).
//!
//! Run with `cargo run --release --example mnist_mlp` after `scripts/setup.sh`.
use tch_keras::data::{self, DatasetKind};
use tch_keras::{to_categorical, Activation, Dense, FitConfig, Loss, Optimizer, Sequential};

fn main() -> anyhow::Result<()> {
    let mnist = data::load(DatasetKind::Mnist, None)?;
    let y_train = to_categorical(&mnist.train_labels, 10)?;
    let y_test = to_categorical(&mnist.test_labels, 10)?;

    let mut model = Sequential::new()
        .input_shape([784])
        .add(Dense::new(32).activation(Activation::Relu))
        .add(Dense::new(16).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Optimizer::adam(0.001), Loss::CategoricalCrossentropy, vec!["accuracy".parse()?])?;
    println!("{}", model.summary()?);

    model.fit(&mnist.train_images, &y_train, FitConfig { epochs: 5, ..Default::default() })?;
    let test = model.evaluate(&mnist.test_images, &y_test, 1024)?;
    println!("test accuracy: {:.4}", test.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}
