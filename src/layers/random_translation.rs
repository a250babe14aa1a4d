//! `RandomTranslation`: shifts each image by a random offset while training.
use serde::{Deserialize, Serialize};

use super::augment::{check_fill, check_range, AffineModule, FillMode, Transform};
use super::{Interpolation, LayerModule};

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

    /// Refuses factors or a fill value Keras refuses.
    fn factor_problem(&self) -> std::result::Result<(), String> {
        check_range("height_factor", self.height_factor, -1.0, 1.0)?;
        check_range("width_factor", self.width_factor, -1.0, 1.0)?;
        check_fill(self.fill_value)
    }

    fn module(&self) -> Box<dyn LayerModule> {
        Box::new(AffineModule {
            transform: Transform::Translation { height: self.height_factor, width: self.width_factor },
            warp: self.warp(),
        })
    }
}

super::augment::augmentation_spec!(RandomTranslation, "RandomTranslation");
super::augment::warp_options!(RandomTranslation);
