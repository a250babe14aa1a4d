//! `MaxPooling2D` over channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::spatial;
use super::{LayerModule, LayerSpec, Padding};
use crate::Result;

/// 2-D max pooling over `[channels, height, width]` inputs, valid padding. Strides default to
/// the pool size, as in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxPooling2D {
    /// Window height and width.
    pub pool_size: [i64; 2],
    /// Strides along height and width.
    pub strides: [i64; 2],
}

impl MaxPooling2D {
    /// A pooling window, square (`2`) or Keras's `(height, width)` (`(2, 2)`); strides equal
    /// to the window.
    pub fn new(pool_size: impl Into<super::Size2>) -> Self {
        let pool = pool_size.into().0;
        Self { pool_size: pool, strides: pool }
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
}

impl LayerModule for MaxPoolModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_max_pool2d(self.pool, self.strides, [0, 0], [1, 1], false)?)
    }
}

impl LayerSpec for MaxPooling2D {
    fn kind(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (oh, ow, _) = spatial("MaxPooling2D", input, self.pool_size, self.strides, Padding::Valid)?;
        Ok(vec![input[0], oh, ow])
    }

    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        Ok(Box::new(MaxPoolModule { pool: self.pool_size, strides: self.strides }))
    }
}
