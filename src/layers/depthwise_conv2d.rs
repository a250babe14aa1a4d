//! `DepthwiseConv2D`: a 2-D convolution of each input channel on its own, over channels-first
//! (`NCHW`) images; also the depthwise step [`SeparableConv2D`](super::SeparableConv2D) shares.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::spatial;
use super::{check_options, config_error, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// Convolves each of the input's channels with its own `depth_multiplier` kernels (Keras's
/// `DepthwiseConv2D`): `[channels, height, width]` becomes
/// `[channels * depth_multiplier, out_height, out_width]`, output channel
/// `c * depth_multiplier + m` being input channel `c`'s `m`-th kernel, as in Keras.
///
/// Variables: `weight` `[channels * depth_multiplier, 1, kh, kw]` (PyTorch's layout of a
/// convolution with `groups = channels`; Keras's `(kh, kw, channels, depth_multiplier)` kernel
/// permuted and reshaped; glorot-uniform with Keras's fans unless
/// [`depthwise_initializer`](Self::depthwise_initializer) says otherwise) and `bias`
/// `[channels * depth_multiplier]` (zeros unless [`bias_initializer`](Self::bias_initializer)
/// says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DepthwiseConv2D {
    /// Kernel height and width.
    pub kernel_size: [i64; 2],
    /// Strides along height and width.
    pub strides: [i64; 2],
    /// Padding mode.
    pub padding: Padding,
    /// Kernels per input channel.
    pub depth_multiplier: i64,
    /// Dilation along height and width.
    pub dilation_rate: [i64; 2],
    /// Activation applied to the output.
    pub activation: Activation,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// How the kernel starts (Keras's fans: `kh * kw * channels`, `kh * kw * depth_multiplier`).
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub depthwise_initializer: Initializer,
    /// How the bias starts.
    #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
    pub bias_initializer: Initializer,
    /// The kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depthwise_regularizer: Option<Regularizer>,
    /// The bias's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_regularizer: Option<Regularizer>,
}

/// The builder methods `DepthwiseConv2D` and `SeparableConv2D` share: the window, the
/// depthwise kernel's and the bias's initializers and regularizers, `activation` and `use_bias`
/// (`output_options!`), and their [`Window`]; `$kernel` names the depthwise kernel in the docs.
macro_rules! depthwise_options {
    ($t:ty, $kernel:literal) => {
        impl $t {
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
            #[doc = concat!("Sets the number of ", $kernel, "s per input channel.")]
            pub fn depth_multiplier(mut self, depth_multiplier: i64) -> Self {
                self.depth_multiplier = depth_multiplier;
                self
            }
            /// Sets the dilation: one integer for both axes, or `(height, width)`.
            pub fn dilation_rate(mut self, dilation_rate: impl Into<super::Size2>) -> Self {
                self.dilation_rate = dilation_rate.into().0;
                self
            }
            #[doc = concat!("Sets how the ", $kernel, " starts (Keras's `depthwise_initializer`; default glorot-uniform).")]
            pub fn depthwise_initializer(mut self, init: Initializer) -> Self {
                self.depthwise_initializer = init;
                self
            }
            /// Sets how the bias starts (Keras's `bias_initializer`; default zeros).
            pub fn bias_initializer(mut self, init: Initializer) -> Self {
                self.bias_initializer = init;
                self
            }
            #[doc = concat!("Adds a penalty on the ", $kernel, " to the loss (Keras's `depthwise_regularizer`).")]
            pub fn depthwise_regularizer(mut self, regularizer: Regularizer) -> Self {
                self.depthwise_regularizer = Some(regularizer);
                self
            }
            /// Adds a penalty on the bias to the loss (Keras's `bias_regularizer`).
            pub fn bias_regularizer(mut self, regularizer: Regularizer) -> Self {
                self.bias_regularizer = Some(regularizer);
                self
            }

            fn window(&self) -> super::depthwise_conv2d::Window {
                super::depthwise_conv2d::Window {
                    kernel_size: self.kernel_size,
                    strides: self.strides,
                    padding: self.padding,
                    depth_multiplier: self.depth_multiplier,
                    dilation_rate: self.dilation_rate,
                }
            }
        }

        super::output_options!($t);
    };
}
pub(super) use depthwise_options;

impl DepthwiseConv2D {
    /// A depthwise convolution, stride 1, valid padding, one kernel per channel; the kernel is
    /// square (`3`) or `(height, width)`.
    pub fn new(kernel_size: impl Into<super::Size2>) -> Self {
        Self {
            kernel_size: kernel_size.into().0,
            strides: [1, 1],
            padding: Padding::Valid,
            depth_multiplier: 1,
            dilation_rate: [1, 1],
            activation: Activation::Linear,
            use_bias: true,
            depthwise_initializer: defaults::kernel(),
            bias_initializer: defaults::bias(),
            depthwise_regularizer: None,
            bias_regularizer: None,
        }
    }
}

depthwise_options!(DepthwiseConv2D, "kernel");

/// The window of a depthwise convolution, shared with `SeparableConv2D`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub(super) kernel_size: [i64; 2],
    pub(super) strides: [i64; 2],
    pub(super) padding: Padding,
    pub(super) depth_multiplier: i64,
    pub(super) dilation_rate: [i64; 2],
}

/// Where a depthwise convolution's output lands: its channels, height and width, and the
/// `[left, right, top, bottom]` padding.
pub(super) struct Geometry {
    pub(super) channels: i64,
    pub(super) height: i64,
    pub(super) width: i64,
    pub(super) pad: [i64; 4],
}

impl Window {
    /// The output geometry on `input`, or what is wrong (the caller names the layer).
    pub(super) fn geometry(&self, kind: &str, input: &[i64]) -> std::result::Result<Geometry, String> {
        let m = self.depth_multiplier;
        if m <= 0 {
            return Err(format!("depth_multiplier must be positive, got {m}"));
        }
        let (k, d) = (self.kernel_size, self.dilation_rate);
        if k.iter().chain(d.iter()).any(|&v| !(1..=i64::from(i32::MAX)).contains(&v)) {
            return Err(format!("kernel sizes and dilation rates must be in 1..={}, got {k:?} and {d:?}", i32::MAX));
        }
        // The dilated window: d * (k - 1) + 1, within 64 bits for the sizes above.
        let span = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
        let (height, width, pad) = spatial(kind, input, span, self.strides, self.padding)?;
        let channels = input[0].checked_mul(m).ok_or_else(|| {
            format!(
                "{} channels times depth_multiplier {m} does not fit in 64 bits; use a smaller multiplier",
                input[0]
            )
        })?;
        Ok(Geometry { channels, height, width, pad })
    }

    /// The depthwise kernel `[channels * m, 1, kh, kw]` drawn as Keras's `(kh, kw, channels, m)`.
    pub(super) fn kernel(&self, init: &Initializer, path: &nn::Path, name: &str, channels: i64) -> Result<Tensor> {
        let ([kh, kw], m) = (self.kernel_size, self.depth_multiplier);
        let t =
            init.tensor(&[kh, kw, channels, m], &[2, 3, 0, 1], path.device())?.f_reshape([channels * m, 1, kh, kw])?;
        Ok(path.add(name, t, true))
    }
}

/// A built depthwise convolution: LibTorch's grouped convolution, one group per input channel.
#[derive(Debug)]
pub(super) struct DepthwiseOp {
    pub(super) weight: Tensor,
    pub(super) bias: Option<Tensor>,
    pub(super) strides: [i64; 2],
    pub(super) dilation: [i64; 2],
    pub(super) pad: [i64; 4],
    pub(super) groups: i64,
}

impl DepthwiseOp {
    pub(super) fn apply(&self, xs: &Tensor) -> Result<Tensor> {
        let [l, r, t, b] = self.pad;
        let (xs, padding) =
            if l == r && t == b { (xs.shallow_clone(), [t, l]) } else { (xs.f_constant_pad_nd([l, r, t, b])?, [0, 0]) };
        Ok(xs.f_conv2d(&self.weight, self.bias.as_ref(), self.strides, padding, self.dilation, self.groups)?)
    }
}

#[derive(Debug)]
struct DepthwiseModule(DepthwiseOp);

impl LayerModule for DepthwiseModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.0.apply(xs)
    }
}

impl LayerSpec for DepthwiseConv2D {
    fn kind(&self) -> &'static str {
        "DepthwiseConv2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        super::options_problem(
            [self.depthwise_initializer, self.bias_initializer],
            [self.depthwise_regularizer, self.bias_regularizer],
        )?;
        let g = self.window().geometry("DepthwiseConv2D", input)?;
        Ok(vec![g.channels, g.height, g.width])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kh, kw] = self.kernel_size;
        let out = input.first().copied().unwrap_or(0).saturating_mul(self.depth_multiplier);
        let mut shapes = Vec::with_capacity(2);
        if self.use_bias {
            shapes.push(("bias", vec![out]));
        }
        shapes.push(("weight", vec![out, 1, kh, kw]));
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let window = self.window();
        let g = window.geometry("DepthwiseConv2D", input).map_err(|m| config_error("DepthwiseConv2D", m))?;
        check_options(
            "DepthwiseConv2D",
            [self.depthwise_initializer, self.bias_initializer],
            [self.depthwise_regularizer, self.bias_regularizer],
        )?;
        let weight = window.kernel(&self.depthwise_initializer, path, "weight", input[0])?;
        let bias =
            if self.use_bias { Some(self.bias_initializer.var(path, "bias", &[g.channels], &[0])?) } else { None };
        Ok(Box::new(DepthwiseModule(DepthwiseOp {
            weight,
            bias,
            strides: self.strides,
            dilation: self.dilation_rate,
            pad: g.pad,
            groups: input[0],
        })))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([("weight", self.depthwise_regularizer), ("bias", self.bias_regularizer)])
    }
}
