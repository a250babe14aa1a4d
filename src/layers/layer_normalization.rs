//! `LayerNormalization`: normalizes each sample over one axis, with a learned scale and shift.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Normalizes each position to zero mean and unit variance over `axis`, then scales by
/// `gamma` and shifts by `beta` (Keras's `LayerNormalization`; defaults `axis=-1`,
/// `epsilon=1e-3`, `center` and `scale` on).
///
/// `axis` counts as in Keras, the batch axis included: `-1` is the last axis (the features of
/// `(None, t, features)`); on channels-first images use `axis(1)` for Keras's channels-last
/// `axis=-1`.
///
/// Variables: `weight` (gamma, ones) and `bias` (beta, zeros), as PyTorch's `nn.LayerNorm`
/// names them; `2 * size of axis` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerNormalization {
    /// The normalized axis, batch axis included (`-1`: the last).
    pub axis: i64,
    /// Added to the variance.
    pub epsilon: f64,
    /// Whether the layer has the shift `beta`.
    pub center: bool,
    /// Whether the layer has the scale `gamma`.
    pub scale: bool,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        Self { axis: -1, epsilon: 1e-3, center: true, scale: true }
    }
}

impl LayerNormalization {
    /// A layer normalization with Keras's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the normalized axis (batch axis included; negative counts from the end).
    pub fn axis(mut self, axis: i64) -> Self {
        self.axis = axis;
        self
    }
    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// The normalized axis among the per-sample axes (0-based).
    fn sample_axis(&self, input: &[i64]) -> std::result::Result<usize, String> {
        let rank = input.len() as i64 + 1;
        let axis = if self.axis < 0 { self.axis + rank } else { self.axis };
        if axis < 1 || axis >= rank {
            return Err(format!(
                "axis {} is not a feature axis of a {rank}-D batch; use -1 (the last) or 1..{}",
                self.axis,
                rank - 1
            ));
        }
        Ok(axis as usize - 1)
    }
}

#[derive(Debug)]
struct LayerNormModule {
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    /// The normalized axis of the batch, when it is not the last.
    moved: Option<i64>,
    size: i64,
    epsilon: f64,
}

impl LayerModule for LayerNormModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let xs = match self.moved {
            Some(axis) => xs.f_movedim([axis], [-1])?,
            None => xs.shallow_clone(),
        };
        let ys = xs.f_layer_norm([self.size], self.weight.as_ref(), self.bias.as_ref(), self.epsilon, true)?;
        Ok(match self.moved {
            Some(axis) => ys.f_movedim([-1], [axis])?,
            None => ys,
        })
    }
}

impl LayerSpec for LayerNormalization {
    fn kind(&self) -> &'static str {
        "LayerNormalization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sample_axis(input)?;
        Ok(input.to_vec())
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let Ok(axis) = self.sample_axis(input) else { return Vec::new() };
        let mut shapes = Vec::with_capacity(2);
        if self.center {
            shapes.push(("bias", vec![input[axis]]));
        }
        if self.scale {
            shapes.push(("weight", vec![input[axis]]));
        }
        shapes
    }
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if !(self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return Err(config_error("LayerNormalization", format!("epsilon must be positive, got {}", self.epsilon)));
        }
        let axis = self.sample_axis(input).map_err(|m| config_error("LayerNormalization", m))?;
        let size = input[axis];
        let weight = if self.scale { Some(path.f_var("weight", &[size], nn::Init::Const(1.0))?) } else { None };
        let bias = if self.center { Some(path.f_var("bias", &[size], nn::Init::Const(0.0))?) } else { None };
        let moved = (axis + 1 < input.len()).then_some(axis as i64 + 1);
        Ok(Box::new(LayerNormModule { weight, bias, moved, size, epsilon: self.epsilon }))
    }
}
