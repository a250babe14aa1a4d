//! `GRU`: a gated recurrent unit layer over `(None, timesteps, features)` sequences.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::rnn::{orthogonal, sequence, var_name, Cell, Recurrent, RnnModule, Weights};
use super::{config_error, glorot_uniform, LayerModule, LayerSpec};
use crate::Result;

/// A gated recurrent unit layer, run by LibTorch's fused GRU (cuDNN on CUDA), with Keras 3's
/// defaults: `tanh` activation, `sigmoid` recurrent activation, `reset_after=True` (the reset
/// gate applied after the recurrent matrix product, PyTorch's and cuDNN's formulation), zero
/// initial state. Outputs the last step's hidden state `(None, units)`, or every step's
/// `(None, timesteps, units)` with `return_sequences`. Keras's `reset_after=False` (Keras 2's
/// TensorFlow 1 formulation) has no fused kernel in LibTorch and is not offered.
///
/// Variables, named and laid out as PyTorch's `nn.GRU(batch_first=True)`, which loads them as
/// they are; gates in PyTorch's order reset, update, new (Keras stores update, reset, new:
/// converting weights to or from Keras swaps the first two blocks of `units` rows):
/// - `weight_ih_l0` `[3 * units, features]`: Keras's `kernel` transposed, glorot-uniform over
///   Keras's shape `[features, 3 * units]`;
/// - `weight_hh_l0` `[3 * units, units]`: Keras's `recurrent_kernel` transposed, orthogonal;
/// - `bias_ih_l0`, `bias_hh_l0` `[3 * units]`: the two rows of Keras's `bias` `[2, 3 * units]`,
///   zeros.
///
/// Parameters: `3 * units * (features + units + 2)`, Keras's `count_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GRU {
    /// Size of the hidden state.
    pub units: i64,
    /// Outputs every step instead of the last.
    pub return_sequences: bool,
    /// Whether the layer has biases.
    pub use_bias: bool,
}

impl GRU {
    /// A GRU with `units` hidden units, returning the last step.
    pub fn new(units: i64) -> Self {
        Self { units, return_sequences: false, use_bias: true }
    }
    /// Sets whether every step's output is returned.
    pub fn return_sequences(mut self, return_sequences: bool) -> Self {
        self.return_sequences = return_sequences;
        self
    }
}

impl LayerSpec for GRU {
    fn kind(&self) -> &'static str {
        "GRU"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.units <= 0 {
            return Err(format!("units must be positive, got {}", self.units));
        }
        let (t, _) = sequence("GRU", input)?;
        Ok(if self.return_sequences { vec![t, self.units] } else { vec![self.units] })
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        self.direction_shapes(input.get(1).copied().unwrap_or(0))
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let u = self.units;
        if u <= 0 {
            return Err(config_error("GRU", format!("units must be positive, got {u}")));
        }
        let (_, features) = sequence("GRU", input).map_err(|m| config_error("GRU", m))?;
        let weights = self.build_direction(path, features, false)?;
        Ok(Box::new(RnnModule::single(Cell::Gru, weights, u, self.return_sequences)))
    }
}

impl Recurrent for GRU {
    fn cell(&self) -> std::result::Result<Cell, String> {
        Ok(Cell::Gru)
    }
    fn units(&self) -> i64 {
        self.units
    }
    fn returns_sequences(&self) -> bool {
        self.return_sequences
    }

    fn direction_shapes(&self, features: i64) -> Vec<(&'static str, Vec<i64>)> {
        let u = self.units;
        let mut shapes = Vec::with_capacity(4);
        if self.use_bias {
            shapes.push(("bias_hh_l0", vec![u.saturating_mul(3)]));
            shapes.push(("bias_ih_l0", vec![u.saturating_mul(3)]));
        }
        shapes.push(("weight_hh_l0", vec![u.saturating_mul(3), u]));
        shapes.push(("weight_ih_l0", vec![u.saturating_mul(3), features]));
        shapes
    }

    fn build_direction(&self, path: &nn::Path, features: i64, reverse: bool) -> Result<Weights> {
        let u = self.units;
        let name = |n| var_name(n, reverse);
        let weight_ih = path.f_var(name("weight_ih_l0"), &[3 * u, features], glorot_uniform(features, 3 * u))?;
        let weight_hh = orthogonal(path, name("weight_hh_l0"), 3, u)?;
        let (bias_ih, bias_hh) = if self.use_bias {
            (
                Some(path.f_var(name("bias_ih_l0"), &[3 * u], nn::Init::Const(0.0))?),
                Some(path.f_var(name("bias_hh_l0"), &[3 * u], nn::Init::Const(0.0))?),
            )
        } else {
            (None, None)
        };
        Ok(Weights { weight_ih, weight_hh, bias_ih, bias_hh })
    }
}
