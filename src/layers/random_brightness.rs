//! `RandomBrightness`: shifts each image's values by a random amount while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::augment::{check_batch, check_range, check_value_range, float_kind, uniform};
use super::padding::image;
use super::{config_error, LayerModule, LayerSpec};
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
    /// Sets the range the images' values lie in (`[0.0, 1.0]` for images scaled to one).
    pub fn value_range(mut self, low: f64, high: f64) -> Self {
        self.value_range = [low, high];
        self
    }

    fn check(&self, input: &[i64]) -> std::result::Result<(), String> {
        image("RandomBrightness", input)?;
        check_range("factor", self.factor, -1.0, 1.0)?;
        check_value_range(self.value_range)?;
        Ok(())
    }
}

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

impl LayerSpec for RandomBrightness {
    fn kind(&self) -> &'static str {
        "RandomBrightness"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.check(input).map_err(|m| config_error("RandomBrightness", m))?;
        let [low, high] = self.value_range;
        let range = [self.factor[0] * (high - low), self.factor[1] * (high - low)];
        Ok(Box::new(RandomBrightnessModule { range, value_range: self.value_range }))
    }
}
