//! `Conv2DTranspose`: the transposed 2-D convolution over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::conv2d::conv2d_spec;
use super::padding::{image, torch_pad};
use super::{config_error, LayerModule, LayerSpec, Padding};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

conv2d_spec! {
    /// A transposed convolution ("deconvolution") over `[channels, height, width]` inputs, which
    /// grows each axis by its stride. Keras 3's output size per axis, with `k' = (k - 1) * d + 1`
    /// the kernel dilated by `dilation_rate` `d`: `in * s + max(k' - s, 0)` with valid padding
    /// and `in * s` with same padding; with an `output_padding` `p`, `(in - 1) * s + k' + p`
    /// (valid) and `(in - 1) * s + k' % 2 + p` (same). The cells LibTorch's transposed
    /// convolution computes beyond that size are cut as Keras cuts them (the extra one at the
    /// end); missing cells (a kernel shorter than the stride, an output padding) are zeros plus
    /// the bias, as in Keras.
    ///
    /// Variables: `weight` `[in_channels, filters, kh, kw]` (PyTorch's `nn.ConvTranspose2d`
    /// layout; Keras's kernel `(kh, kw, filters, in_channels)` transposed), glorot-uniform over
    /// Keras's fans `filters * kh * kw` and `in_channels * kh * kw` (or `kernel_initializer`),
    /// and `bias` `[filters]` (zeros, or `bias_initializer`); either may carry a [`Regularizer`].
    /// Parameters: `in_channels * filters * kh * kw + filters`, as Keras.
    pub struct Conv2DTranspose {
        /// Keras's `output_padding`: extra cells at the end of each axis, each below its stride;
        /// `None` (Keras's default) gives the sizes above without it. Left out of saved files
        /// when `None`, so older files read the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub output_padding: Option<[i64; 2]> = None,
        /// Keras's `dilation_rate` along height and width (`[1, 1]`: none); above one only with
        /// strides of one, as in Keras. Left out of saved files when `[1, 1]`.
        #[serde(default = "no_dilation", skip_serializing_if = "is_no_dilation")]
        pub dilation_rate: [i64; 2] = no_dilation(),
    }
}

fn no_dilation() -> [i64; 2] {
    [1, 1]
}

fn is_no_dilation(rate: &[i64; 2]) -> bool {
    *rate == no_dilation()
}

impl Conv2DTranspose {
    /// Sets Keras's `output_padding`: one integer for both axes, or `(height, width)`, each
    /// below the stride along its axis.
    pub fn output_padding(mut self, output_padding: impl Into<super::Size2>) -> Self {
        self.output_padding = Some(output_padding.into().0);
        self
    }
    /// Sets Keras's `dilation_rate`: one integer for both axes, or `(height, width)`.
    pub fn dilation_rate(mut self, dilation_rate: impl Into<super::Size2>) -> Self {
        self.dilation_rate = dilation_rate.into().0;
        self
    }

    /// Input channels, output height and width, and the `[left, right, top, bottom]` padding
    /// (negative: cut) taking LibTorch's output to Keras's.
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 2], [i64; 4]), String> {
        let [c, h, w] = image("Conv2DTranspose", input)?;
        let options = (self.kernel_size, self.strides, self.dilation_rate, self.output_padding);
        let (out, pads) = transpose_geometry("Conv2DTranspose", self.padding, [h, w], options)?;
        Ok((c, out, torch_pad(pads)))
    }
}

/// A transposed convolution's kernel sizes, strides, dilation rates and output padding.
pub(super) type TransposeOptions<const N: usize> = ([i64; N], [i64; N], [i64; N], Option<[i64; N]>);

/// Keras's output sizes of a transposed convolution over `sizes` (one per spatial axis) and the
/// `[before, after]` padding per axis (negative: cut) taking LibTorch's output to them, after
/// checking the options as Keras does; errors name `kind`.
pub(super) fn transpose_geometry<const N: usize>(
    kind: &str,
    padding: Padding,
    sizes: [i64; N],
    (k, s, d, output_padding): TransposeOptions<N>,
) -> std::result::Result<([i64; N], [[i64; 2]; N]), String> {
    if k.iter().chain(s.iter()).any(|&v| v <= 0 || v > i64::from(i32::MAX)) {
        return Err(format!("{kind} needs kernel sizes and strides in 1..=2^31-1, got {k:?} and {s:?}"));
    }
    if d.iter().any(|&v| v <= 0 || v > i64::from(i32::MAX)) {
        return Err(format!("{kind} needs dilation rates in 1..=2^31-1, got {d:?}"));
    }
    if s.iter().any(|&v| v > 1) && d.iter().any(|&v| v > 1) {
        return Err(format!(
            "strides above 1 do not go with a dilation_rate above 1 (as in Keras), got strides {s:?} and \
             dilation_rate {d:?}: use one or the other"
        ));
    }
    if let Some(p) = output_padding {
        if (0..N).any(|i| p[i] < 0 || p[i] >= s[i]) {
            return Err(format!(
                "output_padding must be at least 0 and below the strides along each axis (as in Keras), got \
                 {p:?} with strides {s:?}"
            ));
        }
    }
    let mut out = [0; N];
    let mut pads = [[0; 2]; N];
    for i in 0..N {
        let (o, before, after) = transpose_axis(padding, sizes[i], k[i], s[i], d[i], output_padding.map(|p| p[i]))?;
        out[i] = o;
        pads[i] = [before, after];
    }
    if out.iter().any(|&o| o <= 0) {
        let cross = |v: [i64; N]| v.map(|n| n.to_string()).join("x");
        return Err(format!(
            "the output of an input of {} would be {}, empty: use a larger output_padding, or none",
            cross(sizes),
            cross(out)
        ));
    }
    Ok((out, pads))
}

/// One axis of `n` with kernel `k` dilated by `d`, stride `s` and output padding `p`: Keras's
/// output length, and the padding before and after LibTorch's output of `(n - 1) * s + k'`,
/// from the padding of the strided input Keras's backends use
/// (`_convert_conv_transpose_padding_args_from_keras_to_jax` in
/// keras/src/backend/common/backend_utils.py).
fn transpose_axis(
    padding: Padding,
    n: i64,
    k: i64,
    s: i64,
    d: i64,
    p: Option<i64>,
) -> std::result::Result<(i64, i64, i64), String> {
    let too_big = || format!("an input of {n} upsampled by a stride of {s} does not fit in 64 bits");
    // Sizes up to 2^31 - 1: the dilated kernel, below 2^62, fits.
    let kd = (k - 1) * d + 1;
    let full = (n - 1).checked_mul(s).and_then(|v| v.checked_add(kd)).ok_or_else(too_big)?;
    let (before, after) = match padding {
        Padding::Valid => (kd - 1, kd - 1 + p.unwrap_or(kd.max(s) - kd)),
        Padding::Same => {
            let total = match p {
                None => s + kd - 2,
                Some(p) => kd + kd % 2 - 2 + p,
            };
            let before = (total / 2 + total % 2).min(kd - 1);
            (before, total - before)
        }
    };
    // Relative to LibTorch's output, which pads the strided input by kd - 1 on each side.
    let (before, after) = (before - (kd - 1), after - (kd - 1));
    let out = full.checked_add(before + after).ok_or_else(too_big)?;
    Ok((out, before, after))
}

#[derive(Debug)]
struct ConvTransposeModule {
    weight: Tensor,
    /// `[filters]`, added after the padding so that added cells hold the bias.
    bias: Option<Tensor>,
    strides: [i64; 2],
    dilation: [i64; 2],
    pad: [i64; 4],
}

impl LayerModule for ConvTransposeModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let y = xs.f_conv_transpose2d::<&Tensor>(&self.weight, None, self.strides, [0, 0], [0, 0], 1, self.dilation)?;
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
        Ok(Box::new(ConvTransposeModule { weight, bias, strides: self.strides, dilation: self.dilation_rate, pad }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn activity_regularizer(&self) -> Option<Regularizer> {
        self.activity_regularizer
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        self.regularized()
    }
}
