//! `RandomZoom`: zooms each image in or out by a random amount while training.
use serde::{Deserialize, Serialize};

use super::augment::{check_fill, check_range, AffineModule, FillMode, Transform};
use super::{Interpolation, LayerModule};

/// Keras's `RandomZoom` on channels-first images `(None, channels, height, width)`: while
/// training, each image is zoomed about its centre by its own amount, `1 + U(height_factor)`
/// vertically and `1 + U(width_factor)` horizontally (the vertical draw when `width_factor` is
/// `None`, keeping the aspect ratio); a positive factor zooms out (the image shrinks, pixels
/// from outside filled per `fill_mode`), a negative one zooms in. The identity in evaluation
/// and prediction. Keras's defaults: `reflect` fill, `bilinear` interpolation. The factors lie
/// in `(-1, 10]`. Drawn from LibTorch's generator on the images' device (the model's seed
/// fixes it) and warped with `affine_grid` and `grid_sample`, without host reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomZoom {
    /// `[lower, upper]` vertical zoom factors.
    pub height_factor: [f64; 2],
    /// `[lower, upper]` horizontal zoom factors, or `None` for the vertical draw.
    pub width_factor: Option<[f64; 2]>,
    /// How pixels from outside the image are filled.
    pub fill_mode: FillMode,
    /// How pixels are sampled.
    pub interpolation: Interpolation,
    /// The value `FillMode::Constant` fills with.
    pub fill_value: f64,
}

impl RandomZoom {
    /// Zooms within `[-height_factor, height_factor]`, keeping the aspect ratio.
    pub fn new(height_factor: f64) -> Self {
        Self::range([-height_factor, height_factor], None)
    }
    /// Zooms within `[lower, upper]` vertically and (or, with `None`, as the vertical draw)
    /// horizontally.
    pub fn range(height_factor: [f64; 2], width_factor: Option<[f64; 2]>) -> Self {
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
        for (what, range) in [("height_factor", Some(self.height_factor)), ("width_factor", self.width_factor)] {
            if let Some(range) = range {
                check_range(what, range, -1.0, 10.0)?;
                if range[0] <= -1.0 {
                    return Err(format!("{what} must be above -1 (a zoom of 1 + factor > 0), got {range:?}"));
                }
            }
        }
        check_fill(self.fill_value)
    }

    fn module(&self) -> Box<dyn LayerModule> {
        Box::new(AffineModule {
            transform: Transform::Zoom { height: self.height_factor, width: self.width_factor },
            warp: self.warp(),
        })
    }
}

super::augment::augmentation_spec!(RandomZoom, "RandomZoom");
super::augment::warp_options!(RandomZoom);
