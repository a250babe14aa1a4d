//! `GaussianDropout`: multiplies inputs by normal noise of mean 1 while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Multiplies every input by noise drawn from `N(1, rate / (1 - rate))` during training, as
/// Keras's `GaussianDropout` (the variance of [`Dropout`](super::Dropout)'s scaled mask, with a
/// smooth noise); the identity in evaluation and prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaussianDropout {
    /// The drop probability the noise's variance is set from, in `[0, 1)`.
    pub rate: f64,
}

impl GaussianDropout {
    /// A Gaussian dropout layer.
    pub fn new(rate: f64) -> Self {
        Self { rate }
    }
}

#[derive(Debug)]
struct GaussianDropoutModule {
    stddev: f64,
}

impl LayerModule for GaussianDropoutModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.stddev == 0.0 {
            return Ok(xs.shallow_clone());
        }
        let noise = xs.f_randn_like()?.f_mul_scalar(self.stddev)?.f_add_scalar(1.0)?;
        Ok(xs.f_mul(&noise)?)
    }
}

impl LayerSpec for GaussianDropout {
    fn kind(&self) -> &'static str {
        "GaussianDropout"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        super::dropout::rate_problem(self.rate)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        super::dropout::rate_problem(self.rate).map_err(|m| config_error("GaussianDropout", m))?;
        Ok(Box::new(GaussianDropoutModule { stddev: (self.rate / (1.0 - self.rate)).sqrt() }))
    }
}
