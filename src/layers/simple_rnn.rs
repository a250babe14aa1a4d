//! `SimpleRNN`: a fully connected recurrent layer over `(None, timesteps, features)` sequences.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::rnn::{var_name, Cell, Recurrent, Weights};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// A fully connected recurrent layer, `h_t = activation(x_t W + h_{t-1} U + b)`, run by
/// LibTorch's fused RNN kernel (cuDNN on CUDA), with Keras's defaults: `tanh` activation, zero
/// initial state. `relu` is the other activation the kernel has; any other is refused when the
/// model is built. Outputs the last step's hidden state `(None, units)`, or every step's
/// `(None, timesteps, units)` with `return_sequences`.
///
/// Variables, named as PyTorch's `nn.RNN(batch_first=True)` names them:
/// - `weight_ih_l0` `[units, features]`: Keras's `kernel` transposed, glorot-uniform over
///   Keras's shape `[features, units]` (or `kernel_initializer`);
/// - `weight_hh_l0` `[units, units]`: Keras's `recurrent_kernel` transposed, orthogonal (or
///   `recurrent_initializer`);
/// - `bias_ih_l0` `[units]`: Keras's `bias`, zeros (or `bias_initializer`).
///
/// Each may carry a [`Regularizer`] (`kernel_regularizer`, `recurrent_regularizer`,
/// `bias_regularizer`) whose penalty is added to the loss.
///
/// Parameters: `units * (features + units + 1)`, Keras's `count_params`. As with
/// [`LSTM`](crate::LSTM), PyTorch's second bias `bias_hh_l0` is not a variable here (zeros are passed):
/// load the weights into `torch.nn.RNN` with `strict=False` and zero `bias_hh_l0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimpleRNN {
    /// Size of the hidden state.
    pub units: i64,
    /// `tanh` (Keras's default) or `relu`.
    pub activation: Activation,
    /// Outputs every step instead of the last.
    pub return_sequences: bool,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// How the input kernel starts (Keras's `kernel_initializer`; fans `features`, `units`).
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub kernel_initializer: Initializer,
    /// How the recurrent kernel starts (Keras's `recurrent_initializer`, default orthogonal).
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

impl SimpleRNN {
    /// A `tanh` recurrent layer with `units` hidden units, returning the last step.
    pub fn new(units: i64) -> Self {
        Self {
            units,
            activation: Activation::Tanh,
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
    /// Sets the activation: `Activation::Tanh` or `Activation::Relu`.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
}

super::rnn::recurrent_layer!(SimpleRNN, "SimpleRNN", {
    fn cell(&self) -> std::result::Result<Cell, String> {
        match self.activation {
            Activation::Tanh => Ok(Cell::Tanh),
            Activation::Relu => Ok(Cell::Relu),
            other => Err(format!(
                "activation {} has no fused recurrent kernel in LibTorch; use tanh (the default) or relu",
                other.name()
            )),
        }
    }

    fn direction_shapes(&self, features: i64) -> Vec<(&'static str, Vec<i64>)> {
        let u = self.units;
        let mut shapes = Vec::with_capacity(3);
        if self.use_bias {
            shapes.push(("bias_ih_l0", vec![u]));
        }
        shapes.push(("weight_hh_l0", vec![u, u]));
        shapes.push(("weight_ih_l0", vec![u, features]));
        shapes
    }

    fn build_direction(&self, path: &nn::Path, features: i64, reverse: bool) -> Result<Weights> {
        let u = self.units;
        let name = |n| var_name(n, reverse);
        self.check_options()?;
        let weight_ih = self.kernel_initializer.var(path, name("weight_ih_l0"), &[features, u], &[1, 0])?;
        // Square: drawn in our layout directly (a transposed orthogonal matrix is one with the
        // same distribution), so the default draws what it always has.
        let weight_hh = self.recurrent_initializer.var(path, name("weight_hh_l0"), &[u, u], &[0, 1])?;
        let bias_ih =
            if self.use_bias { Some(self.bias_initializer.var(path, name("bias_ih_l0"), &[u], &[0])?) } else { None };
        Ok(Weights { weight_ih, weight_hh, bias_ih, bias_hh: None })
    }
});
