//! The cookbook recipe's models, as used by the command line, the examples and the benchmarks.
use crate::layers::Padding;
use crate::{Activation, Conv2D, Dense, Flatten, Loss, MaxPooling2D, Metric, Optimizer, Result, Sequential};

/// The recipe's MLP: Dense(32, relu) -> Dense(16, relu) -> Dense(10, softmax) on flat
/// 784-pixel rows; 25,818 parameters.
pub fn mnist_mlp() -> Sequential {
    Sequential::new()
        .name("mlp")
        .input_shape([784])
        .add(Dense::new(32).activation(Activation::Relu))
        .add(Dense::new(16).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// The recipe's CNN on `[1, 28, 28]` images: Conv2D(25, 4x4, relu) -> MaxPool(2) ->
/// Conv2D(50, 5x5, relu) -> MaxPool(2) -> Flatten -> Dense(10, softmax); 39,735 parameters.
pub fn mnist_cnn() -> Sequential {
    Sequential::new()
        .name("cnn")
        .input_shape([1, 28, 28])
        .add(Conv2D::new(25, 4).activation(Activation::Relu))
        .add(MaxPooling2D::new(2))
        .add(Conv2D::new(50, 5).activation(Activation::Relu))
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// A wider CNN on `[1, 28, 28]` images, for benchmarks where the GPU's arithmetic, not kernel
/// launches, bounds the step: two Conv2D(64, 3x3, same, relu) -> MaxPool(2) -> two
/// Conv2D(128, 3x3, same, relu) -> MaxPool(2) -> Flatten -> Dense(256, relu) ->
/// Dense(10, softmax); 1,867,466 parameters, about 149 MFLOP per sample forward.
pub fn wide_cnn() -> Sequential {
    let conv = |filters| Conv2D::new(filters, 3).padding(Padding::Same).activation(Activation::Relu);
    Sequential::new()
        .name("cnn-wide")
        .input_shape([1, 28, 28])
        .add(conv(64))
        .add(conv(64))
        .add(MaxPooling2D::new(2))
        .add(conv(128))
        .add(conv(128))
        .add(MaxPooling2D::new(2))
        .add(Flatten::new())
        .add(Dense::new(256).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// Compiles a classifier as the recipe does: Adam, categorical cross-entropy, accuracy logged
/// under `metric_name` (`"acc"` or `"accuracy"`).
pub fn compile_classifier(model: &mut Sequential, learning_rate: f64, metric_name: &str) -> Result<()> {
    model.compile(Optimizer::adam(learning_rate), Loss::CategoricalCrossentropy, vec![metric_name.parse::<Metric>()?])
}
