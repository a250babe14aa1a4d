//! `LeakyReLU`: a ReLU with a small slope for negative inputs.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{LayerModule, LayerSpec};
use crate::Result;

/// `x` where `x > 0`, else `negative_slope * x` (Keras's `LeakyReLU`; default slope 0.3, where
/// the `"leaky_relu"` activation string uses 0.2). No variables.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeakyReLU {
    /// The slope for negative inputs (at least 0).
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        Self { negative_slope: 0.3 }
    }
}

impl LeakyReLU {
    /// A leaky ReLU with Keras's default slope 0.3.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the slope for negative inputs.
    pub fn negative_slope(mut self, negative_slope: f64) -> Self {
        self.negative_slope = negative_slope;
        self
    }
}

#[derive(Debug)]
struct LeakyReLUModule {
    negative_slope: f64,
}

impl LayerModule for LeakyReLUModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        crate::activation::leaky_relu(xs, self.negative_slope)
    }
}

impl LayerSpec for LeakyReLU {
    fn kind(&self) -> &'static str {
        "LeakyReLU"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if !(self.negative_slope >= 0.0 && super::fits_f32(self.negative_slope)) {
            return Err(format!(
                "negative_slope must be a number between 0 and {:e} (float32's largest), got {}; Keras's default is 0.3",
                f32::MAX,
                self.negative_slope
            ));
        }
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| super::config_error("LeakyReLU", m))?;
        Ok(Box::new(LeakyReLUModule { negative_slope: self.negative_slope }))
    }
}
