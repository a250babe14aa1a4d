//! `BatchNormalization` over the channel axis (axis 1 of `NCHW`, or the features of flat input).
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Normalizes with batch statistics while training and running statistics otherwise. Keras's
/// defaults: `momentum` 0.99 (the running average keeps 99%), `epsilon` 1e-3. Since images are
/// channels-first here, the normalized axis is the first per-sample axis (Keras's `axis=-1` on
/// channels-last data).
///
/// Variables: `weight` (gamma, ones), `bias` (beta, zeros) and the non-trainable
/// `running_mean` and `running_var`, as PyTorch's `BatchNorm` names them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchNormalization {
    /// Fraction of the running statistics kept at each update.
    pub momentum: f64,
    /// Added to the variance.
    pub epsilon: f64,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        Self { momentum: 0.99, epsilon: 1e-3 }
    }
}

impl BatchNormalization {
    /// A batch normalization layer with Keras's defaults.
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Debug)]
struct BatchNormModule {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    momentum: f64,
    epsilon: f64,
}

impl LayerModule for BatchNormModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return Ok(Tensor::f_batch_norm(
                xs,
                Some(&self.weight),
                Some(&self.bias),
                Some(&self.running_mean),
                Some(&self.running_var),
                false,
                0.0,
                self.epsilon,
                true,
            )?);
        }
        let ys = Tensor::f_batch_norm(
            xs,
            Some(&self.weight),
            Some(&self.bias),
            None::<&Tensor>,
            None::<&Tensor>,
            true,
            0.0,
            self.epsilon,
            true,
        )?;
        tch::no_grad(|| self.update_moving_statistics(xs))?;
        Ok(ys)
    }

    /// A frozen batch normalization runs in inference mode (its moving statistics, not
    /// updated), as Keras's does with `trainable = False`.
    fn forward_frozen_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.forward_t(xs, false)
    }
}

impl BatchNormModule {
    /// Keras's update of the moving statistics: `moving * momentum + batch * (1 - momentum)`
    /// with the batch's mean and **biased** variance over every axis but the channels (LibTorch's
    /// own update uses the unbiased variance). In place, so a captured CUDA graph that holds
    /// these buffers sees the updates.
    fn update_moving_statistics(&self, xs: &Tensor) -> Result<()> {
        let axes: Vec<i64> = (0..xs.dim() as i64).filter(|&d| d != 1).collect();
        let x = xs.f_detach()?.f_to_kind(self.running_mean.kind())?;
        let (var, mean) = x.f_var_mean_correction(axes.as_slice(), 0i64, false)?;
        let weight = 1.0 - self.momentum;
        let _ = self.running_mean.shallow_clone().f_lerp_(&mean, weight)?;
        let _ = self.running_var.shallow_clone().f_lerp_(&var, weight)?;
        Ok(())
    }
}

impl LayerSpec for BatchNormalization {
    fn kind(&self) -> &'static str {
        "BatchNormalization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        match input {
            [_] | [_, _, _] => Ok(input.to_vec()),
            &[a, b] => Err(format!(
                "BatchNormalization takes (None, features) or (None, c, h, w) inputs, got (None, {a}, {b}): \
                 Keras's default normalizes the last axis, tch-keras's the first; add Reshape([{a}, {b}, 1]) \
                 before it to normalize the {a} channels of a Conv1D, or use LayerNormalization for a sequence"
            )),
            _ => Err(format!(
                "BatchNormalization takes (None, features) or (None, c, h, w) inputs, got {}-D per sample: \
                 add a Reshape or Flatten before it",
                input.len()
            )),
        }
    }
    fn param_shapes(&self, input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        let c = vec![input.first().copied().unwrap_or(0)];
        vec![("bias", c.clone()), ("running_mean", c.clone()), ("running_var", c.clone()), ("weight", c)]
    }
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        if !((0.0..1.0).contains(&self.momentum) && self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return Err(config_error(
                "BatchNormalization",
                format!("momentum must be in [0, 1) and epsilon positive, got {} and {}", self.momentum, self.epsilon),
            ));
        }
        let c = input[0];
        Ok(Box::new(BatchNormModule {
            weight: path.f_var("weight", &[c], nn::Init::Const(1.0))?,
            bias: path.f_var("bias", &[c], nn::Init::Const(0.0))?,
            running_mean: path.f_zeros_no_train("running_mean", &[c])?,
            running_var: path.f_ones_no_train("running_var", &[c])?,
            momentum: self.momentum,
            epsilon: self.epsilon,
        }))
    }
}
