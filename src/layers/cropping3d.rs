//! `Cropping3D`: cells cut from the sides of a volume's depth, height and width.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::cropping1d::{cropped, NarrowModule};
use super::up_sampling3d::first_spatial_axis;
use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Cuts cells from each volume: `cropping` is `[[front, back], [top, bottom], [left, right]]`
/// (Keras's `((1, 1), (1, 1), (1, 1))` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cropping3D {
    /// `[before, after]` along depth, height and width.
    pub cropping: [[i64; 2]; 3],
    /// Where the channels are (channels-first unless set, as the crate's other layers).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl Cropping3D {
    /// The same cut on every side.
    pub fn new(crop: i64) -> Self {
        Self::symmetric(crop, crop, crop)
    }
    /// `depth`, `height` and `width` cells from both sides of their axis.
    pub fn symmetric(depth: i64, height: i64, width: i64) -> Self {
        Self::sides([[depth, depth], [height, height], [width, width]])
    }
    /// `[before, after]` along depth, height and width.
    pub fn sides(cropping: [[i64; 2]; 3]) -> Self {
        Self { cropping, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets where the channels are: [`DataFormat::ChannelsLast`] takes Keras's
    /// `(depth, height, width, channels)`.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    /// Channels and the sizes left along depth, height and width.
    fn sizes(&self, input: &[i64]) -> std::result::Result<(i64, [i64; 3]), String> {
        let (c, sizes) = self.data_format.split_volume("Cropping3D", input)?;
        let mut out = [0; 3];
        for i in 0..3 {
            out[i] = cropped("Cropping3D", sizes[i], self.cropping[i])?;
        }
        Ok((c, out))
    }
}

impl Default for Cropping3D {
    fn default() -> Self {
        Self::new(1)
    }
}

impl LayerSpec for Cropping3D {
    fn kind(&self) -> &'static str {
        "Cropping3D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, out) = self.sizes(input)?;
        Ok(self.data_format.join_volume(c, out))
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, out) = self.sizes(input).map_err(|m| config_error("Cropping3D", m))?;
        let first = first_spatial_axis(self.data_format);
        let cuts = (0..3).map(|i| (first + i as i64, self.cropping[i][0], out[i])).collect();
        Ok(Box::new(NarrowModule { cuts }))
    }
}
