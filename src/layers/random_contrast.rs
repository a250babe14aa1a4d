//! `RandomContrast`: scales each image's contrast by a random factor while training.
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::augment::{check_batch, check_range, check_value_range, float_kind, uniform};
use super::LayerModule;
use crate::Result;

/// Keras's `RandomContrast` on channels-first images `(None, channels, height, width)`: while
/// training, each image draws a contrast `c` from `U(1 - factor[0], 1 + factor[1])` and each
/// of its channels becomes `(x - mean) · c + mean` (the mean over that channel's pixels),
/// clipped to `value_range` (Keras's default `[0, 255]`; `[0, 1]` for images scaled to one);
/// the identity in evaluation and prediction. `new(f)` draws from `[1, 1 + f]`, as Keras 3
/// computes `RandomContrast(f)` (its docstring says `[1 - f, 1 + f]`, which `range(f, f)`
/// gives). The factors lie in `[-1, 1]` with `lower >= -upper`. Drawn from
/// LibTorch's generator on the images' device (the model's seed fixes it), without host reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomContrast {
    /// `[lower, upper]`: the contrast is drawn from `[1 - lower, 1 + upper]`.
    pub factor: [f64; 2],
    /// `[low, high]`: the range the images' values lie in; outputs are clipped to it.
    pub value_range: [f64; 2],
}

impl RandomContrast {
    /// Contrast drawn from `[1, 1 + factor]` as Keras 3's `RandomContrast(factor)`, values in
    /// `[0, 255]` (Keras's default). `factor` lies in `[0, 1]`.
    pub fn new(factor: f64) -> Self {
        Self { factor: [0.0, factor], value_range: [0.0, 255.0] }
    }
    /// Contrast drawn from `[1 - lower, 1 + upper]` (Keras's `factor=(lower, upper)`),
    /// values in `[0, 255]`.
    pub fn range(lower: f64, upper: f64) -> Self {
        Self { factor: [lower, upper], value_range: [0.0, 255.0] }
    }

    /// Refuses factors or a value range Keras refuses.
    fn factor_problem(&self) -> std::result::Result<(), String> {
        check_range("factor", self.factor, -1.0, 1.0)?;
        if self.factor[0] < -self.factor[1] {
            return Err(format!(
                "factor [lower, upper] needs lower >= -upper (1 - lower <= 1 + upper), got {:?}",
                self.factor
            ));
        }
        check_value_range(self.value_range)?;
        Ok(())
    }

    fn module(&self) -> Box<dyn LayerModule> {
        let range = [1.0 - self.factor[0], 1.0 + self.factor[1]];
        Box::new(RandomContrastModule { range, value_range: self.value_range })
    }
}

super::augment::augmentation_spec!(RandomContrast, "RandomContrast");
super::augment::value_range_option!(RandomContrast);

#[derive(Debug)]
struct RandomContrastModule {
    range: [f64; 2],
    value_range: [f64; 2],
}

impl LayerModule for RandomContrastModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return Ok(xs.shallow_clone());
        }
        check_batch(xs)?;
        let n = xs.size()[0];
        let xs = xs.f_to_kind(float_kind(xs))?;
        let contrast = uniform(&xs, n, self.range)?.f_view([n, 1, 1, 1])?;
        let mean = xs.f_mean_dim([2i64, 3].as_slice(), true, None)?;
        let [low, high] = self.value_range;
        Ok(xs.f_sub(&mean)?.f_mul(&contrast)?.f_add(&mean)?.f_clamp(low, high)?)
    }
}
