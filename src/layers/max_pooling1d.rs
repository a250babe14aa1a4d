//! `MaxPooling1D`: the largest value of each window along a sequence's length.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::data_format::window;
use super::{config_error, DataFormat, LayerModule, LayerSpec, Padding};
use crate::Result;

/// 1-D max pooling along the length of `(None, channels, length)` inputs (the layout of
/// [`Conv1D`](super::Conv1D)), or of `(None, steps, features)` sequences with
/// `.data_format(DataFormat::ChannelsLast)`. Keras's defaults: pool size 2, strides equal to
/// the pool size, valid padding. With padding `same` the padded cells never win a window, split
/// as TensorFlow splits it (the extra one at the end).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxPooling1D {
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

impl MaxPooling1D {
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

    /// Channels, output length, padding and the window length run (see `data_format::window`).
    fn geometry(&self, input: &[i64]) -> std::result::Result<(i64, i64, [i64; 2], i64), String> {
        let (c, l) = self.data_format.split("MaxPooling1D", input)?;
        let (out, pad, pool) = window("MaxPooling1D", l, self.pool_size, self.strides, self.padding)?;
        Ok((c, out, pad, pool))
    }
}

impl Default for MaxPooling1D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct MaxPool1DModule {
    pool: i64,
    stride: i64,
    pad: [i64; 2],
    data_format: DataFormat,
}

impl LayerModule for MaxPool1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.data_format.channels_first(xs, |xs| {
            if self.pad == [0, 0] {
                return Ok(xs.f_max_pool1d([self.pool], [self.stride], [0], [1], false)?);
            }
            // Every window holds at least one step of the input, so -inf cells never win it.
            let padded = xs.f_pad(self.pad, "constant", f64::NEG_INFINITY)?;
            Ok(padded.f_max_pool1d([self.pool], [self.stride], [0], [1], false)?)
        })
    }
}

impl LayerSpec for MaxPooling1D {
    fn kind(&self) -> &'static str {
        "MaxPooling1D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, out, ..) = self.geometry(input)?;
        Ok(self.data_format.join(c, out))
    }

    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, _, pad, pool) = self.geometry(input).map_err(|m| config_error("MaxPooling1D", m))?;
        let (stride, data_format) = (self.strides, self.data_format);
        Ok(Box::new(MaxPool1DModule { pool, stride, pad, data_format }))
    }
}
