//! `GlobalAveragePooling2D`: the mean of each channel over height and width.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::padding::image;
use super::{LayerModule, LayerSpec};
use crate::Result;

/// Averages each channel of `[channels, height, width]` inputs over all positions:
/// `(None, c, h, w)` becomes `(None, c)`, or `(None, c, 1, 1)` with `keepdims`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlobalAveragePooling2D {
    /// Keeps the spatial axes as size 1 (Keras's default: `false`).
    pub keepdims: bool,
}

impl GlobalAveragePooling2D {
    /// A global average pooling layer.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets whether the spatial axes are kept as size 1.
    pub fn keepdims(mut self, keepdims: bool) -> Self {
        self.keepdims = keepdims;
        self
    }
}

#[derive(Debug)]
struct GlobalAvgModule {
    keepdims: bool,
}

impl LayerModule for GlobalAvgModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_mean_dim([2i64, 3].as_slice(), self.keepdims, None::<Kind>)?)
    }
}

impl LayerSpec for GlobalAveragePooling2D {
    fn kind(&self) -> &'static str {
        "GlobalAveragePooling2D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let [c, _, _] = image("GlobalAveragePooling2D", input)?;
        Ok(if self.keepdims { vec![c, 1, 1] } else { vec![c] })
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        Ok(Box::new(GlobalAvgModule { keepdims: self.keepdims }))
    }
}
