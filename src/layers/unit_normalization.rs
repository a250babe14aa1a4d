//! `UnitNormalization`: scales each sample to unit L2 norm along one axis.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Divides each vector along `axis` by its L2 norm (Keras's `UnitNormalization`:
/// `x * min(rsqrt(sum(x²)), 1e12)`, so an all-zero vector stays zero). No variables.
///
/// `axis` counts as in Keras, the batch axis included: `-1` (the default) is the last axis; on
/// channels-first images `axis(1)` normalizes across the channels. One axis only (Keras also
/// takes a list).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitNormalization {
    /// The normalized axis, batch axis included (`-1`: the last).
    pub axis: i64,
}

impl Default for UnitNormalization {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl UnitNormalization {
    /// A unit normalization over the last axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the normalized axis (batch axis included; negative counts from the end).
    pub fn axis(mut self, axis: i64) -> Self {
        self.axis = axis;
        self
    }

    /// The normalized axis of the batch (1-based: 0 is the batch axis).
    fn batch_axis(&self, input: &[i64]) -> std::result::Result<i64, String> {
        let rank = input.len() as i64 + 1;
        let axis = if self.axis < 0 { self.axis.saturating_add(rank) } else { self.axis };
        if axis < 1 || axis >= rank {
            return Err(format!(
                "axis {} is not a feature axis of a {rank}-D batch; use -1 (the last) or 1..{}",
                self.axis,
                rank - 1
            ));
        }
        Ok(axis)
    }
}

#[derive(Debug)]
struct UnitNormModule {
    axis: i64,
}

impl LayerModule for UnitNormModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let squares = xs.f_square()?.f_sum_dim_intlist([self.axis].as_slice(), true, xs.kind())?;
        Ok(xs.f_mul(&squares.f_rsqrt()?.f_clamp_max(1e12)?)?)
    }
}

impl LayerSpec for UnitNormalization {
    fn kind(&self) -> &'static str {
        "UnitNormalization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.batch_axis(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let axis = self.batch_axis(input).map_err(|m| config_error("UnitNormalization", m))?;
        Ok(Box::new(UnitNormModule { axis }))
    }
}
