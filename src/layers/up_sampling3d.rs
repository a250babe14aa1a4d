//! `UpSampling3D`: repeats each cell of a volume along depth, height and width.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Repeats each cell of a volume `size` times along each spatial axis (Keras's
/// `UpSampling3D`, default `(2, 2, 2)`): `(None, c, d, h, w)` becomes
/// `(None, c, d * sd, h * sh, w * sw)` (channels-last alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpSampling3D {
    /// Repeats along depth, height and width.
    pub size: [i64; 3],
    /// Where the channels are (channels-first unless set, as the crate's other layers).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl UpSampling3D {
    /// Repeats: one integer for every axis (`2`), or `(depth, height, width)`.
    pub fn new(size: impl Into<super::Size3>) -> Self {
        Self { size: size.into().0, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
    /// `(depth, height, width, channels)`.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
}

impl Default for UpSampling3D {
    fn default() -> Self {
        Self::new(2)
    }
}

/// The first spatial axis of a batch of volumes in `data_format`.
pub(crate) fn first_spatial_axis(data_format: DataFormat) -> i64 {
    match data_format {
        DataFormat::ChannelsFirst => 2,
        DataFormat::ChannelsLast => 1,
    }
}

#[derive(Debug)]
struct UpSample3DModule {
    size: [i64; 3],
    first_axis: i64,
}

impl LayerModule for UpSample3DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let mut y = xs.shallow_clone();
        for (i, &s) in self.size.iter().enumerate() {
            if s > 1 {
                y = y.f_repeat_interleave_self_int(s, self.first_axis + i as i64, None::<i64>)?;
            }
        }
        Ok(y)
    }
}

impl LayerSpec for UpSampling3D {
    fn kind(&self) -> &'static str {
        "UpSampling3D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, sizes) = self.data_format.split_volume("UpSampling3D", input)?;
        if self.size.iter().any(|&s| s <= 0) {
            return Err(format!("size must be positive, got {:?}", self.size));
        }
        let mut out = [0; 3];
        for i in 0..3 {
            out[i] = sizes[i]
                .checked_mul(self.size[i])
                .ok_or_else(|| format!("a volume of {sizes:?} upsampled by {:?} does not fit in 64 bits", self.size))?;
        }
        Ok(self.data_format.join_volume(c, out))
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| config_error("UpSampling3D", m))?;
        Ok(Box::new(UpSample3DModule { size: self.size, first_axis: first_spatial_axis(self.data_format) }))
    }
}
