//! Activation functions, applied by layers that take an `activation` and by the `Activation` layer.
//!
//! Each is Keras 3's function of the same name with its default arguments, computed with the
//! PyTorch kernel Keras's torch backend calls, so values and gradients match it.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::{Error, Result};

/// An element-wise (or, for softmax and log-softmax, per-row) activation, spelled by its Keras
/// name (`"relu"`, `"gelu"`, `"swish"`, ...) in `FromStr` and in saved models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// The identity (Keras's `linear`, the default).
    #[default]
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Softmax over the last axis.
    Softmax,
    /// `x` for `x > 0`, else `exp(x) - 1` (Keras's `elu` with `alpha = 1`; the [`ELU`](crate::ELU)
    /// layer takes another `alpha`).
    Elu,
    /// Scaled ELU: `1.0507 * elu(x, alpha = 1.67326)`.
    Selu,
    /// Exact GELU, `x * Φ(x)` (Keras's default `approximate=False`).
    Gelu,
    /// `log(1 + exp(x))` (PyTorch's kernel: `x` itself above 20).
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x * sigmoid(x)`; Keras's `silu`, also parsed from `"swish"`.
    #[serde(alias = "swish")]
    Silu,
    /// Keras 3's `relu6(x + 3) / 6`.
    HardSigmoid,
    /// `x * hard_sigmoid(x)`; Keras's `hard_silu`, also parsed from `"hard_swish"`.
    #[serde(alias = "hard_swish")]
    HardSilu,
    /// `x` for `x > 0`, else `0.2 * x` (Keras's `leaky_relu` default; the
    /// [`LeakyReLU`](crate::LeakyReLU) layer takes another slope, default 0.3).
    LeakyRelu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x * tanh(softplus(x))`.
    Mish,
    /// `log(softmax(x))` over the last axis. A loss never takes it for softmax: the outputs are
    /// log-probabilities.
    LogSoftmax,
    /// `exp(x)`.
    Exponential,
}

/// Keras's `leaky_relu(x, negative_slope)`: `x` where `x > 0`, else `negative_slope * x`
/// (the gradient at 0 is the slope, as PyTorch's kernel has it).
pub(crate) fn leaky_relu(xs: &Tensor, negative_slope: f64) -> Result<Tensor> {
    Ok(xs.f_where_self(&xs.f_gt(0.0)?, &xs.f_mul_scalar(negative_slope)?)?)
}

/// Keras's `elu(x, alpha)`: `x` where `x > 0`, else `alpha * (exp(x) - 1)`, with PyTorch's
/// gradient (`alpha` at 0). The exponential sees `min(x, 0)`, so large inputs cannot overflow
/// into the gradient.
pub(crate) fn elu(xs: &Tensor, alpha: f64) -> Result<Tensor> {
    if alpha == 1.0 {
        return Ok(xs.f_elu()?);
    }
    let negative = xs.f_clamp_max(0.0)?.f_expm1()?.f_mul_scalar(alpha)?;
    Ok(xs.f_relu()?.f_add(&negative)?)
}

impl Activation {
    /// Applies the activation.
    pub fn apply(self, xs: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Linear => xs.shallow_clone(),
            Activation::Relu => xs.f_relu()?,
            Activation::Sigmoid => xs.f_sigmoid()?,
            Activation::Tanh => xs.f_tanh()?,
            Activation::Softmax => xs.f_softmax(-1, Kind::Float)?,
            Activation::Elu => xs.f_elu()?,
            Activation::Selu => xs.f_selu()?,
            Activation::Gelu => xs.f_gelu("none")?,
            Activation::Softplus => xs.f_softplus()?,
            Activation::Softsign => xs.f_div(&xs.f_abs()?.f_add_scalar(1.0)?)?,
            Activation::Silu => xs.f_silu()?,
            Activation::HardSigmoid => xs.f_hardsigmoid()?,
            Activation::HardSilu => xs.f_hardswish()?,
            Activation::LeakyRelu => leaky_relu(xs, 0.2)?,
            Activation::Relu6 => xs.f_relu6()?,
            Activation::Mish => xs.f_mish()?,
            Activation::LogSoftmax => xs.f_log_softmax(-1, Kind::Float)?,
            Activation::Exponential => xs.f_exp()?,
        })
    }

    /// Whether `f(max_pool(x))` equals `max_pool(f(x))` in values and gradients, so the model
    /// may apply the activation after a following `MaxPooling2D` (on fewer elements). True for
    /// ReLU and ReLU6 only: they return each input unchanged or a constant, so the same element
    /// wins each window and ties arise only where the gradient is zero. Other non-decreasing
    /// activations round, and a tie created by rounding would move the gradient to another
    /// element of the window; the rest are not monotone or not element-wise.
    pub(crate) fn commutes_with_max_pool(self) -> bool {
        matches!(self, Activation::Relu | Activation::Relu6)
    }

    /// Every activation, in declaration order.
    pub const ALL: [Activation; 18] = [
        Activation::Linear,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softmax,
        Activation::Elu,
        Activation::Selu,
        Activation::Gelu,
        Activation::Softplus,
        Activation::Softsign,
        Activation::Silu,
        Activation::HardSigmoid,
        Activation::HardSilu,
        Activation::LeakyRelu,
        Activation::Relu6,
        Activation::Mish,
        Activation::LogSoftmax,
        Activation::Exponential,
    ];

    /// The Keras name of the activation.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
            Activation::Elu => "elu",
            Activation::Selu => "selu",
            Activation::Gelu => "gelu",
            Activation::Softplus => "softplus",
            Activation::Softsign => "softsign",
            Activation::Silu => "silu",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::HardSilu => "hard_silu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Relu6 => "relu6",
            Activation::Mish => "mish",
            Activation::LogSoftmax => "log_softmax",
            Activation::Exponential => "exponential",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        let found = match lower.as_str() {
            "none" => Some(Activation::Linear),
            "swish" => Some(Activation::Silu),
            "hard_swish" => Some(Activation::HardSilu),
            name => Activation::ALL.into_iter().find(|a| a.name() == name),
        };
        found.ok_or_else(|| Error::Parse {
            what: "activation",
            value: s.to_string(),
            expected: format!("{}, swish, hard_swish", Activation::ALL.map(Activation::name).join(", ")),
        })
    }
}
