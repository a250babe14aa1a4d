//! `GroupNormalization`: normalizes each sample over groups of channels, with a learned scale
//! and shift per channel.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{check_options, config_error, LayerModule, LayerSpec};
use crate::initializers::Initializer;
use crate::{Regularizer, Result};

/// Splits the channels into `groups` groups of consecutive channels and normalizes each sample
/// to zero mean and unit variance within each group (over the group's channels and every
/// position), then scales by `gamma` and shifts by `beta` per channel (Keras's
/// `GroupNormalization`; defaults `groups=32`, `epsilon=1e-3`, `center` and `scale` on).
/// `groups = -1` gives a group per channel (instance normalization), `1` one group (layer
/// normalization over everything).
///
/// Channels-first: the channel axis is the first per-sample axis (`(None, channels, ...)`,
/// Keras's `axis=1`), as images (`[C, H, W]`) and 1-D channels-first sequences have them here.
/// Keras's default `axis=-1` on channels-last data is the same computation after moving the
/// channels first; there is no `axis` option.
///
/// Variables: `weight` (gamma, ones) and `bias` (beta, zeros), `[channels]` each, as PyTorch's
/// `nn.GroupNorm` names them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupNormalization {
    /// Number of groups; must divide the channels (`-1`: one per channel).
    pub groups: i64,
    /// Added to the variance.
    pub epsilon: f64,
    /// Whether the layer has the shift `beta`.
    pub center: bool,
    /// Whether the layer has the scale `gamma`.
    pub scale: bool,
    /// How beta starts.
    #[serde(default = "zeros", skip_serializing_if = "is_zeros")]
    pub beta_initializer: Initializer,
    /// How gamma starts.
    #[serde(default = "ones", skip_serializing_if = "is_ones")]
    pub gamma_initializer: Initializer,
    /// Beta's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta_regularizer: Option<Regularizer>,
    /// Gamma's penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_regularizer: Option<Regularizer>,
}

fn zeros() -> Initializer {
    Initializer::Zeros
}
fn ones() -> Initializer {
    Initializer::Ones
}
fn is_zeros(i: &Initializer) -> bool {
    *i == Initializer::Zeros
}
fn is_ones(i: &Initializer) -> bool {
    *i == Initializer::Ones
}

impl Default for GroupNormalization {
    fn default() -> Self {
        Self::new(32)
    }
}

impl GroupNormalization {
    /// A group normalization with `groups` groups and Keras's other defaults.
    pub fn new(groups: i64) -> Self {
        Self {
            groups,
            epsilon: 1e-3,
            center: true,
            scale: true,
            beta_initializer: zeros(),
            gamma_initializer: ones(),
            beta_regularizer: None,
            gamma_regularizer: None,
        }
    }
    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
    /// Sets whether the layer has the shift `beta`.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }
    /// Sets whether the layer has the scale `gamma`.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }
    /// Sets how beta starts (Keras's `beta_initializer`; default zeros).
    pub fn beta_initializer(mut self, init: Initializer) -> Self {
        self.beta_initializer = init;
        self
    }
    /// Sets how gamma starts (Keras's `gamma_initializer`; default ones).
    pub fn gamma_initializer(mut self, init: Initializer) -> Self {
        self.gamma_initializer = init;
        self
    }
    /// Adds a penalty on beta to the loss (Keras's `beta_regularizer`).
    pub fn beta_regularizer(mut self, regularizer: Regularizer) -> Self {
        self.beta_regularizer = Some(regularizer);
        self
    }
    /// Adds a penalty on gamma to the loss (Keras's `gamma_regularizer`).
    pub fn gamma_regularizer(mut self, regularizer: Regularizer) -> Self {
        self.gamma_regularizer = Some(regularizer);
        self
    }

    /// The number of channels and of groups for `input`, or what is wrong.
    fn sizes(&self, input: &[i64]) -> std::result::Result<(i64, i64), String> {
        if !(self.epsilon > 0.0 && super::fits_f32(self.epsilon)) {
            return Err(format!("epsilon must be a positive float32 number, got {}", self.epsilon));
        }
        super::options_problem(
            [self.beta_initializer, self.gamma_initializer],
            [self.beta_regularizer, self.gamma_regularizer],
        )?;
        let Some(&channels) = input.first() else {
            return Err("GroupNormalization needs a channel axis: (None, channels, ...)".into());
        };
        let groups = match self.groups {
            -1 => channels,
            g if g <= 0 => {
                return Err(format!("groups must be positive (or -1, one group per channel), got {g}"));
            }
            g if g > channels => {
                return Err(format!("groups ({g}) cannot be more than the number of channels ({channels})"));
            }
            g if channels % g != 0 => {
                return Err(format!(
                    "groups ({g}) must divide the number of channels ({channels}); the channels are the first axis \
                     per sample (channels-first)"
                ));
            }
            g => g,
        };
        Ok((channels, groups))
    }
}

#[derive(Debug)]
struct GroupNormModule {
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    groups: i64,
    epsilon: f64,
}

impl LayerModule for GroupNormModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_group_norm(self.groups, self.weight.as_ref(), self.bias.as_ref(), self.epsilon, true)?)
    }
}

impl LayerSpec for GroupNormalization {
    fn kind(&self) -> &'static str {
        "GroupNormalization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sizes(input)?;
        Ok(input.to_vec())
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let c = input.first().copied().unwrap_or(0);
        let mut shapes = Vec::with_capacity(2);
        if self.center {
            shapes.push(("bias", vec![c]));
        }
        if self.scale {
            shapes.push(("weight", vec![c]));
        }
        shapes
    }
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (c, groups) = self.sizes(input).map_err(|m| config_error("GroupNormalization", m))?;
        check_options(
            "GroupNormalization",
            [self.beta_initializer, self.gamma_initializer],
            [self.beta_regularizer, self.gamma_regularizer],
        )?;
        let weight = if self.scale { Some(self.gamma_initializer.var(path, "weight", &[c], &[0])?) } else { None };
        let bias = if self.center { Some(self.beta_initializer.var(path, "bias", &[c], &[0])?) } else { None };
        Ok(Box::new(GroupNormModule { weight, bias, groups, epsilon: self.epsilon }))
    }
    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([("weight", self.gamma_regularizer), ("bias", self.beta_regularizer)])
    }
}
