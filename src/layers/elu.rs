//! `ELU`: the exponential linear unit with a chosen `alpha`.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{LayerModule, LayerSpec};
use crate::Result;

/// `x` where `x > 0`, else `alpha * (exp(x) - 1)` (Keras's `ELU`, default `alpha = 1`, the
/// `"elu"` activation). No variables.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ELU {
    /// The value the output tends to for large negative inputs is `-alpha`.
    pub alpha: f64,
}

impl Default for ELU {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

impl ELU {
    /// An ELU with Keras's default `alpha = 1`.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `alpha`.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
}

#[derive(Debug)]
struct ELUModule {
    alpha: f64,
}

impl LayerModule for ELUModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        crate::activation::elu(xs, self.alpha)
    }
}

impl LayerSpec for ELU {
    fn kind(&self) -> &'static str {
        "ELU"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if !super::fits_f32(self.alpha) {
            return Err(format!(
                "alpha must be a finite float32 number (at most {:e} in size), got {}; Keras's default is 1.0",
                f32::MAX,
                self.alpha
            ));
        }
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| super::config_error("ELU", m))?;
        Ok(Box::new(ELUModule { alpha: self.alpha }))
    }
}
