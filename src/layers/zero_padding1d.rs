//! `ZeroPadding1D`: zero steps added at both ends of a sequence.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Adds `padding[0]` zero steps at the start and `padding[1]` at the end of the length of
/// `(None, channels, length)` inputs, or of `(None, steps, features)` sequences with
/// `.data_format(DataFormat::ChannelsLast)` (Keras's `ZeroPadding1D`, which always pads axis 1).
/// Keras's default pads one step at each end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroPadding1D {
    /// Zero steps at the start and at the end.
    pub padding: [i64; 2],
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl ZeroPadding1D {
    /// `start` zero steps at the start and `end` at the end.
    pub fn new(start: i64, end: i64) -> Self {
        Self { padding: [start, end], data_format: DataFormat::ChannelsFirst }
    }
    /// Sets which axis holds the channels.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    fn length(&self, input: &[i64]) -> std::result::Result<(i64, i64), String> {
        let (c, l) = self.data_format.split("ZeroPadding1D", input)?;
        let [a, b] = self.padding;
        if a < 0 || b < 0 {
            return Err(format!("padding must not be negative, got {:?}", self.padding));
        }
        match l.checked_add(a).and_then(|n| n.checked_add(b)) {
            Some(n) => Ok((c, n)),
            None => Err(format!("padding {:?} around a length of {l} does not fit in 64 bits", self.padding)),
        }
    }
}

impl Default for ZeroPadding1D {
    fn default() -> Self {
        Self::new(1, 1)
    }
}

#[derive(Debug)]
struct ZeroPad1DModule {
    pad: Vec<i64>,
}

impl LayerModule for ZeroPad1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_constant_pad_nd(self.pad.as_slice())?)
    }
}

impl LayerSpec for ZeroPadding1D {
    fn kind(&self) -> &'static str {
        "ZeroPadding1D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, l) = self.length(input)?;
        Ok(self.data_format.join(c, l))
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.length(input).map_err(|m| config_error("ZeroPadding1D", m))?;
        let [a, b] = self.padding;
        // constant_pad_nd pads the last axis first.
        let pad = match self.data_format {
            DataFormat::ChannelsFirst => vec![a, b],
            DataFormat::ChannelsLast => vec![0, 0, a, b],
        };
        Ok(Box::new(ZeroPad1DModule { pad }))
    }
}
