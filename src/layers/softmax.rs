//! `Softmax`: the softmax over one axis, as a layer.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::{LayerModule, LayerSpec};
use crate::{Activation, Result};

/// Keras's `Softmax` layer: `exp(x) / sum(exp(x))` over `axis` (default `-1`, the last).
/// No variables.
///
/// `axis` counts as in Keras, the batch axis included (`-1`: the last); images here are
/// channels-first, so Keras's channels-last `axis=-1` over channels is `axis(1)`. Over the last
/// axis the layer is the `"softmax"` activation, so a cross-entropy loss after a final
/// `Softmax` layer is computed from the logits, as after a `Dense(.., "softmax")`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
    /// The normalized axis, batch axis included (`-1`: the last).
    pub axis: i64,
}

impl Default for Softmax {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl Softmax {
    /// A softmax over the last axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the axis (batch axis included; negative counts from the end).
    pub fn axis(mut self, axis: i64) -> Self {
        self.axis = axis;
        self
    }

    /// The normalized axis of the batch (1-based, the batch axis being 0).
    fn batch_axis(&self, input: &[i64]) -> std::result::Result<i64, String> {
        let rank = input.len() as i64 + 1;
        let axis = if self.axis < 0 { self.axis + rank } else { self.axis };
        if axis < 1 || axis >= rank {
            return Err(format!(
                "axis {} is not a feature axis of a {rank}-D batch; use -1 (the last) or 1..{}",
                self.axis,
                rank - 1
            ));
        }
        Ok(axis)
    }
}

#[derive(Debug)]
struct SoftmaxModule {
    /// The normalized axis of the batch; `None` for axis -1, left to the activation.
    axis: Option<i64>,
}

impl LayerModule for SoftmaxModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(match self.axis {
            Some(axis) => xs.f_softmax(axis, Kind::Float)?,
            None => xs.shallow_clone(),
        })
    }
}

impl LayerSpec for Softmax {
    fn kind(&self) -> &'static str {
        "Softmax"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.batch_axis(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let axis = self.batch_axis(input).map_err(|m| super::config_error("Softmax", m))?;
        // Axis -1 is left to the activation (see `activation`).
        Ok(Box::new(SoftmaxModule { axis: (self.axis != -1).then_some(axis) }))
    }
    fn activation(&self) -> Activation {
        // Whether another axis is the last depends on the input; -1 always is.
        if self.axis == -1 {
            Activation::Softmax
        } else {
            Activation::Linear
        }
    }
}
