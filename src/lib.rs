//! # tch-keras
//!
//! The Keras experience in Rust, on LibTorch through `tch`: a [`Sequential`] model whose layers
//! infer their shapes, [`summary`](Sequential::summary), [`compile`](Sequential::compile),
//! [`fit`](Sequential::fit) with callbacks and a Keras-style progress bar,
//! [`evaluate`](Sequential::evaluate) and [`predict`](Sequential::predict).
//!
//! ```no_run
//! use tch_keras::{data, Activation, Dense, FitConfig, Loss, Metric, Optimizer, Sequential};
//!
//! let mnist = data::load(data::DatasetKind::Mnist, None)?;
//! let y = data::to_categorical(&mnist.train_labels, 10)?;
//! let mut model = Sequential::new()
//!     .add(Dense::new(32).activation(Activation::Relu))
//!     .add(Dense::new(16).activation(Activation::Relu))
//!     .add(Dense::new(10).activation(Activation::Softmax));
//! model.compile(Optimizer::adam(0.001), Loss::CategoricalCrossentropy, vec!["accuracy".parse()?])?;
//! let history = model.fit(&mnist.train_images, &y, FitConfig { epochs: 5, ..Default::default() })?;
//! println!("{:?}", history.series("accuracy"));
//! # Ok::<(), tch_keras::Error>(())
//! ```
#![warn(missing_docs)]

mod activation;
pub mod callbacks;
pub mod custom_objects;
pub mod data;
pub mod distributed;
mod error;
mod flat;
mod graph;
pub mod idx;
pub mod initializers;
pub mod layers;
mod logs;
mod losses;
pub mod memory;
mod metrics;
mod model;
mod optimizers;
pub mod plot;
pub mod precision;
pub mod recipes;
pub mod regularizers;
pub mod saving;
mod shim;
pub mod tensorboard;
pub mod train;

pub use activation::Activation;
pub use callbacks::{
    BackupAndRestore, CsvLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
    ReduceLROnPlateau, TensorBoard, TerminateOnNaN,
};
pub use callbacks::{BatchLogs, Callback, History, ProgbarLogger, TrainParams, Verbosity};
pub use custom_objects::{register_loss, register_loss_fn, register_metric, LossFn, MetricFn};
pub use data::to_categorical;
pub use error::{Error, Result};
pub use initializers::Initializer;
pub use layers::GroupNormalization;
pub use layers::MultiHeadAttention;
pub use layers::RandomBrightness;
pub use layers::RandomGrayscale;
pub use layers::Residual;
pub use layers::UnitNormalization;
pub use layers::{
    ActivationLayer, BatchNormalization, Conv2D, Dense, Dropout, Flatten, LayerConfig, MaxPooling2D, Padding, Reshape,
};
pub use layers::{ActivityRegularization, AlphaDropout, GaussianDropout, SpatialDropout1D};
pub use layers::{
    AveragePooling1D, Conv2DTranspose, DataFormat, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D, Rescaling,
};
pub use layers::{
    AveragePooling2D, Conv1D, Embedding, GaussianNoise, GlobalAveragePooling2D, GlobalMaxPooling2D, Interpolation,
    LayerNormalization, Normalization, SpatialDropout2D, UpSampling2D, ZeroPadding2D, GRU, LSTM,
};
pub use layers::{
    AveragePooling3D, Conv3D, Cropping3D, GlobalAveragePooling3D, GlobalMaxPooling3D, MaxPooling3D, UpSampling3D,
    ZeroPadding3D,
};
pub use layers::{Bidirectional, MergeMode, RecurrentLayer, SimpleRNN};
pub use layers::{
    CategoryEncoding, CenterCrop, Discretization, EncodingMode, RandomCrop, ResizeInterpolation, Resizing,
};
pub use layers::{Conv1DTranspose, Conv3DTranspose};
pub use layers::{Cropping1D, Cropping2D, Permute, RepeatVector, UpSampling1D, ZeroPadding1D};
pub use layers::{DepthwiseConv2D, SeparableConv2D};
pub use layers::{FillMode, FlipMode, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom};
pub use layers::{LeakyReLU, PReLU, ReLU, Softmax, ELU};
pub use layers::{MaskRule, Masking};
pub use logs::Logs;
pub use losses::class_weight_to_sample_weight;
pub use losses::Loss;
pub use metrics::{AucCurve, AucSummation};
pub use metrics::{FAverage, R2Aggregation};
pub use metrics::{IntoMetrics, Metric, MetricKind};
pub use model::Sequential;
pub use optimizers::{
    CosineDecay, ExponentialDecay, InverseTimeDecay, LearningRate, Optimizer, OptimizerOptions, PiecewiseConstantDecay,
    Schedule,
};
pub use precision::Precision;
pub use regularizers::Regularizer;
pub use saving::{load_model, load_model_with};
pub use train::{Batch, BatchSource, Batches, FitConfig, FitSettings, GradientReducer, TensorSource};

/// The exact `tch` this library is built on: make tensors with it to avoid version mismatches.
pub use tch;

/// Internals the GPU test binaries compare against (not part of the API).
#[cfg(feature = "cuda-tests")]
#[doc(hidden)]
pub mod testing {
    pub use crate::optimizers::OptimizerState;
}

/// A device as the command line and reports name it: `cpu`, `cuda:N`.
pub fn device_name(device: tch::Device) -> String {
    match device {
        tch::Device::Cpu => "cpu".into(),
        tch::Device::Cuda(n) => format!("cuda:{n}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Warns as Keras does with Python's `warnings.warn`, which a user always sees: through the
/// `log` crate when the program has installed a logger (`log::max_level()` above `Off`), else
/// on standard error, so a warning is not lost in a program without one.
pub(crate) fn warn(message: &str) {
    if log::max_level() == log::LevelFilter::Off {
        eprintln!("warning: {message}");
    } else {
        log::warn!("{message}");
    }
}

/// Serialises "seed, then draw" sequences on LibTorch's process-wide random generator.
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The README's code blocks, compiled as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
