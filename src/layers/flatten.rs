//! `Flatten`: each sample to one axis.
use serde::{Deserialize, Serialize};
use tch::nn;

use super::reshape::{checked_product, ReshapeModule};
use super::{LayerModule, LayerSpec};
use crate::Result;

/// Flattens each sample to one axis: `(None, c, h, w)` becomes `(None, c*h*w)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Flatten {}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Self {}
    }
}

impl LayerSpec for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        Ok(vec![checked_product(input)?])
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let total = checked_product(input).map_err(|m| super::config_error("Flatten", m))?;
        Ok(Box::new(ReshapeModule { shape: vec![total] }))
    }
}
