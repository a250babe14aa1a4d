//! `Discretization`: values to the index of the bin they fall in.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::category_encoding::{output_kind, EncodingMode};
use super::{config_error, LayerModule, LayerSpec};
use crate::{Error, Result};

/// Keras's `Discretization` with `bin_boundaries`: each value `x` becomes the index `i` of its
/// bin, `bin_boundaries[i - 1] <= x < bin_boundaries[i]` (`0` below the first boundary,
/// `len(bin_boundaries)` from the last one up; Keras's `torch.bucketize(right=True)`), held as
/// a float as `Sequential` feeds values. The boundaries are compared in the input's float kind
/// (float32 for Keras). With [`output_mode`](Self::output_mode) the indices are encoded as
/// [`CategoryEncoding`](super::CategoryEncoding) does, with `len(bin_boundaries) + 1` values per
/// vector. Keras's `num_bins` with `adapt` is not offered: give the boundaries. No variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discretization {
    /// The sorted boundaries between the bins.
    pub bin_boundaries: Vec<f64>,
    /// How indices are encoded; `None` (Keras's `"int"`) keeps the indices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_mode: Option<EncodingMode>,
}

impl Discretization {
    /// Bins split at `bin_boundaries` (sorted ascending), indices out.
    pub fn new(bin_boundaries: impl Into<Vec<f64>>) -> Self {
        Self { bin_boundaries: bin_boundaries.into(), output_mode: None }
    }
    /// Encodes the indices as one-hot, multi-hot or count vectors (Keras's `output_mode`).
    pub fn output_mode(mut self, output_mode: EncodingMode) -> Self {
        self.output_mode = Some(output_mode);
        self
    }

    fn sizes(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let b = &self.bin_boundaries;
        if b.is_empty() {
            return Err("bin_boundaries is empty; give at least one boundary between bins".into());
        }
        if let Some(bad) = b.iter().find(|v| !super::fits_f32(**v)) {
            return Err(format!("bin_boundaries must be finite float32 numbers, got {bad}"));
        }
        if let Some(i) = (1..b.len()).find(|&i| b[i] < b[i - 1]) {
            return Err(format!(
                "bin_boundaries must be sorted ascending, but {} comes after {}; sort them",
                b[i],
                b[i - 1]
            ));
        }
        match self.output_mode {
            None if input.is_empty() => Err("takes values (None, d) but got a scalar per sample".into()),
            None => Ok(input.to_vec()),
            Some(mode) => mode.output_shape(input, b.len() as i64 + 1),
        }
    }
}

#[derive(Debug)]
struct DiscretizationModule {
    boundaries: Tensor,
    output_mode: Option<EncodingMode>,
}

impl LayerModule for DiscretizationModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        if xs.dim() < 2 {
            return Err(Error::invalid(
                "x",
                format!("Discretization takes batches of values [N, ...], got shape {:?}", xs.size()),
            ));
        }
        let kind = output_kind(xs);
        let values = xs.f_to_kind(kind)?;
        let boundaries = self.boundaries.f_to(xs.device())?.f_to_kind(kind)?;
        let ids = values.f_bucketize(&boundaries, false, true)?;
        match self.output_mode {
            None => Ok(ids.f_to_kind(kind)?),
            Some(mode) => mode.encode(&ids, None, self.boundaries.size()[0] + 1, kind),
        }
    }
}

impl LayerSpec for Discretization {
    fn kind(&self) -> &'static str {
        "Discretization"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sizes(input)
    }
    fn build(&self, path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.sizes(input).map_err(|m| config_error("Discretization", m))?;
        let boundaries = Tensor::f_from_slice(&self.bin_boundaries)?.f_to_kind(Kind::Float)?.f_to(path.device())?;
        Ok(Box::new(DiscretizationModule { boundaries, output_mode: self.output_mode }))
    }
}
