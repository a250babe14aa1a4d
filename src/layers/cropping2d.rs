//! `Cropping2D`: rows and columns cut from the sides of channels-first (`NCHW`) images.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::cropping1d::{cropped, NarrowModule};
use super::padding::image;
use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Cuts rows and columns from each image: `cropping` is `[[top, bottom], [left, right]]`,
/// Keras's `((top, bottom), (left, right))`. At least one row and one column must remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cropping2D {
    /// `[[top, bottom], [left, right]]`.
    pub cropping: [[i64; 2]; 2],
}

impl Cropping2D {
    /// The same cut on all four sides.
    pub fn new(crop: i64) -> Self {
        Self { cropping: [[crop, crop], [crop, crop]] }
    }
    /// `rows` off the top and bottom, `cols` off the left and right (Keras's `(rows, cols)`).
    pub fn symmetric(rows: i64, cols: i64) -> Self {
        Self { cropping: [[rows, rows], [cols, cols]] }
    }
    /// Each side on its own.
    pub fn sides(top: i64, bottom: i64, left: i64, right: i64) -> Self {
        Self { cropping: [[top, bottom], [left, right]] }
    }

    fn sizes(&self, input: &[i64]) -> std::result::Result<[i64; 3], String> {
        let [c, h, w] = image("Cropping2D", input)?;
        Ok([c, cropped("Cropping2D", h, self.cropping[0])?, cropped("Cropping2D", w, self.cropping[1])?])
    }
}

impl Default for Cropping2D {
    fn default() -> Self {
        Self::new(0)
    }
}

impl LayerSpec for Cropping2D {
    fn kind(&self) -> &'static str {
        "Cropping2D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        Ok(self.sizes(input)?.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let [_, h, w] = self.sizes(input).map_err(|m| config_error("Cropping2D", m))?;
        let [[top, _], [left, _]] = self.cropping;
        Ok(Box::new(NarrowModule { cuts: vec![(2, top, h), (3, left, w)] }))
    }
}
