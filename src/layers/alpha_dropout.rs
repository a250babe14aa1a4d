//! `AlphaDropout`: dropout that keeps a SELU network's self-normalization.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// SELU's negative saturation value, `-alpha * scale` (Keras's `alpha_p`).
const ALPHA_P: f64 = -1.673_263_242_354_377_3 * 1.050_700_987_355_480_5;

/// Sets each input to SELU's negative saturation value with probability `rate` during
/// training, then applies the affine map that brings the mean and variance back to those of
/// the input (for a zero-mean, unit-variance input), as Keras's `AlphaDropout`:
/// `a * (x * keep + alpha_p * (1 - keep)) + b` with `a = ((1 - rate) * (1 + rate *
/// alpha_p²))^-1/2` and `b = -a * alpha_p * rate`. The identity in evaluation and prediction.
/// Meant to follow layers with the `selu` activation and `lecun_normal` kernels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlphaDropout {
    /// Fraction of inputs dropped, in `[0, 1)`.
    pub rate: f64,
}

impl AlphaDropout {
    /// An alpha dropout layer.
    pub fn new(rate: f64) -> Self {
        Self { rate }
    }
}

#[derive(Debug)]
struct AlphaDropoutModule {
    rate: f64,
}

impl LayerModule for AlphaDropoutModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.rate == 0.0 {
            return Ok(xs.shallow_clone());
        }
        let rate = self.rate;
        let a = ((1.0 - rate) * (1.0 + rate * ALPHA_P * ALPHA_P)).powf(-0.5);
        let b = -a * ALPHA_P * rate;
        let keep = xs.f_rand_like()?.f_ge(rate)?.f_to_kind(xs.kind())?;
        // x * keep + alpha_p * (1 - keep) = (x - alpha_p) * keep + alpha_p.
        let x = xs.f_sub_scalar(ALPHA_P)?.f_mul(&keep)?.f_add_scalar(ALPHA_P)?;
        Ok(x.f_mul_scalar(a)?.f_add_scalar(b)?)
    }
}

impl LayerSpec for AlphaDropout {
    fn kind(&self) -> &'static str {
        "AlphaDropout"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        super::dropout::rate_problem(self.rate)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        super::dropout::rate_problem(self.rate).map_err(|m| config_error("AlphaDropout", m))?;
        Ok(Box::new(AlphaDropoutModule { rate: self.rate }))
    }
}
