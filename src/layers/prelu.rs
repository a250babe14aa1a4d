//! `PReLU`: a leaky ReLU whose negative slopes are learned.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `PReLU`: `max(x, 0) - alpha * max(-x, 0)`, with a trainable `alpha` per input
/// position, shared along `shared_axes`.
///
/// Variable: `alpha`, of the per-sample input shape with each shared axis of size 1 (so
/// `PReLU` on `(None, 3, 4, 5)` has 60 parameters, with `shared_axes([2, 3])` 3), starting at
/// `alpha_initializer` (Keras's default `"zeros"`: 0, the layer starts as a ReLU).
///
/// `shared_axes` count as in Keras, the batch axis being 0; images here are channels-first, so
/// Keras's `shared_axes=[1, 2]` on channels-last feature maps (one `alpha` per channel) is
/// `shared_axes([2, 3])`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PReLU {
    /// The constant every `alpha` starts at (Keras's `alpha_initializer`, `Zeros` by default;
    /// a `Constant(c)` initializer is `c`).
    pub alpha_initializer: f64,
    /// Axes along which one `alpha` is shared (batch axis 0, so 1 is the first per-sample
    /// axis).
    pub shared_axes: Vec<i64>,
}

impl PReLU {
    /// A PReLU with `alpha` starting at zero, one per input position.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the constant `alpha` starts at.
    pub fn alpha_initializer(mut self, value: f64) -> Self {
        self.alpha_initializer = value;
        self
    }
    /// Shares one `alpha` along these axes (batch axis 0).
    pub fn shared_axes(mut self, axes: impl Into<Vec<i64>>) -> Self {
        self.shared_axes = axes.into();
        self
    }

    /// The shape of `alpha` for a per-sample input shape.
    fn alpha_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if !super::fits_f32(self.alpha_initializer) {
            return Err(format!(
                "alpha_initializer must be a finite float32 number (at most {:e} in size), got {}",
                f32::MAX,
                self.alpha_initializer
            ));
        }
        let mut shape = input.to_vec();
        for &axis in &self.shared_axes {
            if axis < 1 || axis > input.len() as i64 {
                return Err(format!(
                    "shared axis {axis} is not a per-sample axis of a {}-D batch; use 1..{} (the batch axis is 0)",
                    input.len() + 1,
                    input.len()
                ));
            }
            shape[axis as usize - 1] = 1;
        }
        Ok(shape)
    }
}

#[derive(Debug)]
struct PReLUModule {
    alpha: Tensor,
}

impl LayerModule for PReLUModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let negative = xs.f_neg()?.f_relu()?.f_mul(&self.alpha)?;
        Ok(xs.f_relu()?.f_sub(&negative)?)
    }
}

impl LayerSpec for PReLU {
    fn kind(&self) -> &'static str {
        "PReLU"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.alpha_shape(input)?;
        Ok(input.to_vec())
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        self.alpha_shape(input).map(|shape| vec![("alpha", shape)]).unwrap_or_default()
    }
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let shape = self.alpha_shape(input).map_err(|m| config_error("PReLU", m))?;
        let alpha = path.f_var("alpha", &shape, nn::Init::Const(self.alpha_initializer))?;
        Ok(Box::new(PReLUModule { alpha }))
    }
}
