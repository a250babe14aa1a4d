//! Layers: the specs a user adds to a [`Sequential`](crate::Sequential), and the built modules.
//!
//! A spec (such as [`Dense`]) holds only its configuration. When the model is built, each spec
//! computes its output shape from its input shape ([`LayerSpec::output_shape`]) and creates its
//! variables under `layers.{index}` ([`LayerSpec::build`]), so no layer takes an input size.
//!
//! Shapes are per sample, without the batch axis, in LibTorch's channels-first layout: an image
//! batch is `NCHW`, so Keras's `input_shape=(28, 28, 1)` is `[1, 28, 28]` here. A model fed flat
//! 784-pixel rows can start with `Reshape::new([1, 28, 28])`.
//!
//! Layers written outside this crate implement [`Layer`] (with [`LayerModule`] for the built
//! module) and are added like a built-in; `custom.rs` holds that machinery and the
//! [`LayerRegistry`] a saved model's custom layers (and custom losses and metrics) are rebuilt
//! from.
//!
//! Each layer lives in its own file, named after it (`conv2d.rs`, `lstm.rs`); `padding.rs`
//! holds the window arithmetic the convolutions and poolings share, `rnn.rs` what `LSTM`,
//! `GRU`, `SimpleRNN` and `Bidirectional` share, `augment.rs` what the image augmentations
//! (`RandomFlip`, `RandomRotation`, ...) share. `data_format.rs` holds [`DataFormat`] (where
//! the 1-D layers find the channels) and the 1-D poolings' window arithmetic; `cropping1d.rs`
//! the narrowing `Cropping2D` shares.
//! `residual.rs` holds [`Residual`], the one layer that holds other layers (a ResNet block).
//! `depthwise_conv2d.rs` holds the depthwise step `SeparableConv2D` shares.
//! The 3-D layers take volumes `[channels, depth, height, width]` (or Keras's channels-last
//! with `data_format`); `pooling3d.rs` and `global_pooling3d.rs` each hold two poolings.
//! `conv2d_transpose.rs` holds the transposed convolutions' size arithmetic (any rank), and
//! `conv1d_transpose.rs` the module `Conv3DTranspose` shares.
//! `resizing.rs` holds the resize and aspect-ratio crop `CenterCrop` and `RandomCrop` share;
//! `category_encoding.rs` the encoding `Discretization` shares.
mod activation_layer;
mod activity_regularization;
mod alpha_dropout;
mod augment;
mod average_pooling1d;
mod average_pooling2d;
mod batch_norm;
mod bidirectional;
mod category_encoding;
mod center_crop;
mod conv1d;
mod conv1d_transpose;
mod conv2d;
mod conv2d_transpose;
mod conv3d;
mod conv3d_transpose;
mod cropping1d;
mod cropping2d;
mod cropping3d;
mod custom;
mod data_format;
mod dense;
mod depthwise_conv2d;
mod discretization;
mod dropout;
mod elu;
mod embedding;
mod flatten;
mod gaussian_dropout;
mod gaussian_noise;
mod global_average_pooling1d;
mod global_average_pooling2d;
mod global_max_pooling1d;
mod global_max_pooling2d;
mod global_pooling3d;
mod group_normalization;
mod gru;
mod layer_normalization;
mod leaky_relu;
mod lstm;
mod masking;
mod max_pooling1d;
mod max_pooling2d;
mod multi_head_attention;
mod normalization;
mod padding;
mod permute;
mod pooling3d;
mod prelu;
mod random_brightness;
mod random_contrast;
mod random_crop;
mod random_flip;
mod random_grayscale;
mod random_rotation;
mod random_translation;
mod random_zoom;
mod relu;
mod repeat_vector;
mod rescaling;
mod reshape;
mod residual;
mod resizing;
mod rnn;
mod separable_conv2d;
mod simple_rnn;
mod size;
mod softmax;
mod spatial_dropout1d;
mod spatial_dropout2d;
mod unit_normalization;
mod up_sampling1d;
mod up_sampling2d;
mod up_sampling3d;
mod zero_padding1d;
mod zero_padding2d;
mod zero_padding3d;

use std::borrow::Cow;
use std::fmt::Debug;

use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

pub use activation_layer::ActivationLayer;
pub use activity_regularization::ActivityRegularization;
pub use alpha_dropout::AlphaDropout;
pub use augment::FillMode;
pub use average_pooling1d::AveragePooling1D;
pub use average_pooling2d::AveragePooling2D;
pub use batch_norm::BatchNormalization;
pub use bidirectional::{Bidirectional, RecurrentLayer};
pub use category_encoding::{CategoryEncoding, EncodingMode};
pub use center_crop::CenterCrop;
pub use conv1d::Conv1D;
pub use conv1d_transpose::Conv1DTranspose;
pub use conv2d::Conv2D;
pub use conv2d_transpose::Conv2DTranspose;
pub use conv3d::Conv3D;
pub use conv3d_transpose::Conv3DTranspose;
pub use cropping1d::Cropping1D;
pub use cropping2d::Cropping2D;
pub use cropping3d::Cropping3D;
pub use custom::{register_layer, CustomLayer, Initializer, Layer, LayerConstructor, LayerRegistry, LayerVars};
pub use data_format::DataFormat;
pub use dense::Dense;
pub use depthwise_conv2d::DepthwiseConv2D;
pub use discretization::Discretization;
pub use dropout::Dropout;
pub use elu::ELU;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use gaussian_dropout::GaussianDropout;
pub use gaussian_noise::GaussianNoise;
pub use global_average_pooling1d::GlobalAveragePooling1D;
pub use global_average_pooling2d::GlobalAveragePooling2D;
pub use global_max_pooling1d::GlobalMaxPooling1D;
pub use global_max_pooling2d::GlobalMaxPooling2D;
pub use global_pooling3d::{GlobalAveragePooling3D, GlobalMaxPooling3D};
pub use group_normalization::GroupNormalization;
pub use gru::GRU;
pub use layer_normalization::LayerNormalization;
pub use leaky_relu::LeakyReLU;
pub use lstm::LSTM;
pub use masking::{MaskRule, Masking};
pub use max_pooling1d::MaxPooling1D;
pub use max_pooling2d::MaxPooling2D;
pub use multi_head_attention::MultiHeadAttention;
pub(crate) use normalization::write_statistics;
pub use normalization::Normalization;
pub use padding::Padding;
pub use permute::Permute;
pub use pooling3d::{AveragePooling3D, MaxPooling3D};
pub use prelu::PReLU;
pub use random_brightness::RandomBrightness;
pub use random_contrast::RandomContrast;
pub use random_crop::RandomCrop;
pub use random_flip::{FlipMode, RandomFlip};
pub use random_grayscale::RandomGrayscale;
pub use random_rotation::RandomRotation;
pub use random_translation::RandomTranslation;
pub use random_zoom::RandomZoom;
pub use relu::ReLU;
pub use repeat_vector::RepeatVector;
pub use rescaling::Rescaling;
pub use reshape::Reshape;
pub use residual::Residual;
pub use resizing::{ResizeInterpolation, Resizing};
pub use rnn::MergeMode;
pub use separable_conv2d::SeparableConv2D;
pub use simple_rnn::SimpleRNN;
pub use size::Size1;
pub use size::Size2;
pub use size::Size3;
pub use softmax::Softmax;
pub use spatial_dropout1d::SpatialDropout1D;
pub use spatial_dropout2d::SpatialDropout2D;
pub use unit_normalization::UnitNormalization;
pub use up_sampling1d::UpSampling1D;
pub use up_sampling2d::{Interpolation, UpSampling2D};
pub use up_sampling3d::UpSampling3D;
pub use zero_padding1d::ZeroPadding1D;
pub use zero_padding2d::ZeroPadding2D;
pub use zero_padding3d::ZeroPadding3D;

use crate::{Activation, Error, Regularizer, Result};

/// What every built-in layer spec can do (a user's layer implements [`Layer`] instead). Shape errors are returned as a message; the model wraps them
/// with the layer's index, kind and input shape.
pub trait LayerSpec {
    /// The layer's kind as Keras names it, e.g. `Dense`.
    fn kind(&self) -> &'static str;
    /// The per-sample output shape for a per-sample input shape.
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String>;
    /// The variables [`build`](Self::build) creates for `input` (a shape
    /// [`output_shape`](Self::output_shape) accepts): each name under the layer's path and its
    /// shape, in name order. Computed without allocating anything, so a saved model's
    /// description can be checked against the tensors in its file before it is built.
    fn param_shapes(&self, _input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        Vec::new()
    }
    /// Creates the layer's variables under `path` and returns the built module.
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>>;
    /// The activation applied after the layer's own computation.
    fn activation(&self) -> Activation {
        Activation::Linear
    }
    /// The layer's variables that carry a [`Regularizer`] (name under the layer's path, and
    /// the penalty); none by default.
    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        Vec::new()
    }
    /// The penalty on the layer's output (after its activation) that the model adds to the
    /// loss, divided by the batch size, as Keras's `activity_regularizer`; none by default.
    fn activity_regularizer(&self) -> Option<Regularizer> {
        None
    }
    /// [`param_shapes`](Self::param_shapes) with owned names, what the model, saving and
    /// training read: a layer holding other layers ([`Residual`]) overrides it with nested
    /// names (`block.0.weight`).
    fn variable_shapes(&self, input: &[i64]) -> Vec<(String, Vec<i64>)> {
        self.param_shapes(input).into_iter().map(|(name, shape)| (name.to_string(), shape)).collect()
    }
    /// [`regularizers`](Self::regularizers) with owned names, overridden as
    /// [`variable_shapes`](Self::variable_shapes) is.
    fn variable_regularizers(&self) -> Vec<(String, Regularizer)> {
        self.regularizers().into_iter().map(|(name, r)| (name.to_string(), r)).collect()
    }
}

/// A built layer: one forward function with a train flag, so dropout and batch normalization
/// know the mode. The output is before the layer's activation; the model applies it.
pub trait LayerModule: Debug + Send {
    /// Computes the layer's output before its activation.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor>;
    /// The forward pass of a layer frozen with
    /// [`set_trainable`](crate::Sequential::set_trainable): [`forward_t`](Self::forward_t) by
    /// default. Batch normalization runs in inference mode there (Keras's `trainable = False`),
    /// and a [`Residual`] runs the layers inside it as frozen ones.
    fn forward_frozen_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_t(xs, train)
    }
    /// The forward pass with the mask of padded steps (`[N, T]` booleans, true for a real
    /// step) and the mask the next layer gets. Called only for layers whose
    /// [`LayerConfig::mask_rule`] is [`MaskRule::Own`]: [`forward_t`](Self::forward_t) and the
    /// mask passed on by default.
    fn forward_masked_t(&self, xs: &Tensor, mask: Option<&Tensor>, train: bool) -> Result<(Tensor, Option<Tensor>)> {
        Ok((self.forward_t(xs, train)?, mask.map(Tensor::shallow_clone)))
    }
}

/// A layer's configuration: what [`Sequential::add`](crate::Sequential::add) takes and what a
/// saved model's architecture JSON stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
pub enum LayerConfig {
    /// See [`Dense`].
    Dense(Dense),
    /// See [`Conv2D`].
    Conv2D(Conv2D),
    /// See [`MaxPooling2D`].
    MaxPooling2D(MaxPooling2D),
    /// See [`Flatten`].
    Flatten(Flatten),
    /// See [`Reshape`].
    Reshape(Reshape),
    /// See [`Dropout`].
    Dropout(Dropout),
    /// See [`BatchNormalization`].
    BatchNormalization(BatchNormalization),
    /// See [`ActivationLayer`].
    Activation(ActivationLayer),
    /// See [`Conv1D`].
    Conv1D(Conv1D),
    /// See [`AveragePooling2D`].
    AveragePooling2D(AveragePooling2D),
    /// See [`GlobalAveragePooling2D`].
    GlobalAveragePooling2D(GlobalAveragePooling2D),
    /// See [`GlobalMaxPooling2D`].
    GlobalMaxPooling2D(GlobalMaxPooling2D),
    /// See [`ZeroPadding2D`].
    ZeroPadding2D(ZeroPadding2D),
    /// See [`UpSampling2D`].
    UpSampling2D(UpSampling2D),
    /// See [`Embedding`].
    Embedding(Embedding),
    /// See [`LayerNormalization`].
    LayerNormalization(LayerNormalization),
    /// See [`LSTM`].
    LSTM(LSTM),
    /// See [`GRU`].
    GRU(GRU),
    /// See [`SpatialDropout2D`].
    SpatialDropout2D(SpatialDropout2D),
    /// See [`GaussianNoise`].
    GaussianNoise(GaussianNoise),
    /// See [`Normalization`].
    Normalization(Normalization),
    /// A user-written layer (see [`Layer`]), saved as its class name and JSON configuration.
    Custom(CustomLayer),
    /// See [`SimpleRNN`].
    SimpleRNN(SimpleRNN),
    /// See [`Bidirectional`].
    Bidirectional(Bidirectional),
    /// See [`RandomFlip`].
    RandomFlip(RandomFlip),
    /// See [`RandomTranslation`].
    RandomTranslation(RandomTranslation),
    /// See [`RandomRotation`].
    RandomRotation(RandomRotation),
    /// See [`RandomZoom`].
    RandomZoom(RandomZoom),
    /// See [`RandomContrast`].
    RandomContrast(RandomContrast),
    /// See [`RandomBrightness`].
    RandomBrightness(RandomBrightness),
    /// See [`Rescaling`].
    Rescaling(Rescaling),
    /// See [`GlobalAveragePooling1D`].
    GlobalAveragePooling1D(GlobalAveragePooling1D),
    /// See [`GlobalMaxPooling1D`].
    GlobalMaxPooling1D(GlobalMaxPooling1D),
    /// See [`MaxPooling1D`].
    MaxPooling1D(MaxPooling1D),
    /// See [`AveragePooling1D`].
    AveragePooling1D(AveragePooling1D),
    /// See [`Conv2DTranspose`].
    Conv2DTranspose(Conv2DTranspose),
    /// See [`Cropping1D`].
    Cropping1D(Cropping1D),
    /// See [`Cropping2D`].
    Cropping2D(Cropping2D),
    /// See [`ZeroPadding1D`].
    ZeroPadding1D(ZeroPadding1D),
    /// See [`UpSampling1D`].
    UpSampling1D(UpSampling1D),
    /// See [`RepeatVector`].
    RepeatVector(RepeatVector),
    /// See [`Permute`].
    Permute(Permute),
    /// See [`LeakyReLU`].
    LeakyReLU(LeakyReLU),
    /// See [`ELU`].
    ELU(ELU),
    /// See [`PReLU`].
    PReLU(PReLU),
    /// See [`ReLU`].
    ReLU(ReLU),
    /// See [`Softmax`].
    Softmax(Softmax),
    /// See [`Residual`].
    Residual(Residual),
    /// See [`MultiHeadAttention`].
    MultiHeadAttention(MultiHeadAttention),
    /// See [`DepthwiseConv2D`].
    DepthwiseConv2D(DepthwiseConv2D),
    /// See [`SeparableConv2D`].
    SeparableConv2D(SeparableConv2D),
    /// See [`GroupNormalization`].
    GroupNormalization(GroupNormalization),
    /// See [`UnitNormalization`].
    UnitNormalization(UnitNormalization),
    /// See [`ActivityRegularization`].
    ActivityRegularization(ActivityRegularization),
    /// See [`GaussianDropout`].
    GaussianDropout(GaussianDropout),
    /// See [`AlphaDropout`].
    AlphaDropout(AlphaDropout),
    /// See [`SpatialDropout1D`].
    SpatialDropout1D(SpatialDropout1D),
    /// See [`Conv3D`].
    Conv3D(Conv3D),
    /// See [`MaxPooling3D`].
    MaxPooling3D(MaxPooling3D),
    /// See [`AveragePooling3D`].
    AveragePooling3D(AveragePooling3D),
    /// See [`GlobalAveragePooling3D`].
    GlobalAveragePooling3D(GlobalAveragePooling3D),
    /// See [`GlobalMaxPooling3D`].
    GlobalMaxPooling3D(GlobalMaxPooling3D),
    /// See [`UpSampling3D`].
    UpSampling3D(UpSampling3D),
    /// See [`ZeroPadding3D`].
    ZeroPadding3D(ZeroPadding3D),
    /// See [`Cropping3D`].
    Cropping3D(Cropping3D),
    /// See [`Conv1DTranspose`].
    Conv1DTranspose(Conv1DTranspose),
    /// See [`Conv3DTranspose`].
    Conv3DTranspose(Conv3DTranspose),
    /// See [`Resizing`].
    Resizing(Resizing),
    /// See [`CenterCrop`].
    CenterCrop(CenterCrop),
    /// See [`RandomCrop`].
    RandomCrop(RandomCrop),
    /// See [`CategoryEncoding`].
    CategoryEncoding(CategoryEncoding),
    /// See [`Discretization`].
    Discretization(Discretization),
    /// See [`RandomGrayscale`].
    RandomGrayscale(RandomGrayscale),
    /// See [`Masking`].
    Masking(Masking),
}

impl LayerConfig {
    /// The spec behind this configuration.
    // One arm per layer kind: a table that grows with the layers, kept in one place.
    pub fn spec(&self) -> &dyn LayerSpec {
        match self {
            LayerConfig::Dense(l) => l,
            LayerConfig::Conv2D(l) => l,
            LayerConfig::MaxPooling2D(l) => l,
            LayerConfig::Flatten(l) => l,
            LayerConfig::Reshape(l) => l,
            LayerConfig::Dropout(l) => l,
            LayerConfig::BatchNormalization(l) => l,
            LayerConfig::Activation(l) => l,
            LayerConfig::Conv1D(l) => l,
            LayerConfig::AveragePooling2D(l) => l,
            LayerConfig::GlobalAveragePooling2D(l) => l,
            LayerConfig::GlobalMaxPooling2D(l) => l,
            LayerConfig::ZeroPadding2D(l) => l,
            LayerConfig::UpSampling2D(l) => l,
            LayerConfig::Embedding(l) => l,
            LayerConfig::LayerNormalization(l) => l,
            LayerConfig::LSTM(l) => l,
            LayerConfig::GRU(l) => l,
            LayerConfig::SpatialDropout2D(l) => l,
            LayerConfig::GaussianNoise(l) => l,
            LayerConfig::Normalization(l) => l,
            LayerConfig::Custom(l) => l,
            LayerConfig::SimpleRNN(l) => l,
            LayerConfig::Bidirectional(l) => l,
            LayerConfig::RandomFlip(l) => l,
            LayerConfig::RandomTranslation(l) => l,
            LayerConfig::RandomRotation(l) => l,
            LayerConfig::RandomZoom(l) => l,
            LayerConfig::RandomContrast(l) => l,
            LayerConfig::RandomBrightness(l) => l,
            LayerConfig::Rescaling(l) => l,
            LayerConfig::GlobalAveragePooling1D(l) => l,
            LayerConfig::GlobalMaxPooling1D(l) => l,
            LayerConfig::MaxPooling1D(l) => l,
            LayerConfig::AveragePooling1D(l) => l,
            LayerConfig::Conv2DTranspose(l) => l,
            LayerConfig::Cropping1D(l) => l,
            LayerConfig::Cropping2D(l) => l,
            LayerConfig::ZeroPadding1D(l) => l,
            LayerConfig::UpSampling1D(l) => l,
            LayerConfig::RepeatVector(l) => l,
            LayerConfig::Permute(l) => l,
            LayerConfig::LeakyReLU(l) => l,
            LayerConfig::ELU(l) => l,
            LayerConfig::PReLU(l) => l,
            LayerConfig::ReLU(l) => l,
            LayerConfig::Softmax(l) => l,
            LayerConfig::Residual(l) => l,
            LayerConfig::MultiHeadAttention(l) => l,
            LayerConfig::DepthwiseConv2D(l) => l,
            LayerConfig::SeparableConv2D(l) => l,
            LayerConfig::GroupNormalization(l) => l,
            LayerConfig::UnitNormalization(l) => l,
            LayerConfig::ActivityRegularization(l) => l,
            LayerConfig::GaussianDropout(l) => l,
            LayerConfig::AlphaDropout(l) => l,
            LayerConfig::SpatialDropout1D(l) => l,
            LayerConfig::Conv3D(l) => l,
            LayerConfig::MaxPooling3D(l) => l,
            LayerConfig::AveragePooling3D(l) => l,
            LayerConfig::GlobalAveragePooling3D(l) => l,
            LayerConfig::GlobalMaxPooling3D(l) => l,
            LayerConfig::UpSampling3D(l) => l,
            LayerConfig::ZeroPadding3D(l) => l,
            LayerConfig::Cropping3D(l) => l,
            LayerConfig::Conv1DTranspose(l) => l,
            LayerConfig::Conv3DTranspose(l) => l,
            LayerConfig::Resizing(l) => l,
            LayerConfig::CenterCrop(l) => l,
            LayerConfig::RandomCrop(l) => l,
            LayerConfig::CategoryEncoding(l) => l,
            LayerConfig::Discretization(l) => l,
            LayerConfig::RandomGrayscale(l) => l,
            LayerConfig::Masking(l) => l,
        }
    }

    /// Keras's default name prefix for the layer kind, e.g. `max_pooling2d` (a custom layer's
    /// class name in snake case).
    // One arm per layer kind: a table that grows with the layers, kept in one place.
    pub fn name_prefix(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            LayerConfig::Dense(_) => "dense",
            LayerConfig::Conv2D(_) => "conv2d",
            LayerConfig::MaxPooling2D(_) => "max_pooling2d",
            LayerConfig::Flatten(_) => "flatten",
            LayerConfig::Reshape(_) => "reshape",
            LayerConfig::Dropout(_) => "dropout",
            LayerConfig::BatchNormalization(_) => "batch_normalization",
            LayerConfig::Activation(_) => "activation",
            LayerConfig::Conv1D(_) => "conv1d",
            LayerConfig::AveragePooling2D(_) => "average_pooling2d",
            LayerConfig::GlobalAveragePooling2D(_) => "global_average_pooling2d",
            LayerConfig::GlobalMaxPooling2D(_) => "global_max_pooling2d",
            LayerConfig::ZeroPadding2D(_) => "zero_padding2d",
            LayerConfig::UpSampling2D(_) => "up_sampling2d",
            LayerConfig::Embedding(_) => "embedding",
            LayerConfig::LayerNormalization(_) => "layer_normalization",
            LayerConfig::LSTM(_) => "lstm",
            LayerConfig::GRU(_) => "gru",
            LayerConfig::SpatialDropout2D(_) => "spatial_dropout2d",
            LayerConfig::GaussianNoise(_) => "gaussian_noise",
            LayerConfig::Normalization(_) => "normalization",
            LayerConfig::Custom(l) => return Cow::Owned(l.name_prefix()),
            LayerConfig::SimpleRNN(_) => "simple_rnn",
            LayerConfig::Bidirectional(_) => "bidirectional",
            LayerConfig::RandomFlip(_) => "random_flip",
            LayerConfig::RandomTranslation(_) => "random_translation",
            LayerConfig::RandomRotation(_) => "random_rotation",
            LayerConfig::RandomZoom(_) => "random_zoom",
            LayerConfig::RandomContrast(_) => "random_contrast",
            LayerConfig::RandomBrightness(_) => "random_brightness",
            LayerConfig::Rescaling(_) => "rescaling",
            LayerConfig::GlobalAveragePooling1D(_) => "global_average_pooling1d",
            LayerConfig::GlobalMaxPooling1D(_) => "global_max_pooling1d",
            LayerConfig::MaxPooling1D(_) => "max_pooling1d",
            LayerConfig::AveragePooling1D(_) => "average_pooling1d",
            LayerConfig::Conv2DTranspose(_) => "conv2d_transpose",
            LayerConfig::Cropping1D(_) => "cropping1d",
            LayerConfig::Cropping2D(_) => "cropping2d",
            LayerConfig::ZeroPadding1D(_) => "zero_padding1d",
            LayerConfig::UpSampling1D(_) => "up_sampling1d",
            LayerConfig::RepeatVector(_) => "repeat_vector",
            LayerConfig::Permute(_) => "permute",
            LayerConfig::LeakyReLU(_) => "leaky_re_lu",
            LayerConfig::ELU(_) => "elu",
            LayerConfig::PReLU(_) => "p_re_lu",
            LayerConfig::ReLU(_) => "re_lu",
            LayerConfig::Softmax(_) => "softmax",
            LayerConfig::Residual(_) => "residual",
            LayerConfig::MultiHeadAttention(_) => "multi_head_attention",
            LayerConfig::DepthwiseConv2D(_) => "depthwise_conv2d",
            LayerConfig::SeparableConv2D(_) => "separable_conv2d",
            LayerConfig::GroupNormalization(_) => "group_normalization",
            LayerConfig::UnitNormalization(_) => "unit_normalization",
            LayerConfig::ActivityRegularization(_) => "activity_regularization",
            LayerConfig::GaussianDropout(_) => "gaussian_dropout",
            LayerConfig::AlphaDropout(_) => "alpha_dropout",
            LayerConfig::SpatialDropout1D(_) => "spatial_dropout1d",
            LayerConfig::Conv3D(_) => "conv3d",
            LayerConfig::MaxPooling3D(_) => "max_pooling3d",
            LayerConfig::AveragePooling3D(_) => "average_pooling3d",
            LayerConfig::GlobalAveragePooling3D(_) => "global_average_pooling3d",
            LayerConfig::GlobalMaxPooling3D(_) => "global_max_pooling3d",
            LayerConfig::UpSampling3D(_) => "up_sampling3d",
            LayerConfig::ZeroPadding3D(_) => "zero_padding3d",
            LayerConfig::Cropping3D(_) => "cropping3d",
            LayerConfig::Conv1DTranspose(_) => "conv1d_transpose",
            LayerConfig::Conv3DTranspose(_) => "conv3d_transpose",
            LayerConfig::Resizing(_) => "resizing",
            LayerConfig::CenterCrop(_) => "center_crop",
            LayerConfig::RandomCrop(_) => "random_crop",
            LayerConfig::CategoryEncoding(_) => "category_encoding",
            LayerConfig::Discretization(_) => "discretization",
            LayerConfig::RandomGrayscale(_) => "random_grayscale",
            LayerConfig::Masking(_) => "masking",
        })
    }

    /// Whether the layer draws random numbers in training (dropout, noise, a custom layer
    /// that says so), so a training step cannot be replayed from a CUDA graph.
    pub fn draws_random(&self) -> bool {
        match self {
            LayerConfig::Dropout(_) | LayerConfig::SpatialDropout2D(_) | LayerConfig::GaussianNoise(_) => true,
            LayerConfig::Custom(l) => l.stochastic(),
            LayerConfig::RandomFlip(_)
            | LayerConfig::RandomTranslation(_)
            | LayerConfig::RandomRotation(_)
            | LayerConfig::RandomZoom(_)
            | LayerConfig::RandomContrast(_)
            | LayerConfig::RandomBrightness(_) => true,
            LayerConfig::Residual(l) => l.draws_random(),
            LayerConfig::MultiHeadAttention(l) => l.dropout > 0.0,
            LayerConfig::GaussianDropout(_) | LayerConfig::AlphaDropout(_) | LayerConfig::SpatialDropout1D(_) => true,
            LayerConfig::RandomCrop(_) => true,
            LayerConfig::RandomGrayscale(_) => true,
            _ => false,
        }
    }
}

macro_rules! impl_from_spec {
    ($($t:ident => $v:ident),*) => {$(
        impl From<$t> for LayerConfig {
            fn from(l: $t) -> Self {
                LayerConfig::$v(l)
            }
        }
    )*};
}
impl_from_spec!(Dense => Dense, Conv2D => Conv2D, MaxPooling2D => MaxPooling2D, Flatten => Flatten,
    Reshape => Reshape, Dropout => Dropout, BatchNormalization => BatchNormalization,
    ActivationLayer => Activation, Conv1D => Conv1D, AveragePooling2D => AveragePooling2D, GlobalAveragePooling2D => GlobalAveragePooling2D, GlobalMaxPooling2D => GlobalMaxPooling2D, ZeroPadding2D => ZeroPadding2D, UpSampling2D => UpSampling2D, Embedding => Embedding, LayerNormalization => LayerNormalization, LSTM => LSTM, GRU => GRU, SpatialDropout2D => SpatialDropout2D, GaussianNoise => GaussianNoise, Normalization => Normalization);
impl_from_spec!(Rescaling => Rescaling, GlobalAveragePooling1D => GlobalAveragePooling1D, GlobalMaxPooling1D => GlobalMaxPooling1D, MaxPooling1D => MaxPooling1D, AveragePooling1D => AveragePooling1D, Conv2DTranspose => Conv2DTranspose);
impl_from_spec!(Cropping1D => Cropping1D, Cropping2D => Cropping2D, ZeroPadding1D => ZeroPadding1D, UpSampling1D => UpSampling1D, RepeatVector => RepeatVector, Permute => Permute);
impl_from_spec!(Residual => Residual);
impl_from_spec!(LeakyReLU => LeakyReLU, ELU => ELU, PReLU => PReLU, ReLU => ReLU, Softmax => Softmax);
impl_from_spec!(SimpleRNN => SimpleRNN, Bidirectional => Bidirectional, RandomFlip => RandomFlip, RandomTranslation => RandomTranslation, RandomRotation => RandomRotation, RandomZoom => RandomZoom, RandomContrast => RandomContrast, RandomBrightness => RandomBrightness);
impl_from_spec!(MultiHeadAttention => MultiHeadAttention);
impl_from_spec!(DepthwiseConv2D => DepthwiseConv2D, SeparableConv2D => SeparableConv2D);
impl_from_spec!(GroupNormalization => GroupNormalization);
impl_from_spec!(UnitNormalization => UnitNormalization);
impl_from_spec!(ActivityRegularization => ActivityRegularization, GaussianDropout => GaussianDropout);
impl_from_spec!(AlphaDropout => AlphaDropout, SpatialDropout1D => SpatialDropout1D);
impl_from_spec!(Conv3D => Conv3D, MaxPooling3D => MaxPooling3D, AveragePooling3D => AveragePooling3D, GlobalAveragePooling3D => GlobalAveragePooling3D, GlobalMaxPooling3D => GlobalMaxPooling3D, UpSampling3D => UpSampling3D, ZeroPadding3D => ZeroPadding3D, Cropping3D => Cropping3D);
impl_from_spec!(Conv1DTranspose => Conv1DTranspose, Conv3DTranspose => Conv3DTranspose);
impl_from_spec!(Resizing => Resizing, CenterCrop => CenterCrop, RandomCrop => RandomCrop);
impl_from_spec!(CategoryEncoding => CategoryEncoding, Discretization => Discretization);
impl_from_spec!(RandomGrayscale => RandomGrayscale);
impl_from_spec!(Masking => Masking);

/// A user-written layer is added like a built-in: `Sequential::new().add(MyLayer { .. })`.
impl<L: Layer + Serialize> From<L> for LayerConfig {
    fn from(layer: L) -> Self {
        LayerConfig::Custom(CustomLayer::new(layer))
    }
}

impl From<CustomLayer> for LayerConfig {
    fn from(layer: CustomLayer) -> Self {
        LayerConfig::Custom(layer)
    }
}

impl From<Activation> for LayerConfig {
    fn from(a: Activation) -> Self {
        LayerConfig::Activation(ActivationLayer::new(a))
    }
}

/// Glorot-uniform initialisation, Keras's default for kernels: `U(-l, l)`,
/// `l = sqrt(6 / (fan_in + fan_out))`.
pub(crate) fn glorot_uniform(fan_in: i64, fan_out: i64) -> nn::Init {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    nn::Init::Uniform { lo: -limit, up: limit }
}

pub(crate) fn config_error(layer: &'static str, message: impl Into<String>) -> Error {
    Error::LayerConfig { layer, message: message.into() }
}

/// The set regularizers of `(variable name, option)` pairs.
pub(crate) fn regularized<const N: usize>(
    options: [(&'static str, Option<Regularizer>); N],
) -> Vec<(&'static str, Regularizer)> {
    options.into_iter().filter_map(|(name, r)| r.map(|r| (name, r))).collect()
}

/// Refuses a layer's initializer or regularizer options Keras refuses, naming the layer.
pub(crate) fn check_options<const N: usize, const M: usize>(
    layer: &'static str,
    initializers: [crate::initializers::Initializer; N],
    regularizers: [Option<Regularizer>; M],
) -> Result<()> {
    options_problem(initializers, regularizers).map_err(|m| config_error(layer, m))
}

/// [`check_options`] for [`LayerSpec::output_shape`], so a summary and `load_model`'s check
/// of a model description refuse the options before anything is built.
pub(crate) fn options_problem<const N: usize, const M: usize>(
    initializers: [crate::initializers::Initializer; N],
    regularizers: [Option<Regularizer>; M],
) -> std::result::Result<(), String> {
    for init in initializers {
        init.check()?;
    }
    for r in regularizers.into_iter().flatten() {
        r.check()?;
    }
    Ok(())
}

/// Refuses a bias initializer that cannot draw a one-dimensional bias (orthogonal needs two
/// dimensions), naming the option, so the error says which layer and variable before anything
/// is drawn.
pub(crate) fn bias_problem(init: crate::initializers::Initializer) -> std::result::Result<(), String> {
    match init {
        crate::initializers::Initializer::Orthogonal { .. } => {
            Err("bias_initializer orthogonal needs a variable of at least two dimensions, and the bias has one: \
             use orthogonal for the kernel (kernel_initializer or recurrent_initializer) and zeros, ones or a \
             constant for the bias"
                .into())
        }
        _ => Ok(()),
    }
}

/// The builder methods of the initializer and regularizer options of a layer with a kernel and
/// a bias (`kernel_initializer`, `bias_initializer`, `kernel_regularizer`, `bias_regularizer`,
/// and `activity_regularizer` for its output).
macro_rules! weight_options {
    ($t:ty) => {
        impl $t {
            /// Sets how the kernel starts (Keras's `kernel_initializer`; default glorot-uniform).
            pub fn kernel_initializer(mut self, init: crate::Initializer) -> Self {
                self.kernel_initializer = init;
                self
            }
            /// Sets how the bias starts (Keras's `bias_initializer`; default zeros).
            pub fn bias_initializer(mut self, init: crate::Initializer) -> Self {
                self.bias_initializer = init;
                self
            }
            /// Adds a penalty on the kernel to the loss (Keras's `kernel_regularizer`).
            pub fn kernel_regularizer(mut self, regularizer: crate::Regularizer) -> Self {
                self.kernel_regularizer = Some(regularizer);
                self
            }
            /// Adds a penalty on the bias to the loss (Keras's `bias_regularizer`).
            pub fn bias_regularizer(mut self, regularizer: crate::Regularizer) -> Self {
                self.bias_regularizer = Some(regularizer);
                self
            }
            /// Adds a penalty on the layer's output, after its activation, to the loss,
            /// divided by the batch size (Keras 3's `activity_regularizer`).
            pub fn activity_regularizer(mut self, regularizer: crate::Regularizer) -> Self {
                self.activity_regularizer = Some(regularizer);
                self
            }
        }
    };
}
pub(crate) use weight_options;

/// The builder methods of a layer's `activation` and `use_bias` options (Dense, the
/// convolutions).
macro_rules! output_options {
    ($t:ty) => {
        impl $t {
            /// Sets the activation.
            pub fn activation(mut self, activation: crate::Activation) -> Self {
                self.activation = activation;
                self
            }
            /// Sets whether the layer has a bias.
            pub fn use_bias(mut self, use_bias: bool) -> Self {
                self.use_bias = use_bias;
                self
            }
        }
    };
}
pub(crate) use output_options;

/// Whether `value` is a number a float32 tensor holds: finite and within float32's range.
/// LibTorch refuses a scalar beyond it in a clamp or a fill (and tch then panics), so options
/// that reach such an operation are checked with this when the model is built.
pub(crate) fn fits_f32(value: f64) -> bool {
    value.is_finite() && value.abs() <= f64::from(f32::MAX)
}
