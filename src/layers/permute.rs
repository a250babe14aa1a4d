//! `Permute`: the per-sample axes reordered.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Reorders the axes of each sample, numbered from 1 as in Keras (the batch axis stays
/// first): `Permute::new([2, 1])` turns `(None, a, b)` into `(None, b, a)`, e.g. an
/// `Embedding`'s `(None, steps, features)` into `Conv1D`'s channels-first
/// `(None, features, steps)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permute {
    /// Where each output axis comes from, a permutation of `1..=rank`.
    pub dims: Vec<i64>,
}

impl Permute {
    /// A reordering: `dims[i]` is the input axis (from 1) of output axis `i + 1`.
    pub fn new(dims: impl Into<Vec<i64>>) -> Self {
        Self { dims: dims.into() }
    }
}

#[derive(Debug)]
struct PermuteModule {
    order: Vec<i64>,
}

impl LayerModule for PermuteModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_permute(self.order.as_slice())?)
    }
}

impl LayerSpec for Permute {
    fn kind(&self) -> &'static str {
        "Permute"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let rank = input.len() as i64;
        let mut seen = vec![false; input.len()];
        for &d in &self.dims {
            if !(1..=rank).contains(&d) || std::mem::replace(&mut seen[(d - 1) as usize], true) {
                break;
            }
        }
        if self.dims.len() != input.len() || seen.contains(&false) {
            return Err(format!(
                "dims {:?} is not a reordering of the {rank} axes of a sample (1..={rank}, each once)",
                self.dims
            ));
        }
        Ok(self.dims.iter().map(|&d| input[(d - 1) as usize]).collect())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| config_error("Permute", m))?;
        Ok(Box::new(PermuteModule { order: std::iter::once(0).chain(self.dims.iter().copied()).collect() }))
    }
}
