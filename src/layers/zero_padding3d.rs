//! `ZeroPadding3D`: zero cells around a volume's depth, height and width.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::torch_pad;
use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Adds zeros around each volume: `padding` is `[[front, back], [top, bottom], [left, right]]`
/// (Keras's `((1, 1), (1, 1), (1, 1))` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroPadding3D {
    /// `[before, after]` along depth, height and width.
    pub padding: [[i64; 2]; 3],
    /// Where the channels are (channels-first unless set, as the crate's other layers).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl ZeroPadding3D {
    /// The same padding on every side.
    pub fn new(pad: i64) -> Self {
        Self::symmetric(pad, pad, pad)
    }
    /// `depth`, `height` and `width` cells on both sides of their axis.
    pub fn symmetric(depth: i64, height: i64, width: i64) -> Self {
        Self::sides([[depth, depth], [height, height], [width, width]])
    }
    /// `[before, after]` along depth, height and width.
    pub fn sides(padding: [[i64; 2]; 3]) -> Self {
        Self { padding, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
    /// `(depth, height, width, channels)`.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
}

impl Default for ZeroPadding3D {
    fn default() -> Self {
        Self::new(1)
    }
}

#[derive(Debug)]
struct ZeroPad3DModule {
    /// LibTorch's order, the channels' `[0, 0]` first for channels-last.
    pad: Vec<i64>,
}

impl LayerModule for ZeroPad3DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_constant_pad_nd(self.pad.as_slice())?)
    }
}

impl LayerSpec for ZeroPadding3D {
    fn kind(&self) -> &'static str {
        "ZeroPadding3D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, sizes) = self.data_format.split_volume("ZeroPadding3D", input)?;
        if self.padding.iter().flatten().any(|&p| p < 0) {
            return Err(format!("padding must not be negative, got {:?}", self.padding));
        }
        let mut out = [0; 3];
        for i in 0..3 {
            let [a, b] = self.padding[i];
            out[i] = sizes[i].checked_add(a).and_then(|n| n.checked_add(b)).ok_or_else(|| {
                format!("padding {:?} around a volume of {sizes:?} does not fit in 64 bits", self.padding)
            })?;
        }
        Ok(self.data_format.join_volume(c, out))
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| config_error("ZeroPadding3D", m))?;
        let spatial: [i64; 6] = torch_pad(self.padding);
        let pad = match self.data_format {
            DataFormat::ChannelsFirst => spatial.to_vec(),
            DataFormat::ChannelsLast => [[0, 0].as_slice(), &spatial].concat(),
        };
        Ok(Box::new(ZeroPad3DModule { pad }))
    }
}
