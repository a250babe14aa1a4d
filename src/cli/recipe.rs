//! The command line's recipes: each owns its model and its training defaults.
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use tch_keras::{recipes, Sequential};

/// A model of the cookbook recipe with its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipe {
    /// Dense(32, relu) -> Dense(16, relu) -> Dense(10, softmax).
    Mlp,
    /// Conv2D(25, 4x4) -> MaxPool -> Conv2D(50, 5x5) -> MaxPool -> Flatten -> Dense(10).
    Cnn,
    /// A wider CNN for compute-bound benchmarks (see `recipes::wide_cnn`).
    CnnWide,
}

impl Recipe {
    /// The name in reports and tables.
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Mlp => "mlp",
            Recipe::Cnn => "cnn",
            Recipe::CnnWide => "cnn-wide",
        }
    }

    /// The model, uncompiled.
    pub fn model(self) -> Sequential {
        match self {
            Recipe::Mlp => recipes::mnist_mlp(),
            Recipe::Cnn => recipes::mnist_cnn(),
            Recipe::CnnWide => recipes::wide_cnn(),
        }
    }

    /// Epochs trained by default.
    pub fn epochs(self) -> usize {
        match self {
            Recipe::Mlp => 5,
            Recipe::Cnn | Recipe::CnnWide => 3,
        }
    }

    /// Samples per step by default: Keras's 32 for the MLP, the recipe's 64 for the CNN, 1024
    /// for the wide CNN (a large step that keeps a GPU's arithmetic busy).
    pub fn batch_size(self) -> usize {
        match self {
            Recipe::Mlp => 32,
            Recipe::Cnn => 64,
            Recipe::CnnWide => 1024,
        }
    }

    /// Whether training validates on the test set each epoch by default.
    pub fn validates(self) -> bool {
        match self {
            Recipe::Mlp => false,
            Recipe::Cnn | Recipe::CnnWide => true,
        }
    }
}
