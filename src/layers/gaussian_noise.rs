//! `GaussianNoise`: adds zero-mean normal noise while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Adds noise drawn from `N(0, stddev²)` to every input during training (a regularizer, and
/// a cheap data augmentation); the identity in evaluation and prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaussianNoise {
    /// Standard deviation of the noise.
    pub stddev: f64,
}

impl GaussianNoise {
    /// Noise of standard deviation `stddev`.
    pub fn new(stddev: f64) -> Self {
        Self { stddev }
    }
}

#[derive(Debug)]
struct GaussianNoiseModule {
    stddev: f64,
}

impl LayerModule for GaussianNoiseModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.stddev == 0.0 {
            return Ok(xs.shallow_clone());
        }
        let noise = xs.f_randn_like()?.f_mul_scalar(self.stddev)?;
        Ok(xs.f_add(&noise)?)
    }
}

impl LayerSpec for GaussianNoise {
    fn kind(&self) -> &'static str {
        "GaussianNoise"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if !(self.stddev >= 0.0 && self.stddev.is_finite()) {
            return Err(config_error("GaussianNoise", format!("stddev must be finite and >= 0, got {}", self.stddev)));
        }
        Ok(Box::new(GaussianNoiseModule { stddev: self.stddev }))
    }
}
