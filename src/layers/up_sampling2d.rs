//! `UpSampling2D`: repeats (or bilinearly resizes) channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::image;
use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// How `UpSampling2D` fills the new pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Each pixel repeated `size` times along each axis (Keras's default).
    #[default]
    Nearest,
    /// Bilinear, with half-pixel centres (Keras's `bilinear`; PyTorch's `align_corners=False`).
    Bilinear,
}

/// Upsamples each image by integer factors: `(None, c, h, w)` becomes
/// `(None, c, h * size[0], w * size[1])`. Keras's default is a factor of 2, nearest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpSampling2D {
    /// Factors along height and width.
    pub size: [i64; 2],
    /// How new pixels are computed.
    pub interpolation: Interpolation,
}

impl UpSampling2D {
    /// Factors along height and width (`2`, or Keras's `(2, 3)`), nearest.
    pub fn new(size: impl Into<super::Size2>) -> Self {
        Self { size: size.into().0, interpolation: Interpolation::Nearest }
    }
    /// Sets the interpolation.
    pub fn interpolation(mut self, interpolation: Interpolation) -> Self {
        self.interpolation = interpolation;
        self
    }
}

impl Default for UpSampling2D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct UpSampleModule {
    out: [i64; 2],
    size: [i64; 2],
    interpolation: Interpolation,
}

impl LayerModule for UpSampleModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let [sh, sw] = self.size.map(|s| s as f64);
        Ok(match self.interpolation {
            Interpolation::Nearest => xs.f_upsample_nearest2d(self.out, sh, sw)?,
            Interpolation::Bilinear => xs.f_upsample_bilinear2d(self.out, false, sh, sw)?,
        })
    }
}

impl LayerSpec for UpSampling2D {
    fn kind(&self) -> &'static str {
        "UpSampling2D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let [c, h, w] = image("UpSampling2D", input)?;
        if self.size.iter().any(|&s| s <= 0) {
            return Err(format!("size must be positive, got {:?}", self.size));
        }
        match (h.checked_mul(self.size[0]), w.checked_mul(self.size[1])) {
            (Some(oh), Some(ow)) => Ok(vec![c, oh, ow]),
            _ => Err(format!("{h}x{w} images upsampled by {:?} do not fit in 64 bits", self.size)),
        }
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if self.size.iter().any(|&s| s <= 0) {
            return Err(config_error("UpSampling2D", format!("size must be positive, got {:?}", self.size)));
        }
        let out = [input[1] * self.size[0], input[2] * self.size[1]];
        Ok(Box::new(UpSampleModule { out, size: self.size, interpolation: self.interpolation }))
    }
}
