//! `Conv1D`: a 1-D convolution over channels-first sequences (`NCL`), or channels-last ones.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::axis;
use super::{check_options, config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// A 1-D convolution over `[channels, length]` inputs (channels first, as `Conv2D`'s images;
/// Keras's `(steps, channels)` is `[channels, steps]` here). With
/// `.data_format(DataFormat::ChannelsLast)` it takes Keras's `(None, steps, features)`
/// sequences, what [`Embedding`](super::Embedding), `LSTM` and `GRU` produce, and outputs
/// `(None, steps, filters)`: `Embedding -> Conv1D(channels_last) -> GlobalMaxPooling1D(channels_last)`.
///
/// Variables: `weight` `[filters, in_channels, kernel_size]` (PyTorch's `nn.Conv1d` layout;
/// glorot-uniform over Keras's fans `in_channels * k` and `filters * k` unless
/// [`kernel_initializer`](Self::kernel_initializer) says otherwise) and `bias` `[filters]`
/// (zeros unless [`bias_initializer`](Self::bias_initializer) says otherwise); either may
/// carry a [`Regularizer`]. Parameters: `filters * (in_channels * k + 1)`, as Keras.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Conv1D {
    /// Output channels.
    pub filters: i64,
    /// Kernel length.
    pub kernel_size: i64,
    /// Stride along the length.
    pub strides: i64,
    /// Padding mode.
    pub padding: Padding,
    /// Activation applied to the output.
    pub activation: Activation,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
    /// How the kernel starts (Keras's fans: `in_channels * kernel_size`, `filters * kernel_size`).
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub kernel_initializer: Initializer,
    /// How the bias starts.
    #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
    pub bias_initializer: Initializer,
    /// The kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_regularizer: Option<Regularizer>,
    /// The bias's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_regularizer: Option<Regularizer>,
    /// The penalty on the layer's output (after its activation), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_regularizer: Option<Regularizer>,
}

impl Conv1D {
    /// A convolution with `filters` outputs and a kernel of `kernel_size`, stride 1, valid padding.
    pub fn new(filters: i64, kernel_size: i64) -> Self {
        Self {
            filters,
            kernel_size,
            strides: 1,
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            data_format: DataFormat::ChannelsFirst,
            kernel_initializer: defaults::kernel(),
            bias_initializer: defaults::bias(),
            kernel_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
        }
    }
    /// Sets the stride.
    pub fn strides(mut self, s: i64) -> Self {
        self.strides = s;
        self
    }
    /// Sets the padding mode.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    /// Sets which axis holds the channels.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    /// Input channels, output length and (left, right) padding.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, i64, [i64; 2]), String> {
        let (channels, length) = self.data_format.split("Conv1D", input)?;
        if self.kernel_size <= 0 || self.strides <= 0 {
            return Err(format!(
                "Conv1D needs a positive kernel size and stride, got {} and {}",
                self.kernel_size, self.strides
            ));
        }
        let (out, left, right) = axis(length, self.kernel_size, self.strides, self.padding);
        if out <= 0 || (self.padding == Padding::Valid && self.kernel_size > length) {
            return Err(format!(
                "the kernel of {} is longer than the input length {length}; use a smaller kernel or padding 'same'",
                self.kernel_size
            ));
        }
        Ok((channels, out, [left, right]))
    }
}

super::weight_options!(Conv1D);
super::output_options!(Conv1D);

#[derive(Debug)]
struct Conv1DModule {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: i64,
    pad: [i64; 2],
    data_format: DataFormat,
}

impl LayerModule for Conv1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.data_format.channels_first(xs, |xs| {
            let [l, r] = self.pad;
            let (xs, padding) = if l == r { (xs.shallow_clone(), l) } else { (xs.f_constant_pad_nd([l, r])?, 0) };
            Ok(xs.f_conv1d(&self.weight, self.bias.as_ref(), [self.stride], [padding], [1], 1)?)
        })
    }
}

impl LayerSpec for Conv1D {
    fn kind(&self) -> &'static str {
        "Conv1D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.filters <= 0 {
            return Err(format!("filters must be positive, got {}", self.filters));
        }
        super::options_problem(
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
        )?;
        super::bias_problem(self.bias_initializer)?;
        let (_, out, _) = self.geometry(input)?;
        Ok(self.data_format.join(self.filters, out))
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let mut shapes = Vec::with_capacity(2);
        if self.use_bias {
            shapes.push(("bias", vec![self.filters]));
        }
        let channels = self.data_format.split("Conv1D", input).map_or(0, |(c, _)| c);
        shapes.push(("weight", vec![self.filters, channels, self.kernel_size]));
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if self.filters <= 0 {
            return Err(config_error("Conv1D", format!("filters must be positive, got {}", self.filters)));
        }
        let (cin, _, pad) = self.geometry(input).map_err(|m| config_error("Conv1D", m))?;
        let k = self.kernel_size;
        check_options(
            "Conv1D",
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
        )?;
        super::bias_problem(self.bias_initializer).map_err(|m| config_error("Conv1D", m))?;
        // Keras's kernel is (k, in, filters); ours [filters, in, k].
        let weight = self.kernel_initializer.var(path, "weight", &[k, cin, self.filters], &[2, 1, 0])?;
        let bias =
            if self.use_bias { Some(self.bias_initializer.var(path, "bias", &[self.filters], &[0])?) } else { None };
        Ok(Box::new(Conv1DModule { weight, bias, stride: self.strides, pad, data_format: self.data_format }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn activity_regularizer(&self) -> Option<Regularizer> {
        self.activity_regularizer
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)])
    }
}
