//! `Reshape`: a per-sample shape change that keeps the batch axis.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{LayerModule, LayerSpec};
use crate::Result;

/// Reshapes each sample to `shape`, keeping the batch axis (also used by `Flatten`).
#[derive(Debug)]
pub(super) struct ReshapeModule {
    pub(super) shape: Vec<i64>,
}

impl LayerModule for ReshapeModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let mut shape = Vec::with_capacity(self.shape.len() + 1);
        shape.push(xs.size().first().copied().unwrap_or(0));
        shape.extend_from_slice(&self.shape);
        Ok(xs.f_reshape(shape)?)
    }
}

/// Reshapes each sample to `target_shape` (without the batch axis); one entry may be `-1`.
/// As a first layer it lets a convolutional model take flat rows: `Reshape::new([1, 28, 28])`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reshape {
    /// The per-sample target shape.
    pub target_shape: Vec<i64>,
}

impl Reshape {
    /// A reshape to `target_shape`.
    pub fn new(target_shape: impl Into<Vec<i64>>) -> Self {
        Self { target_shape: target_shape.into() }
    }
}

impl LayerSpec for Reshape {
    fn kind(&self) -> &'static str {
        "Reshape"
    }

    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let total = checked_product(input)?;
        let unknown = self.target_shape.iter().filter(|&&d| d == -1).count();
        if unknown > 1 || self.target_shape.iter().any(|&d| d == 0 || d < -1) {
            return Err(format!("target shape {:?} may hold positive sizes and at most one -1", self.target_shape));
        }
        let known = checked_product(self.target_shape.iter().filter(|&&d| d != -1))?;
        let fits = if unknown == 1 { total % known == 0 } else { total == known };
        if !fits {
            return Err(format!("{total} values per sample cannot be reshaped to {:?}", self.target_shape));
        }
        Ok(self.target_shape.iter().map(|&d| if d == -1 { total / known } else { d }).collect())
    }

    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let shape = self.output_shape(input).map_err(|m| super::config_error("Reshape", m))?;
        Ok(Box::new(ReshapeModule { shape }))
    }
}

/// The number of values in a shape, or an error when it does not fit in an `i64`.
pub(crate) fn checked_product<'a>(dims: impl IntoIterator<Item = &'a i64>) -> std::result::Result<i64, String> {
    let dims: Vec<i64> = dims.into_iter().copied().collect();
    dims.iter()
        .try_fold(1i64, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("a sample of shape {dims:?} holds more values than fit in 64 bits"))
}
