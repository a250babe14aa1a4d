//! `Conv2DTranspose`: the transposed 2-D convolution over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::image;
use super::{check_options, config_error, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// A transposed convolution ("deconvolution") over `[channels, height, width]` inputs, which
/// grows each axis by its stride: Keras's output size, per axis, is `in * s + max(k - s, 0)`
/// with valid padding and `in * s` with same padding. The cells LibTorch's transposed
/// convolution computes beyond that size are cut as TensorFlow cuts them (the extra one at the
/// end); missing cells (a kernel shorter than the stride) are zeros plus the bias, as in Keras.
///
/// Variables: `weight` `[in_channels, filters, kh, kw]` (PyTorch's `nn.ConvTranspose2d`
/// layout; Keras's kernel `(kh, kw, filters, in_channels)` transposed), glorot-uniform over
/// Keras's fans `filters * kh * kw` and `in_channels * kh * kw` (or `kernel_initializer`),
/// and `bias` `[filters]` (zeros, or `bias_initializer`); either may carry a [`Regularizer`].
/// Parameters: `in_channels * filters * kh * kw + filters`, as Keras. Keras's
/// `output_padding` and `dilation_rate` are not taken.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Conv2DTranspose {
    /// Output channels.
    pub filters: i64,
    /// Kernel height and width.
    pub kernel_size: [i64; 2],
    /// Strides along height and width.
    pub strides: [i64; 2],
    /// Padding mode.
    pub padding: Padding,
    /// Activation applied to the output.
    pub activation: Activation,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// How the kernel starts (Keras's fans: `filters * kh * kw`, `in_channels * kh * kw`).
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
}

impl Conv2DTranspose {
    /// A transposed convolution with `filters` outputs, stride 1, valid padding; the kernel is
    /// square (`3`) or Keras's `(height, width)` (`(3, 5)`).
    pub fn new(filters: i64, kernel_size: impl Into<super::Size2>) -> Self {
        Self {
            filters,
            kernel_size: kernel_size.into().0,
            strides: [1, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: defaults::kernel(),
            bias_initializer: defaults::bias(),
            kernel_regularizer: None,
            bias_regularizer: None,
        }
    }
    /// Sets the strides: one integer for both axes, or `(height, width)`.
    pub fn strides(mut self, strides: impl Into<super::Size2>) -> Self {
        self.strides = strides.into().0;
        self
    }
    /// Sets the padding mode.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    /// Sets the activation.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    /// Sets whether the layer has a bias.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Input channels, output height and width, and the `[left, right, top, bottom]` padding
    /// (negative: cut) taking LibTorch's output to Keras's.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 2], [i64; 4]), String> {
        let [c, h, w] = image("Conv2DTranspose", input)?;
        if self.filters <= 0 {
            return Err(format!("filters must be positive, got {}", self.filters));
        }
        let (k, s) = (self.kernel_size, self.strides);
        if k.iter().chain(s.iter()).any(|&v| v <= 0 || v > i64::from(i32::MAX)) {
            return Err(format!("Conv2DTranspose needs kernel sizes and strides in 1..=2^31-1, got {k:?} and {s:?}"));
        }
        let (oh, top, bottom) = self.axis(h, k[0], s[0])?;
        let (ow, left, right) = self.axis(w, k[1], s[1])?;
        Ok((c, [oh, ow], [left, right, top, bottom]))
    }

    /// One axis: Keras's output length, and the padding before and after LibTorch's output
    /// of `(n - 1) * s + k`.
    fn axis(&self, n: i64, k: i64, s: i64) -> std::result::Result<(i64, i64, i64), String> {
        let too_big = || format!("an input of {n} upsampled by a stride of {s} does not fit in 64 bits");
        let strided = n.checked_mul(s).ok_or_else(too_big)?;
        let full = (n - 1).checked_mul(s).and_then(|v| v.checked_add(k)).ok_or_else(too_big)?;
        let out = match self.padding {
            Padding::Valid => strided.checked_add((k - s).max(0)).ok_or_else(too_big)?,
            Padding::Same => strided,
        };
        // A cut splits as TensorFlow's: the smaller half before.
        let cut = (full - out).max(0);
        Ok((out, -(cut / 2), (out - full).max(0) - (cut - cut / 2)))
    }
}

super::weight_options!(Conv2DTranspose);

#[derive(Debug)]
struct ConvTransposeModule {
    weight: Tensor,
    /// `[filters]`, added after the padding so that added cells hold the bias.
    bias: Option<Tensor>,
    strides: [i64; 2],
    pad: [i64; 4],
}

impl LayerModule for ConvTransposeModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let y = xs.f_conv_transpose2d::<&Tensor>(&self.weight, None, self.strides, [0, 0], [0, 0], 1, [1, 1])?;
        let y = if self.pad == [0; 4] { y } else { y.f_constant_pad_nd(self.pad)? };
        Ok(match &self.bias {
            Some(b) => y.f_add(&b.f_view([1, -1, 1, 1])?)?,
            None => y,
        })
    }
}

impl LayerSpec for Conv2DTranspose {
    fn kind(&self) -> &'static str {
        "Conv2DTranspose"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        super::options_problem(
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer],
        )?;
        let (_, [oh, ow], _) = self.geometry(input)?;
        Ok(vec![self.filters, oh, ow])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kh, kw] = self.kernel_size;
        let mut shapes = Vec::with_capacity(2);
        if self.use_bias {
            shapes.push(("bias", vec![self.filters]));
        }
        shapes.push(("weight", vec![input.first().copied().unwrap_or(0), self.filters, kh, kw]));
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (cin, _, pad) = self.geometry(input).map_err(|m| config_error("Conv2DTranspose", m))?;
        let [kh, kw] = self.kernel_size;
        check_options(
            "Conv2DTranspose",
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer],
        )?;
        // Keras's kernel is (kh, kw, filters, in); ours [in, filters, kh, kw].
        let weight = self.kernel_initializer.var(path, "weight", &[kh, kw, self.filters, cin], &[3, 2, 0, 1])?;
        let bias =
            if self.use_bias { Some(self.bias_initializer.var(path, "bias", &[self.filters], &[0])?) } else { None };
        Ok(Box::new(ConvTransposeModule { weight, bias, strides: self.strides, pad }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)])
    }
}
