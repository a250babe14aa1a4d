//! `ZeroPadding2D`: zero rows and columns around channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::padding::image;
use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Adds zeros around each image: `padding` is `[[top, bottom], [left, right]]`, Keras's
/// `((top, bottom), (left, right))`; the default pads one on every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroPadding2D {
    /// `[[top, bottom], [left, right]]`.
    pub padding: [[i64; 2]; 2],
}

impl ZeroPadding2D {
    /// The same padding on all four sides.
    pub fn new(pad: i64) -> Self {
        Self { padding: [[pad, pad], [pad, pad]] }
    }
    /// `rows` above and below, `cols` left and right (Keras's `padding=(rows, cols)`).
    pub fn symmetric(rows: i64, cols: i64) -> Self {
        Self { padding: [[rows, rows], [cols, cols]] }
    }
    /// Each side on its own.
    pub fn sides(top: i64, bottom: i64, left: i64, right: i64) -> Self {
        Self { padding: [[top, bottom], [left, right]] }
    }
}

impl Default for ZeroPadding2D {
    fn default() -> Self {
        Self::new(1)
    }
}

#[derive(Debug)]
struct ZeroPadModule {
    pad: [i64; 4],
}

impl LayerModule for ZeroPadModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_constant_pad_nd(self.pad)?)
    }
}

impl LayerSpec for ZeroPadding2D {
    fn kind(&self) -> &'static str {
        "ZeroPadding2D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let [c, h, w] = image("ZeroPadding2D", input)?;
        let [[t, b], [l, r]] = self.padding;
        let grown = |n: i64, a: i64, b: i64| n.checked_add(a)?.checked_add(b);
        match (grown(h, t, b), grown(w, l, r)) {
            (Some(oh), Some(ow)) => Ok(vec![c, oh, ow]),
            _ => Err(format!("padding {:?} around {h}x{w} images does not fit in 64 bits", self.padding)),
        }
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let [[t, b], [l, r]] = self.padding;
        if [t, b, l, r].iter().any(|&p| p < 0) {
            return Err(config_error("ZeroPadding2D", format!("padding must not be negative, got {:?}", self.padding)));
        }
        Ok(Box::new(ZeroPadModule { pad: [l, r, t, b] }))
    }
}
