//! `GlobalMaxPooling2D`: the maximum of each channel over height and width.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::image;
use super::{LayerModule, LayerSpec};
use crate::Result;

/// Takes the maximum of each channel of `[channels, height, width]` inputs over all positions:
/// `(None, c, h, w)` becomes `(None, c)`, or `(None, c, 1, 1)` with `keepdims`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlobalMaxPooling2D {
    /// Keeps the spatial axes as size 1 (Keras's default: `false`).
    pub keepdims: bool,
}

impl GlobalMaxPooling2D {
    /// A global max pooling layer.
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
struct GlobalMaxModule {
    keepdims: bool,
}

impl LayerModule for GlobalMaxModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_amax([2i64, 3].as_slice(), self.keepdims)?)
    }
}

impl LayerSpec for GlobalMaxPooling2D {
    fn kind(&self) -> &'static str {
        "GlobalMaxPooling2D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let [c, _, _] = image("GlobalMaxPooling2D", input)?;
        Ok(if self.keepdims { vec![c, 1, 1] } else { vec![c] })
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        Ok(Box::new(GlobalMaxModule { keepdims: self.keepdims }))
    }
}
