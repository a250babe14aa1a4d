//! `SpatialDropout2D`: drops whole channels of channels-first (`NCHW`) images while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::image;
use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Zeroes each channel of each image with probability `rate` during training, scaling the
/// kept channels by `1 / (1 - rate)`; the identity in evaluation and prediction. Adjacent
/// pixels are correlated, so dropping whole feature maps regularizes convolutions where
/// per-pixel [`Dropout`](super::Dropout) barely does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpatialDropout2D {
    /// Fraction of channels dropped, in `[0, 1)`.
    pub rate: f64,
}

impl SpatialDropout2D {
    /// A spatial dropout layer.
    pub fn new(rate: f64) -> Self {
        Self { rate }
    }
}

#[derive(Debug)]
struct SpatialDropoutModule {
    rate: f64,
}

impl LayerModule for SpatialDropoutModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.rate == 0.0 {
            return Ok(xs.shallow_clone());
        }
        Ok(xs.f_feature_dropout(self.rate, true)?)
    }
}

impl LayerSpec for SpatialDropout2D {
    fn kind(&self) -> &'static str {
        "SpatialDropout2D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        image("SpatialDropout2D", input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(config_error("SpatialDropout2D", format!("rate must be in [0, 1), got {}", self.rate)));
        }
        Ok(Box::new(SpatialDropoutModule { rate: self.rate }))
    }
}
