//! `LSTM`: a long short-term memory layer over `(None, timesteps, features)` sequences.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::rnn::{var_name, Cell, Recurrent, Weights};
use crate::initializers::{defaults, Initializer};
use crate::{Regularizer, Result};

/// A long short-term memory layer, run by LibTorch's fused LSTM (cuDNN on CUDA), with
/// Keras's defaults: `tanh` activation, `sigmoid` recurrent activation, zero initial state.
/// Outputs the last step's hidden state `(None, units)`, or every step's
/// `(None, timesteps, units)` with `return_sequences`.
///
/// Variables, named as PyTorch's `nn.LSTM(batch_first=True)` names them, gates in the order
/// input, forget, cell, output (Keras's order and PyTorch's):
/// - `weight_ih_l0` `[4 * units, features]`: Keras's `kernel` transposed, glorot-uniform over
///   Keras's shape `[features, 4 * units]` (or `kernel_initializer`);
/// - `weight_hh_l0` `[4 * units, units]`: Keras's `recurrent_kernel` transposed, orthogonal
///   (or `recurrent_initializer`);
/// - `bias_ih_l0` `[4 * units]`: Keras's single `bias`, zeros (or `bias_initializer`) with ones
///   on the forget gate (`unit_forget_bias`, drawn per part as Keras does).
///
/// Each may carry a [`Regularizer`] (`kernel_regularizer`, `recurrent_regularizer`,
/// `bias_regularizer`) whose penalty is added to the loss.
///
/// Parameters: `4 * units * (features + units + 1)`, Keras's `count_params`. PyTorch keeps a
/// second bias, `bias_hh_l0`, added to the first; this layer has none (zeros are passed to the
/// kernel), so the model computes and trains exactly Keras's function. To load the weights
/// into `torch.nn.LSTM`, use `load_state_dict(state, strict=False)` and zero `bias_hh_l0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LSTM {
    /// Size of the hidden state.
    pub units: i64,
    /// Outputs every step instead of the last.
    pub return_sequences: bool,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// Starts the forget gate's bias at one (Keras's default).
    pub unit_forget_bias: bool,
    /// How the input kernel starts (Keras's `kernel_initializer`; fans `features`, `4 * units`).
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub kernel_initializer: Initializer,
    /// How the recurrent kernel starts (Keras's `recurrent_initializer`, default orthogonal;
    /// Keras's shape `[units, 4 * units]`).
    #[serde(default = "defaults::recurrent", skip_serializing_if = "defaults::is_recurrent")]
    pub recurrent_initializer: Initializer,
    /// How the bias starts (Keras's `bias_initializer`, default zeros).
    #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
    pub bias_initializer: Initializer,
    /// The input kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_regularizer: Option<Regularizer>,
    /// The recurrent kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent_regularizer: Option<Regularizer>,
    /// The bias's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_regularizer: Option<Regularizer>,
    /// The penalty on the layer's output (after its activation), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_regularizer: Option<Regularizer>,
}

impl LSTM {
    /// An LSTM with `units` hidden units, returning the last step.
    pub fn new(units: i64) -> Self {
        Self {
            units,
            return_sequences: false,
            use_bias: true,
            unit_forget_bias: true,
            kernel_initializer: defaults::kernel(),
            recurrent_initializer: defaults::recurrent(),
            bias_initializer: defaults::bias(),
            kernel_regularizer: None,
            recurrent_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
        }
    }
}

impl LSTM {
    /// Keras's bias: with `unit_forget_bias`, the input gate's `units` values from the bias
    /// initializer, ones for the forget gate, then `2 * units` from the initializer.
    fn bias(&self, path: &nn::Path) -> Result<Tensor> {
        let (u, device, init) = (self.units, path.device(), self.bias_initializer);
        if !self.unit_forget_bias {
            return init.tensor(&[4 * u], &[0], device);
        }
        let ones = Initializer::Ones.tensor(&[u], &[0], device)?;
        Ok(Tensor::f_cat(&[init.tensor(&[u], &[0], device)?, ones, init.tensor(&[2 * u], &[0], device)?], 0)?)
    }
}

super::rnn::recurrent_layer!(LSTM, "LSTM", {
    fn cell(&self) -> std::result::Result<Cell, String> {
        Ok(Cell::Lstm)
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
        self.check_options()?;
        let weight_ih = self.kernel_initializer.var(path, name("weight_ih_l0"), &[features, 4 * u], &[1, 0])?;
        let weight_hh = self.recurrent_initializer.var(path, name("weight_hh_l0"), &[u, 4 * u], &[1, 0])?;
        let bias_ih = if self.use_bias { Some(path.add(name("bias_ih_l0"), self.bias(path)?, true)) } else { None };
        Ok(Weights { weight_ih, weight_hh, bias_ih, bias_hh: None })
    }
});
