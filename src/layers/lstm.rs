//! `LSTM`: a long short-term memory layer over `(None, timesteps, features)` sequences.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::rnn::{orthogonal, sequence, var_name, Cell, Recurrent, RnnModule, Weights};
use super::{config_error, glorot_uniform, LayerModule, LayerSpec};
use crate::Result;

/// A long short-term memory layer, run by LibTorch's fused LSTM (cuDNN on CUDA), with
/// Keras's defaults: `tanh` activation, `sigmoid` recurrent activation, zero initial state.
/// Outputs the last step's hidden state `(None, units)`, or every step's
/// `(None, timesteps, units)` with `return_sequences`.
///
/// Variables, named as PyTorch's `nn.LSTM(batch_first=True)` names them, gates in the order
/// input, forget, cell, output (Keras's order and PyTorch's):
/// - `weight_ih_l0` `[4 * units, features]`: Keras's `kernel` transposed, glorot-uniform over
///   Keras's shape `[features, 4 * units]`;
/// - `weight_hh_l0` `[4 * units, units]`: Keras's `recurrent_kernel` transposed, orthogonal;
/// - `bias_ih_l0` `[4 * units]`: Keras's single `bias`, zeros with ones on the forget gate
///   (`unit_forget_bias`).
///
/// Parameters: `4 * units * (features + units + 1)`, Keras's `count_params`. PyTorch keeps a
/// second bias, `bias_hh_l0`, added to the first; this layer has none (zeros are passed to the
/// kernel), so the model computes and trains exactly Keras's function. To load the weights
/// into `torch.nn.LSTM`, use `load_state_dict(state, strict=False)` and zero `bias_hh_l0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LSTM {
    /// Size of the hidden state.
    pub units: i64,
    /// Outputs every step instead of the last.
    pub return_sequences: bool,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// Starts the forget gate's bias at one (Keras's default).
    pub unit_forget_bias: bool,
}

impl LSTM {
    /// An LSTM with `units` hidden units, returning the last step.
    pub fn new(units: i64) -> Self {
        Self { units, return_sequences: false, use_bias: true, unit_forget_bias: true }
    }
    /// Sets whether every step's output is returned.
    pub fn return_sequences(mut self, return_sequences: bool) -> Self {
        self.return_sequences = return_sequences;
        self
    }
}

impl LayerSpec for LSTM {
    fn kind(&self) -> &'static str {
        "LSTM"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.units <= 0 {
            return Err(format!("units must be positive, got {}", self.units));
        }
        let (t, _) = sequence("LSTM", input)?;
        Ok(if self.return_sequences { vec![t, self.units] } else { vec![self.units] })
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        self.direction_shapes(input.get(1).copied().unwrap_or(0))
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let u = self.units;
        if u <= 0 {
            return Err(config_error("LSTM", format!("units must be positive, got {u}")));
        }
        let (_, features) = sequence("LSTM", input).map_err(|m| config_error("LSTM", m))?;
        let weights = self.build_direction(path, features, false)?;
        Ok(Box::new(RnnModule::single(Cell::Lstm, weights, u, self.return_sequences)))
    }
}

impl Recurrent for LSTM {
    fn cell(&self) -> std::result::Result<Cell, String> {
        Ok(Cell::Lstm)
    }
    fn units(&self) -> i64 {
        self.units
    }
    fn returns_sequences(&self) -> bool {
        self.return_sequences
    }

    fn direction_shapes(&self, features: i64) -> Vec<(&'static str, Vec<i64>)> {
        let u = self.units;
        let mut shapes = Vec::with_capacity(3);
        if self.use_bias {
            shapes.push(("bias_ih_l0", vec![u.saturating_mul(4)]));
        }
        shapes.push(("weight_hh_l0", vec![u.saturating_mul(4), u]));
        shapes.push(("weight_ih_l0", vec![u.saturating_mul(4), features]));
        shapes
    }

    fn build_direction(&self, path: &nn::Path, features: i64, reverse: bool) -> Result<Weights> {
        let u = self.units;
        let name = |n| var_name(n, reverse);
        let weight_ih = path.f_var(name("weight_ih_l0"), &[4 * u, features], glorot_uniform(features, 4 * u))?;
        let weight_hh = orthogonal(path, name("weight_hh_l0"), 4, u)?;
        let bias_ih = if self.use_bias {
            let forget = if self.unit_forget_bias { 1.0f32 } else { 0.0 };
            let values: Vec<f32> = (0..4 * u).map(|i| if (u..2 * u).contains(&i) { forget } else { 0.0 }).collect();
            let bias = Tensor::from_slice(&values).f_to_device(path.device())?;
            Some(path.f_var_copy(name("bias_ih_l0"), &bias)?)
        } else {
            None
        };
        Ok(Weights { weight_ih, weight_hh, bias_ih, bias_hh: None })
    }
}
