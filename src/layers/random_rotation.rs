//! `RandomRotation`: rotates each image by a random angle while training.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::augment::{check_fill, check_range, AffineModule, FillMode, Transform, Warp};
use super::padding::image;
use super::{config_error, Interpolation, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `RandomRotation` on channels-first images `(None, channels, height, width)`: while
/// training, each image is rotated about its centre by its own angle drawn from
/// `U(factor[0], factor[1]) · 2π` (positive angles counter-clockwise), pixels coming in from
/// outside filled per `fill_mode`; the identity in evaluation and prediction. Keras's
/// defaults: `reflect` fill, `bilinear` interpolation. The factors lie in `[-1, 1]` (a full
/// turn). Drawn from LibTorch's generator on the images' device (the model's seed fixes it)
/// and warped with `affine_grid` and `grid_sample`, without host reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomRotation {
    /// `[lower, upper]` fractions of a full turn.
    pub factor: [f64; 2],
    /// How pixels from outside the image are filled.
    pub fill_mode: FillMode,
    /// How pixels are sampled.
    pub interpolation: Interpolation,
    /// The value `FillMode::Constant` fills with.
    pub fill_value: f64,
}

impl RandomRotation {
    /// Rotations within `[-factor, factor]` of a full turn (`0.1`: up to 36° either way).
    pub fn new(factor: f64) -> Self {
        Self::range(-factor, factor)
    }
    /// Rotations within `[lower, upper]` of a full turn.
    pub fn range(lower: f64, upper: f64) -> Self {
        Self {
            factor: [lower, upper],
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
        image("RandomRotation", input)?;
        check_range("factor", self.factor, -1.0, 1.0)?;
        check_fill(self.fill_value)
    }
}

impl LayerSpec for RandomRotation {
    fn kind(&self) -> &'static str {
        "RandomRotation"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.check(input).map_err(|m| config_error("RandomRotation", m))?;
        let warp = Warp { fill_mode: self.fill_mode, fill_value: self.fill_value, interpolation: self.interpolation };
        Ok(Box::new(AffineModule { transform: Transform::Rotation { factor: self.factor }, warp }))
    }
}
