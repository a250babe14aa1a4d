//! `AveragePooling2D` over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::padding::{pool_spatial, spatial};
use super::{config_error, LayerModule, LayerSpec, Padding};
use crate::Result;

/// 2-D average pooling over `[channels, height, width]` inputs. Keras's defaults: a 2x2
/// window, strides equal to the window, valid padding. With padding `same` the padded cells
/// are left out of each window's mean, as Keras does on TensorFlow and JAX (its torch backend
/// does too when the padding is the same on both sides, and averages replicated edge cells
/// when it is not).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AveragePooling2D {
    /// Window height and width.
    pub pool_size: [i64; 2],
    /// Strides along height and width.
    pub strides: [i64; 2],
    /// Padding mode.
    pub padding: Padding,
}

impl AveragePooling2D {
    /// A pooling window, square (`2`) or Keras's `(height, width)` (`(2, 2)`); strides equal
    /// to the window, valid padding.
    pub fn new(pool_size: impl Into<super::Size2>) -> Self {
        let pool = pool_size.into().0;
        Self { pool_size: pool, strides: pool, padding: Padding::Valid }
    }
    /// Sets the strides: one integer for both axes, or `(height, width)`.
    pub fn strides(mut self, strides: impl Into<super::Size2>) -> Self {
        self.strides = strides.into().0;
        self
    }
    /// Sets the padding mode.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
}

impl Default for AveragePooling2D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct AvgPoolModule {
    pool: [i64; 2],
    strides: [i64; 2],
    pad: [i64; 4],
    /// With padding: the fraction of each window inside the image, `[1, 1, oh, ow]`.
    inside: Option<Tensor>,
}

impl LayerModule for AvgPoolModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let Some(inside) = &self.inside else {
            return Ok(xs.f_avg_pool2d(self.pool, self.strides, [0, 0], false, true, None::<i64>)?);
        };
        // The mean over the whole padded window, rescaled to the mean over its cells inside.
        let padded = xs.f_constant_pad_nd(self.pad)?;
        let mean = padded.f_avg_pool2d(self.pool, self.strides, [0, 0], false, true, None::<i64>)?;
        Ok(mean.f_div(inside)?)
    }
}

impl LayerSpec for AveragePooling2D {
    fn kind(&self) -> &'static str {
        "AveragePooling2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (oh, ow, _) = spatial("AveragePooling2D", input, self.pool_size, self.strides, self.padding)?;
        Ok(vec![input[0], oh, ow])
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, _, pad, pool) = pool_spatial("AveragePooling2D", input, self.pool_size, self.strides, self.padding)
            .map_err(|m| config_error("AveragePooling2D", m))?;
        let inside = if pad.iter().any(|&p| p > 0) {
            let ones = Tensor::f_ones([1, 1, input[1], input[2]], (Kind::Float, path.device()))?;
            let ones = ones.f_constant_pad_nd(pad)?;
            Some(ones.f_avg_pool2d(pool, self.strides, [0, 0], false, true, None::<i64>)?)
        } else {
            None
        };
        Ok(Box::new(AvgPoolModule { pool, strides: self.strides, pad, inside }))
    }
}
