//! `Dense`: a fully connected layer, `activation(x W^T + b)`.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{check_options, config_error, LayerModule, LayerSpec};
use crate::initializers::{defaults, Initializer};
use crate::{Activation, Regularizer, Result};

/// A fully connected layer on the last axis of its input, as Keras's: `(None, features)`
/// becomes `(None, units)`, and a sequence `(None, timesteps, features)` becomes
/// `(None, timesteps, units)` (the same weights at every timestep; any number of leading axes
/// works the same way). After convolutions put a [`Flatten`](super::Flatten) (or a global
/// pooling) before it: on channels-first images `(None, c, h, w)` it would act on the width.
///
/// Variables: `weight` of shape `[units, features]` (PyTorch's `nn.Linear` layout, Keras's
/// kernel transposed; glorot-uniform unless [`kernel_initializer`](Self::kernel_initializer)
/// says otherwise) and `bias` of shape `[units]` (zeros unless
/// [`bias_initializer`](Self::bias_initializer) says otherwise). Either may carry a
/// [`Regularizer`] whose penalty is added to the loss. Parameters:
/// `units * (features + 1)`, as Keras.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Output features.
    pub units: i64,
    /// Activation applied to the output.
    pub activation: Activation,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// How the kernel starts (Keras's fans `features`, `units`).
    #[serde(default = "defaults::kernel", skip_serializing_if = "defaults::is_kernel")]
    pub kernel_initializer: Initializer,
    /// How the bias starts.
    #[serde(default = "defaults::bias", skip_serializing_if = "defaults::is_bias")]
    pub bias_initializer: Initializer,
    /// The kernel's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_regularizer: Option<Regularizer>,
    /// The bias's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_regularizer: Option<Regularizer>,
    /// The penalty on the layer's output (after its activation), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_regularizer: Option<Regularizer>,
}

impl Dense {
    /// A dense layer with `units` outputs, no activation and a bias.
    pub fn new(units: i64) -> Self {
        Self {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: defaults::kernel(),
            bias_initializer: defaults::bias(),
            kernel_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
        }
    }
}

super::weight_options!(Dense);
super::output_options!(Dense);

#[derive(Debug)]
struct DenseModule {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl LayerModule for DenseModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_linear(&self.weight, self.bias.as_ref())?)
    }
}

impl LayerSpec for Dense {
    fn kind(&self) -> &'static str {
        "Dense"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.units <= 0 {
            return Err(format!("units must be positive, got {}", self.units));
        }
        super::options_problem(
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
        )?;
        super::bias_problem(self.bias_initializer)?;
        match input.split_last() {
            Some((_, leading)) => Ok(leading.iter().copied().chain([self.units]).collect()),
            None => Err("Dense needs at least one feature axis".into()),
        }
    }

    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let mut shapes = Vec::with_capacity(2);
        if self.use_bias {
            shapes.push(("bias", vec![self.units]));
        }
        shapes.push(("weight", vec![self.units, input.last().copied().unwrap_or(0)]));
        shapes
    }

    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if self.units <= 0 {
            return Err(config_error("Dense", format!("units must be positive, got {}", self.units)));
        }
        let Some(&fan_in) = input.last() else {
            return Err(config_error("Dense", "needs at least one feature axis"));
        };
        check_options(
            "Dense",
            [self.kernel_initializer, self.bias_initializer],
            [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer],
        )?;
        super::bias_problem(self.bias_initializer).map_err(|m| config_error("Dense", m))?;
        let weight = self.kernel_initializer.var(path, "weight", &[fan_in, self.units], &[1, 0])?;
        let bias =
            if self.use_bias { Some(self.bias_initializer.var(path, "bias", &[self.units], &[0])?) } else { None };
        Ok(Box::new(DenseModule { weight, bias }))
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn activity_regularizer(&self) -> Option<Regularizer> {
        self.activity_regularizer
    }

    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)])
    }
}
