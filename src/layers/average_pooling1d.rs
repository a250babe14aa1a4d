//! `AveragePooling1D`: the mean of each window along a sequence's length.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::data_format::window;
use super::{config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::Result;

/// 1-D average pooling along the length of `(None, channels, length)` inputs (the layout of
/// [`Conv1D`](super::Conv1D)), or of `(None, steps, features)` sequences with
/// `.data_format(DataFormat::ChannelsLast)`. Keras's defaults: pool size 2, strides equal to
/// the pool size, valid padding. With padding `same` a window's mean is over its steps inside
/// the input (padding is not counted, as in Keras), split as TensorFlow splits it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AveragePooling1D {
    /// Window length.
    pub pool_size: i64,
    /// Step between windows.
    pub strides: i64,
    /// Padding mode.
    #[serde(default)]
    pub padding: Padding,
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl AveragePooling1D {
    /// A window of `pool_size`, strides equal to it, valid padding, channels first.
    pub fn new(pool_size: i64) -> Self {
        Self { pool_size, strides: pool_size, padding: Padding::Valid, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets the stride.
    pub fn strides(mut self, strides: i64) -> Self {
        self.strides = strides;
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

    /// Channels, input length, output length, padding and the window length run (see
    /// `data_format::window`).
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, i64, i64, [i64; 2], i64), String> {
        let (c, l) = self.data_format.split("AveragePooling1D", input)?;
        let (out, pad, pool) = window("AveragePooling1D", l, self.pool_size, self.strides, self.padding)?;
        Ok((c, l, out, pad, pool))
    }
}

impl Default for AveragePooling1D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct AvgPool1DModule {
    pool: i64,
    stride: i64,
    pad: [i64; 2],
    data_format: DataFormat,
    /// With padding: the fraction of each window inside the input, `[1, 1, out]`.
    inside: Option<Tensor>,
}

impl LayerModule for AvgPool1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.data_format.channels_first(xs, |xs| {
            let Some(inside) = &self.inside else {
                return Ok(xs.f_avg_pool1d([self.pool], [self.stride], [0], false, true)?);
            };
            // The mean over the whole padded window, rescaled to the mean over its steps inside.
            let padded = xs.f_constant_pad_nd(self.pad)?;
            Ok(padded.f_avg_pool1d([self.pool], [self.stride], [0], false, true)?.f_div(inside)?)
        })
    }
}

impl LayerSpec for AveragePooling1D {
    fn kind(&self) -> &'static str {
        "AveragePooling1D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, _, out, ..) = self.geometry(input)?;
        Ok(self.data_format.join(c, out))
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, length, _, pad, pool) = self.geometry(input).map_err(|m| config_error("AveragePooling1D", m))?;
        let stride = self.strides;
        let inside = if pad != [0, 0] {
            let ones = Tensor::f_ones([1, 1, length], (Kind::Float, path.device()))?.f_constant_pad_nd(pad)?;
            Some(ones.f_avg_pool1d([pool], [stride], [0], false, true)?)
        } else {
            None
        };
        Ok(Box::new(AvgPool1DModule { pool, stride, pad, data_format: self.data_format, inside }))
    }
}
