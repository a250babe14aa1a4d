//! `RandomTranslation`: shifts each image by a random offset while training.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::augment::{check_fill, check_range, AffineModule, FillMode, Transform, Warp};
use super::padding::image;
use super::{config_error, Interpolation, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `RandomTranslation` on channels-first images `(None, channels, height, width)`:
/// while training, each image is shifted by its own offset, `U(height_factor) · height` pixels
/// down and `U(width_factor) · width` pixels right (negative: up, left), pixels coming in from
/// outside filled per `fill_mode`; the identity in evaluation and prediction. Keras's
/// defaults: `reflect` fill, `bilinear` interpolation. The factors lie in `[-1, 1]`. Drawn
/// from LibTorch's generator on the images' device (the model's seed fixes it) and warped
/// with `affine_grid` and `grid_sample`, without host reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomTranslation {
    /// `[lower, upper]` fractions of the height.
    pub height_factor: [f64; 2],
    /// `[lower, upper]` fractions of the width.
    pub width_factor: [f64; 2],
    /// How pixels from outside the image are filled.
    pub fill_mode: FillMode,
    /// How pixels are sampled.
    pub interpolation: Interpolation,
    /// The value `FillMode::Constant` fills with.
    pub fill_value: f64,
}

impl RandomTranslation {
    /// Shifts within `[-height_factor, height_factor]` of the height and
    /// `[-width_factor, width_factor]` of the width.
    pub fn new(height_factor: f64, width_factor: f64) -> Self {
        Self::range([-height_factor, height_factor], [-width_factor, width_factor])
    }
    /// Shifts within `[lower, upper]` fractions of the height and of the width.
    pub fn range(height_factor: [f64; 2], width_factor: [f64; 2]) -> Self {
        Self {
            height_factor,
            width_factor,
            fill_mode: FillMode::Reflect,
            interpolation: Interpolation::Bilinear,
            fill_value: 0.0,
        }
    }
    /// Sets how pixels from outside the image are filled.
    pub fn fill_mode(mut self, fill_mode: FillMode) -> Self {
        self.fill_mode = fill_mode;
        self
    }
    /// Sets the value `FillMode::Constant` fills with.
    pub fn fill_value(mut self, fill_value: f64) -> Self {
        self.fill_value = fill_value;
        self
    }
    /// Sets how pixels are sampled (`Bilinear`, Keras's default, or `Nearest`).
    pub fn interpolation(mut self, interpolation: Interpolation) -> Self {
        self.interpolation = interpolation;
        self
    }

    fn check(&self, input: &[i64]) -> std::result::Result<(), String> {
        image("RandomTranslation", input)?;
        check_range("height_factor", self.height_factor, -1.0, 1.0)?;
        check_range("width_factor", self.width_factor, -1.0, 1.0)?;
        check_fill(self.fill_value)
    }
}

impl LayerSpec for RandomTranslation {
    fn kind(&self) -> &'static str {
        "RandomTranslation"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.check(input).map_err(|m| config_error("RandomTranslation", m))?;
        let warp = Warp { fill_mode: self.fill_mode, fill_value: self.fill_value, interpolation: self.interpolation };
        let transform = Transform::Translation { height: self.height_factor, width: self.width_factor };
        Ok(Box::new(AffineModule { transform, warp }))
    }
}
