//! `Conv2D` and `MaxPooling2D` over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, glorot_uniform, Layer, LayerSpec};
use crate::{Activation, Result};

/// Keras's padding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: output `floor((in - k) / s) + 1`.
    #[default]
    Valid,
    /// Zero padding so the output is `ceil(in / s)`, split as TensorFlow does (extra on the
    /// bottom/right).
    Same,
}

/// A 2-D convolution over `[channels, height, width]` inputs.
///
/// Variables: `weight` `[filters, in_channels, kh, kw]` (PyTorch's `nn.Conv2d` layout,
/// glorot-uniform) and `bias` `[filters]` (zeros).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Conv2D {
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
}

impl Conv2D {
    /// A convolution with `filters` outputs and a square kernel, stride 1, valid padding.
    pub fn new(filters: i64, kernel_size: i64) -> Self {
        Self {
            filters,
            kernel_size: [kernel_size, kernel_size],
            strides: [1, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
        }
    }
    /// Sets a non-square kernel.
    pub fn kernel_size(mut self, kh: i64, kw: i64) -> Self {
        self.kernel_size = [kh, kw];
        self
    }
    /// Sets the same stride on both axes.
    pub fn strides(mut self, s: i64) -> Self {
        self.strides = [s, s];
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
}

/// Output length and (before, after) padding of one spatial axis.
fn axis(input: i64, k: i64, s: i64, padding: Padding) -> (i64, i64, i64) {
    match padding {
        Padding::Valid => ((input - k).div_euclid(s) + 1, 0, 0),
        Padding::Same => {
            // ceil(input / s) for a positive input, without overflow.
            let out = (input - 1) / s + 1;
            let total = ((out - 1) * s + k - input).max(0);
            (out, total / 2, total - total / 2)
        }
    }
}

fn spatial(
    kind: &str,
    input: &[i64],
    k: [i64; 2],
    s: [i64; 2],
    padding: Padding,
) -> std::result::Result<(i64, i64, [i64; 4]), String> {
    let [_, h, w] = input else {
        return Err(format!(
            "{kind} takes images (None, channels, height, width) but got a {}-D input per sample; \
             reshape the data to [N, C, H, W] or start the model with Reshape",
            input.len()
        ));
    };
    if k.iter().chain(s.iter()).any(|&v| v <= 0) {
        return Err(format!("{kind} needs positive kernel sizes and strides, got {k:?} and {s:?}"));
    }
    let (oh, top, bottom) = axis(*h, k[0], s[0], padding);
    let (ow, left, right) = axis(*w, k[1], s[1], padding);
    if oh <= 0 || ow <= 0 || (padding == Padding::Valid && (k[0] > *h || k[1] > *w)) {
        return Err(format!(
            "the {}x{} window is larger than the {h}x{w} input; use a smaller kernel or padding 'same'",
            k[0], k[1]
        ));
    }
    Ok((oh, ow, [left, right, top, bottom]))
}

#[derive(Debug)]
struct ConvModule {
    weight: Tensor,
    bias: Option<Tensor>,
    strides: [i64; 2],
    pad: [i64; 4],
}

impl Layer for ConvModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let [l, r, t, b] = self.pad;
        let (xs, padding) =
            if l == r && t == b { (xs.shallow_clone(), [t, l]) } else { (xs.f_constant_pad_nd([l, r, t, b])?, [0, 0]) };
        Ok(xs.f_conv2d(&self.weight, self.bias.as_ref(), self.strides, padding, [1, 1], 1)?)
    }
}

impl LayerSpec for Conv2D {
    fn kind(&self) -> &'static str {
        "Conv2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.filters <= 0 {
            return Err(format!("filters must be positive, got {}", self.filters));
        }
        let (oh, ow, _) = spatial("Conv2D", input, self.kernel_size, self.strides, self.padding)?;
        Ok(vec![self.filters, oh, ow])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kh, kw] = self.kernel_size;
        let mut shapes = Vec::with_capacity(2);
        if self.use_bias {
            shapes.push(("bias", vec![self.filters]));
        }
        shapes.push(("weight", vec![self.filters, input.first().copied().unwrap_or(0), kh, kw]));
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn Layer>> {
        if self.filters <= 0 {
            return Err(config_error("Conv2D", format!("filters must be positive, got {}", self.filters)));
        }
        let (_, _, pad) = spatial("Conv2D", input, self.kernel_size, self.strides, self.padding)
            .map_err(|m| config_error("Conv2D", m))?;
        let [kh, kw] = self.kernel_size;
        let cin = input[0];
        let init = glorot_uniform(cin * kh * kw, self.filters * kh * kw);
        let weight = path.f_var("weight", &[self.filters, cin, kh, kw], init)?;
        let bias = if self.use_bias { Some(path.f_var("bias", &[self.filters], nn::Init::Const(0.0))?) } else { None };
        Ok(Box::new(ConvModule { weight, bias, strides: self.strides, pad }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }
}

/// 2-D max pooling over `[channels, height, width]` inputs, valid padding. Strides default to
/// the pool size, as in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxPooling2D {
    /// Window height and width.
    pub pool_size: [i64; 2],
    /// Strides along height and width.
    pub strides: [i64; 2],
}

impl MaxPooling2D {
    /// A square pooling window; strides equal to the window.
    pub fn new(pool: i64) -> Self {
        Self { pool_size: [pool, pool], strides: [pool, pool] }
    }
    /// Sets the same stride on both axes.
    pub fn strides(mut self, s: i64) -> Self {
        self.strides = [s, s];
        self
    }
}

impl Default for MaxPooling2D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct MaxPoolModule {
    pool: [i64; 2],
    strides: [i64; 2],
}

impl Layer for MaxPoolModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_max_pool2d(self.pool, self.strides, [0, 0], [1, 1], false)?)
    }
}

impl LayerSpec for MaxPooling2D {
    fn kind(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (oh, ow, _) = spatial("MaxPooling2D", input, self.pool_size, self.strides, Padding::Valid)?;
        Ok(vec![input[0], oh, ow])
    }

    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn Layer>> {
        Ok(Box::new(MaxPoolModule { pool: self.pool_size, strides: self.strides }))
    }
}
