//! `Conv2DTranspose`: the transposed 2-D convolution over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::conv2d::conv2d_spec;
use super::padding::image;
use super::{config_error, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

conv2d_spec! {
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
    pub struct Conv2DTranspose {}
}

impl Conv2DTranspose {
    /// Input channels, output height and width, and the `[left, right, top, bottom]` padding
    /// (negative: cut) taking LibTorch's output to Keras's.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 2], [i64; 4]), String> {
        let [c, h, w] = image("Conv2DTranspose", input)?;
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
        self.options_problem()?;
        let (_, [oh, ow], _) = self.geometry(input)?;
        Ok(vec![self.filters, oh, ow])
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let [kh, kw] = self.kernel_size;
        self.shapes(vec![input.first().copied().unwrap_or(0), self.filters, kh, kw])
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if self.filters <= 0 {
            return Err(config_error("Conv2DTranspose", format!("filters must be positive, got {}", self.filters)));
        }
        let (cin, _, pad) = self.geometry(input).map_err(|m| config_error("Conv2DTranspose", m))?;
        let [kh, kw] = self.kernel_size;
        // Keras's kernel is (kh, kw, filters, in); ours [in, filters, kh, kw].
        let (weight, bias) = self.variables(path, [kh, kw, self.filters, cin])?;
        Ok(Box::new(ConvTransposeModule { weight, bias, strides: self.strides, pad }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        self.regularized()
    }
}
