//! `Dropout`: zeroes a fraction of inputs while training, scaling the rest.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Drops each input with probability `rate` during training (inverted dropout); the identity
/// in evaluation and prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    /// Fraction of inputs dropped, in `[0, 1)`.
    pub rate: f64,
}

impl Dropout {
    /// A dropout layer.
    pub fn new(rate: f64) -> Self {
        Self { rate }
    }
}

#[derive(Debug)]
struct DropoutModule {
    rate: f64,
}

impl LayerModule for DropoutModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.rate == 0.0 {
            return Ok(xs.shallow_clone());
        }
        Ok(xs.f_dropout(self.rate, true)?)
    }
}

impl LayerSpec for Dropout {
    fn kind(&self) -> &'static str {
        "Dropout"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        rate_problem(self.rate).map_err(|m| config_error("Dropout", m))?;
        Ok(Box::new(DropoutModule { rate: self.rate }))
    }
}

/// Refuses a drop rate outside `[0, 1)` (NaN included), saying what to give.
pub(super) fn rate_problem(rate: f64) -> std::result::Result<(), String> {
    if (0.0..1.0).contains(&rate) {
        return Ok(());
    }
    Err(format!("rate must be in [0, 1) (the fraction of inputs dropped), got {rate}; use a rate such as 0.1 to 0.5"))
}
