//! `RandomRotation`: rotates each image by a random angle while training.
use serde::{Deserialize, Serialize};

use super::augment::{check_fill, check_range, AffineModule, FillMode, Transform};
use super::{Interpolation, LayerModule};

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

    /// Refuses factors or a fill value Keras refuses.
    fn factor_problem(&self) -> std::result::Result<(), String> {
        check_range("factor", self.factor, -1.0, 1.0)?;
        check_fill(self.fill_value)
    }

    fn module(&self) -> Box<dyn LayerModule> {
        Box::new(AffineModule { transform: Transform::Rotation { factor: self.factor }, warp: self.warp() })
    }
}

super::augment::augmentation_spec!(RandomRotation, "RandomRotation");
super::augment::warp_options!(RandomRotation);
