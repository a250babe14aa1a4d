//! `MaxPooling2D` over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::{pool_spatial, spatial};
use super::{config_error, LayerModule, LayerSpec, Padding};
use crate::Result;

/// 2-D max pooling over `[channels, height, width]` inputs. Keras's defaults: strides equal to
/// the pool size, valid padding. With padding `same` the padded cells never win a window (as in
/// Keras, whose torch backend pads by replicating the edge), split as TensorFlow splits it
/// (extra on the bottom/right).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxPooling2D {
    /// Window height and width.
    pub pool_size: [i64; 2],
    /// Strides along height and width.
    pub strides: [i64; 2],
    /// Padding mode (left out of saved files when valid, so older files read the same).
    #[serde(default, skip_serializing_if = "is_valid")]
    pub padding: Padding,
}

fn is_valid(padding: &Padding) -> bool {
    *padding == Padding::Valid
}

impl MaxPooling2D {
    /// A pooling window, square (`2`) or Keras's `(height, width)` (`(2, 2)`); strides equal
    /// to the window, valid padding.
    pub fn new(pool_size: impl Into<super::Size2>) -> Self {
        let pool = pool_size.into().0;
        Self { pool_size: pool, strides: pool, padding: Padding::Valid }
    }
    /// Sets the padding mode.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    /// Sets the strides: one integer for both axes, or `(height, width)`.
    pub fn strides(mut self, strides: impl Into<super::Size2>) -> Self {
        self.strides = strides.into().0;
        self
    }
}

impl Default for MaxPooling2D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct MaxPoolModule {
    pool: [i64; 2],
    strides: [i64; 2],
    /// `[left, right, top, bottom]` padding, all zero for valid padding.
    pad: [i64; 4],
}

impl LayerModule for MaxPoolModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        if self.pad.iter().all(|&p| p == 0) {
            return Ok(xs.f_max_pool2d(self.pool, self.strides, [0, 0], [1, 1], false)?);
        }
        // Every window holds at least one cell of the image, so -inf cells never win it.
        let padded = xs.f_pad(self.pad, "constant", f64::NEG_INFINITY)?;
        Ok(padded.f_max_pool2d(self.pool, self.strides, [0, 0], [1, 1], false)?)
    }
}

impl LayerSpec for MaxPooling2D {
    fn kind(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (oh, ow, _) = spatial("MaxPooling2D", input, self.pool_size, self.strides, self.padding)?;
        Ok(vec![input[0], oh, ow])
    }

    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (_, _, pad, pool) = pool_spatial("MaxPooling2D", input, self.pool_size, self.strides, self.padding)
            .map_err(|m| config_error("MaxPooling2D", m))?;
        Ok(Box::new(MaxPoolModule { pool, strides: self.strides, pad }))
    }
}
