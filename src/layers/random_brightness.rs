//! `RandomBrightness`: shifts each image's values by a random amount while training.
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::augment::{check_batch, check_range, check_value_range, float_kind, uniform};
use super::LayerModule;
use crate::Result;

/// Keras's `RandomBrightness` on channels-first images `(None, channels, height, width)`:
/// while training, each image draws a delta from `U(factor[0], factor[1])` times the width of
/// `value_range` (Keras's default `[0, 255]`; `[0, 1]` for images scaled to one), adds it to
/// every value and clips to `value_range`; the identity in evaluation and prediction. The
/// factors lie in `[-1, 1]`. Drawn from LibTorch's generator on the images' device (the
/// model's seed fixes it), without host reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomBrightness {
    /// `[lower, upper]` fractions of the value range.
    pub factor: [f64; 2],
    /// `[low, high]`: the range the images' values lie in; outputs are clipped to it.
    pub value_range: [f64; 2],
}

impl RandomBrightness {
    /// Deltas within `[-factor, factor]` of the value range, values in `[0, 255]`.
    pub fn new(factor: f64) -> Self {
        Self::range(-factor, factor)
    }
    /// Deltas within `[lower, upper]` of the value range, values in `[0, 255]`.
    pub fn range(lower: f64, upper: f64) -> Self {
        Self { factor: [lower, upper], value_range: [0.0, 255.0] }
    }

    /// Refuses factors or a value range Keras refuses.
    fn factor_problem(&self) -> std::result::Result<(), String> {
        check_range("factor", self.factor, -1.0, 1.0)?;
        check_value_range(self.value_range)?;
        Ok(())
    }

    fn module(&self) -> Box<dyn LayerModule> {
        let [low, high] = self.value_range;
        let range = [self.factor[0] * (high - low), self.factor[1] * (high - low)];
        Box::new(RandomBrightnessModule { range, value_range: self.value_range })
    }
}

super::augment::augmentation_spec!(RandomBrightness, "RandomBrightness");
super::augment::value_range_option!(RandomBrightness);

#[derive(Debug)]
struct RandomBrightnessModule {
    range: [f64; 2],
    value_range: [f64; 2],
}

impl LayerModule for RandomBrightnessModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return Ok(xs.shallow_clone());
        }
        check_batch(xs)?;
        let n = xs.size()[0];
        let xs = xs.f_to_kind(float_kind(xs))?;
        let delta = uniform(&xs, n, self.range)?.f_view([n, 1, 1, 1])?;
        let [low, high] = self.value_range;
        Ok(xs.f_add(&delta)?.f_clamp(low, high)?)
    }
}
