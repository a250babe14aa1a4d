//! `ReLU`: the rectified linear unit with Keras's `max_value`, `negative_slope` and
//! `threshold`.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{LayerModule, LayerSpec};
use crate::{Activation, Result};

/// Keras's `ReLU` layer: `min(x, max_value)` where `x > threshold`, else
/// `negative_slope * (x - threshold)` (defaults: no maximum, slope 0, threshold 0: `max(x, 0)`).
/// No variables.
///
/// With the defaults it is the `"relu"` activation, and with only `max_value = 6` the
/// `"relu6"` one, so a following `MaxPooling2D` may take it after the pooling as it does a
/// layer's `relu` activation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ReLU {
    /// The largest output (none by default; at least 0).
    pub max_value: Option<f64>,
    /// The slope below the threshold (at least 0).
    pub negative_slope: f64,
    /// Where the function starts to pass inputs through (at least 0).
    pub threshold: f64,
}

impl ReLU {
    /// A plain ReLU, `max(x, 0)`.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the largest output.
    pub fn max_value(mut self, max_value: f64) -> Self {
        self.max_value = Some(max_value);
        self
    }
    /// Sets the slope below the threshold.
    pub fn negative_slope(mut self, negative_slope: f64) -> Self {
        self.negative_slope = negative_slope;
        self
    }
    /// Sets the threshold.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// The activation this configuration equals, when it is one.
    fn as_activation(&self) -> Option<Activation> {
        if self.negative_slope != 0.0 || self.threshold != 0.0 {
            return None;
        }
        match self.max_value {
            None => Some(Activation::Relu),
            Some(6.0) => Some(Activation::Relu6),
            Some(_) => None,
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        let fields = [
            ("max_value", self.max_value.unwrap_or(0.0)),
            ("negative_slope", self.negative_slope),
            ("threshold", self.threshold),
        ];
        for (name, value) in fields {
            if !(value >= 0.0 && super::fits_f32(value)) {
                return Err(format!(
                    "{name} must be a number between 0 and {:e} (float32's largest), got {value}",
                    f32::MAX
                ));
            }
        }
        Ok(())
    }
}

/// Keras's `relu(x, negative_slope, max_value, threshold)`, operation for operation.
#[derive(Debug)]
struct ReLUModule(ReLU);

impl LayerModule for ReLUModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let ReLU { max_value, negative_slope: slope, threshold } = self.0;
        if slope != 0.0 && max_value.is_none() && threshold == 0.0 {
            return crate::activation::leaky_relu(xs, slope);
        }
        let mut ys = if threshold != 0.0 {
            xs.f_where_scalarother(&xs.f_gt(threshold)?, 0.0)?
        } else if max_value == Some(6.0) {
            xs.f_relu6()?
        } else {
            xs.f_relu()?
        };
        if let Some(max) = max_value.filter(|&m| threshold != 0.0 || m != 6.0) {
            ys = ys.f_clamp(0.0, max)?;
        }
        if slope != 0.0 {
            let negative = xs.f_neg()?.f_add_scalar(threshold)?.f_relu()?;
            ys = ys.f_sub(&negative.f_mul_scalar(slope)?)?;
        }
        Ok(ys)
    }
}

#[derive(Debug)]
struct Identity;

impl LayerModule for Identity {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.shallow_clone())
    }
}

impl LayerSpec for ReLU {
    fn kind(&self) -> &'static str {
        "ReLU"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check()?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.check().map_err(|m| super::config_error("ReLU", m))?;
        Ok(match self.as_activation() {
            Some(_) => Box::new(Identity),
            None => Box::new(ReLUModule(*self)),
        })
    }
    fn activation(&self) -> Activation {
        self.as_activation().unwrap_or_default()
    }
}
