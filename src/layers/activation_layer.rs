//! `Activation`: a layer that only applies an activation.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{LayerModule, LayerSpec};
use crate::{Activation, Result};

/// Applies an activation to its input (Keras's `Activation` layer). `Sequential::add` also
/// takes a bare [`Activation`] and wraps it in this layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActivationLayer {
    /// The activation applied.
    pub activation: Activation,
}

impl ActivationLayer {
    /// An activation layer.
    pub fn new(activation: Activation) -> Self {
        Self { activation }
    }
}

#[derive(Debug)]
struct Identity;

impl LayerModule for Identity {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.shallow_clone())
    }
}

impl LayerSpec for ActivationLayer {
    fn kind(&self) -> &'static str {
        "Activation"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        Ok(Box::new(Identity))
    }
    fn activation(&self) -> Activation {
        self.activation
    }
}
