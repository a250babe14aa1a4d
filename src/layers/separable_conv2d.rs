//! `SeparableConv2D`: a depthwise convolution followed by a 1x1 (pointwise) convolution, over
//! channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::depthwise_conv2d::DepthwiseOp;
use super::{check_options, config_error, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// Keras's `SeparableConv2D`: each input channel is convolved with its own `depth_multiplier`
/// kernels (as [`DepthwiseConv2D`](super::DepthwiseConv2D), without a bias), then a 1x1
/// convolution mixes the `channels * depth_multiplier` results into `filters` outputs, plus the
/// bias. `[channels, height, width]` becomes `[filters, out_height, out_width]`.
///
/// Variables: `depthwise_weight` `[channels * depth_multiplier, 1, kh, kw]` (as
/// `DepthwiseConv2D`'s `weight`), `pointwise_weight` `[filters, channels * depth_multiplier, 1,
/// 1]` (PyTorch's layout of Keras's `(1, 1, channels * depth_multiplier, filters)`), both
/// glorot-uniform with Keras's fans unless their initializers say otherwise, and `bias`
/// `[filters]` (zeros).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeparableConv2D {
    /// Output channels.
    pub filters: i64,
    /// Depthwise kernel height and width.
    pub kernel_size: [i64; 2],
    /// Strides of the depthwise step along height and width.
    pub strides: [i64; 2],
    /// Padding mode of the depthwise step.
    pub padding: Padding,
    /// Depthwise kernels per input channel.
    pub depth_multiplier: i64,
    /// Dilation of the depthwise step along height and width.
    pub dilation_rate: [i64; 2],
    /// Activation applied to the output.
    pub activation: Activation,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// How the depthwise kernel starts.
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub depthwise_initializer: Initializer,
    /// How the pointwise kernel starts.
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub pointwise_initializer: Initializer,
    /// How the bias starts.
    #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
    pub bias_initializer: Initializer,
    /// The depthwise kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depthwise_regularizer: Option<Regularizer>,
    /// The pointwise kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointwise_regularizer: Option<Regularizer>,
    /// The bias's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_regularizer: Option<Regularizer>,
}

impl SeparableConv2D {
    /// A separable convolution with `filters` outputs, stride 1, valid padding, one depthwise
    /// kernel per channel; the kernel is square (`3`) or `(height, width)`.
    pub fn new(filters: i64, kernel_size: impl Into<super::Size2>) -> Self {
        Self {
            filters,
            kernel_size: kernel_size.into().0,
            strides: [1, 1],
            padding: Padding::Valid,
            depth_multiplier: 1,
            dilation_rate: [1, 1],
            activation: Activation::Linear,
            use_bias: true,
            depthwise_initializer: defaults::kernel(),
            pointwise_initializer: defaults::kernel(),
            bias_initializer: defaults::bias(),
            depthwise_regularizer: None,
            pointwise_regularizer: None,
            bias_regularizer: None,
        }
    }
    /// Sets how the pointwise kernel starts (Keras's `pointwise_initializer`).
    pub fn pointwise_initializer(mut self, init: Initializer) -> Self {
        self.pointwise_initializer = init;
        self
    }
    /// Adds a penalty on the pointwise kernel to the loss (Keras's `pointwise_regularizer`).
    pub fn pointwise_regularizer(mut self, regularizer: Regularizer) -> Self {
        self.pointwise_regularizer = Some(regularizer);
        self
    }

    fn problem(&self) -> std::result::Result<(), String> {
        if self.filters <= 0 {
            return Err(format!("filters must be positive, got {}", self.filters));
        }
        super::options_problem(
            [self.depthwise_initializer, self.pointwise_initializer, self.bias_initializer],
            [self.depthwise_regularizer, self.pointwise_regularizer, self.bias_regularizer],
        )
    }
}

#[derive(Debug)]
struct SeparableModule {
    depthwise: DepthwiseOp,
    pointwise: Tensor,
    bias: Option<Tensor>,
}

impl LayerModule for SeparableModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let ys = self.depthwise.apply(xs)?;
        Ok(ys.f_conv2d(&self.pointwise, self.bias.as_ref(), [1, 1], [0, 0], [1, 1], 1)?)
    }
}

super::depthwise_conv2d::depthwise_options!(SeparableConv2D, "depthwise kernel");

impl LayerSpec for SeparableConv2D {
    fn kind(&self) -> &'static str {
        "SeparableConv2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.problem()?;
        let g = self.window().geometry("SeparableConv2D", input)?;
        Ok(vec![self.filters, g.height, g.width])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kh, kw] = self.kernel_size;
        let mid = input.first().copied().unwrap_or(0).saturating_mul(self.depth_multiplier);
        let mut shapes = Vec::with_capacity(3);
        if self.use_bias {
            shapes.push(("bias", vec![self.filters]));
        }
        shapes.push(("depthwise_weight", vec![mid, 1, kh, kw]));
        shapes.push(("pointwise_weight", vec![self.filters, mid, 1, 1]));
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.problem().map_err(|m| config_error("SeparableConv2D", m))?;
        let window = self.window();
        let g = window.geometry("SeparableConv2D", input).map_err(|m| config_error("SeparableConv2D", m))?;
        check_options(
            "SeparableConv2D",
            [self.depthwise_initializer, self.pointwise_initializer, self.bias_initializer],
            [self.depthwise_regularizer, self.pointwise_regularizer, self.bias_regularizer],
        )?;
        let weight = window.kernel(&self.depthwise_initializer, path, "depthwise_weight", input[0])?;
        // Keras's pointwise kernel is (1, 1, channels * m, filters); ours [filters, channels * m, 1, 1].
        let pointwise = self.pointwise_initializer.var(
            path,
            "pointwise_weight",
            &[1, 1, g.channels, self.filters],
            &[3, 2, 0, 1],
        )?;
        let bias =
            if self.use_bias { Some(self.bias_initializer.var(path, "bias", &[self.filters], &[0])?) } else { None };
        let depthwise = DepthwiseOp {
            weight,
            bias: None,
            strides: self.strides,
            dilation: self.dilation_rate,
            pad: g.pad,
            groups: input[0],
        };
        Ok(Box::new(SeparableModule { depthwise, pointwise, bias }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([
            ("depthwise_weight", self.depthwise_regularizer),
            ("pointwise_weight", self.pointwise_regularizer),
            ("bias", self.bias_regularizer),
        ])
    }
}
