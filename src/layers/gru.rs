//! `GRU`: a gated recurrent unit layer over `(None, timesteps, features)` sequences.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::rnn::{var_name, Cell, Recurrent, Weights};
use crate::initializers::{defaults, Initializer};
use crate::{Regularizer, Result};

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
///   Keras's shape `[features, 3 * units]` (or `kernel_initializer`);
/// - `weight_hh_l0` `[3 * units, units]`: Keras's `recurrent_kernel` transposed, orthogonal
///   (or `recurrent_initializer`);
/// - `bias_ih_l0`, `bias_hh_l0` `[3 * units]`: the two rows of Keras's `bias` `[2, 3 * units]`,
///   zeros (or `bias_initializer`, drawn on Keras's shape).
///
/// Each may carry a [`Regularizer`] (`kernel_regularizer`, `recurrent_regularizer`,
/// `bias_regularizer`, the last on both bias rows as on Keras's one `bias`) whose penalty is
/// added to the loss.
///
/// Parameters: `3 * units * (features + units + 2)`, Keras's `count_params`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GRU {
    /// Size of the hidden state.
    pub units: i64,
    /// Outputs every step instead of the last.
    pub return_sequences: bool,
    /// Whether the layer has biases.
    pub use_bias: bool,
    /// How the input kernel starts (Keras's `kernel_initializer`; fans `features`, `3 * units`).
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub kernel_initializer: Initializer,
    /// How the recurrent kernel starts (Keras's `recurrent_initializer`, default orthogonal;
    /// Keras's shape `[units, 3 * units]`).
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

impl GRU {
    /// A GRU with `units` hidden units, returning the last step.
    pub fn new(units: i64) -> Self {
        Self {
            units,
            return_sequences: false,
            use_bias: true,
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

super::rnn::recurrent_layer!(GRU, "GRU", {
    fn cell(&self) -> std::result::Result<Cell, String> {
        Ok(Cell::Gru)
    }

    /// Keras's bias is `[2, 3 * units]`: any initializer draws it, orthogonal included.
    fn bias_problem(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Keras's one bias regularizer weighs on both bias rows.
    fn regularized(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([
            ("weight_ih_l0", self.kernel_regularizer),
            ("weight_hh_l0", self.recurrent_regularizer),
            ("bias_ih_l0", self.bias_regularizer),
            ("bias_hh_l0", self.bias_regularizer),
        ])
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
        self.check_options()?;
        let weight_ih = self.kernel_initializer.var(path, name("weight_ih_l0"), &[features, 3 * u], &[1, 0])?;
        let weight_hh = self.recurrent_initializer.var(path, name("weight_hh_l0"), &[u, 3 * u], &[1, 0])?;
        let (bias_ih, bias_hh) = if self.use_bias {
            // Keras's bias [2, 3 * units]: row 0 the input bias, row 1 the recurrent one.
            let both = self.bias_initializer.tensor(&[2, 3 * u], &[0, 1], path.device())?;
            let row = |i: i64| -> Result<tch::Tensor> {
                // A tensor of its own, not a view of `both`.
                let part = both.f_select(0, i)?;
                let mut own = part.f_zeros_like()?;
                own.f_copy_(&part)?;
                Ok(own)
            };
            (Some(path.add(name("bias_ih_l0"), row(0)?, true)), Some(path.add(name("bias_hh_l0"), row(1)?, true)))
        } else {
            (None, None)
        };
        Ok(Weights { weight_ih, weight_hh, bias_ih, bias_hh })
    }
});
