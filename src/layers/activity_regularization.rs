//! `ActivityRegularization`: the identity, adding a penalty on its input to the loss.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::{Regularizer, Result};

/// Passes its input on unchanged and adds `(l1 * sum(|x|) + l2 * sum(x²)) / batch_size` to
/// the loss, in training and in evaluation, as Keras 3's `ActivityRegularization` (Keras's
/// `L1L2(l1, l2)` activity regularizer on its output, divided by the batch size). The same
/// penalty on a layer's output is that layer's `activity_regularizer` option
/// ([`Dense::activity_regularizer`](super::Dense::activity_regularizer)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActivityRegularization {
    /// Factor of the absolute values (Keras's default `0.0`).
    #[serde(default)]
    pub l1: f64,
    /// Factor of the squares (Keras's default `0.0`).
    #[serde(default)]
    pub l2: f64,
}

impl ActivityRegularization {
    /// A layer adding `l1 * sum(|x|) + l2 * sum(x²)`, per sample of the batch, to the loss.
    pub fn new(l1: f64, l2: f64) -> Self {
        Self { l1, l2 }
    }

    fn problem(&self) -> std::result::Result<(), String> {
        Regularizer::l1_l2(self.l1, self.l2).check()
    }
}

#[derive(Debug)]
struct IdentityModule;

impl LayerModule for IdentityModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.shallow_clone())
    }
}

impl LayerSpec for ActivityRegularization {
    fn kind(&self) -> &'static str {
        "ActivityRegularization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.problem()?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.problem().map_err(|m| config_error("ActivityRegularization", m))?;
        Ok(Box::new(IdentityModule))
    }
    /// `L1L2(l1, l2)`; none when both factors are zero (Keras then adds a zero).
    fn activity_regularizer(&self) -> Option<Regularizer> {
        (self.l1 != 0.0 || self.l2 != 0.0).then(|| Regularizer::l1_l2(self.l1, self.l2))
    }
}
