//! `Embedding`: integer indices to learned vectors.
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use super::{check_options, config_error, LayerModule, LayerSpec};
use crate::initializers::{defaults, Initializer};
use crate::{Error, Regularizer, Result};

/// Looks up a learned vector of `output_dim` values for each index in `[0, input_dim)`:
/// `(None, t)` becomes `(None, t, output_dim)` (any input rank works; the vectors add the
/// last axis).
///
/// Variable: `weight` `[input_dim, output_dim]` (PyTorch's `nn.Embedding` name; Keras's
/// `embeddings`), initialised uniform in `[-0.05, 0.05]` as Keras's default
/// `RandomUniform(-0.05, 0.05)` unless [`embeddings_initializer`](Self::embeddings_initializer)
/// says otherwise; it may carry a [`Regularizer`]
/// ([`embeddings_regularizer`](Self::embeddings_regularizer)).
/// Parameters: `input_dim * output_dim`.
///
/// Indices may come as integers or as floats holding whole numbers (as `Sequential` feeds them
/// today; floats represent every index exactly up to 2^24). On the CPU an index that is
/// negative, fractional or not below `input_dim` is an error naming it. On other devices the
/// check would stall the GPU once per batch, so such an index gives a vector of zeros, as
/// TensorFlow's Keras does on a GPU.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Number of distinct indices (vocabulary size).
    pub input_dim: i64,
    /// Length of each vector.
    pub output_dim: i64,
    /// How the vectors start (Keras's fans: `input_dim`, `output_dim`).
    #[serde(default = "defaults::embeddings", skip_serializing_if = "defaults::is_embeddings")]
    pub embeddings_initializer: Initializer,
    /// The vectors' penalty, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings_regularizer: Option<Regularizer>,
    /// Whether index 0 is padding (Keras's `mask_zero`): the steps holding it are masked for
    /// the layers after (a recurrent layer skips them, `GlobalAveragePooling1D` leaves them out
    /// of the mean, a mask reaching the output leaves them out of the loss). Index 0 then
    /// stands for no token, so `input_dim` is the vocabulary size plus one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mask_zero: bool,
}

impl Embedding {
    /// An embedding of `input_dim` indices into `output_dim` values.
    pub fn new(input_dim: i64, output_dim: i64) -> Self {
        Self {
            input_dim,
            output_dim,
            embeddings_initializer: defaults::embeddings(),
            embeddings_regularizer: None,
            mask_zero: false,
        }
    }

    /// Sets whether index 0 is padding, masked for the layers after (Keras's `mask_zero`;
    /// default false).
    pub fn mask_zero(mut self, mask_zero: bool) -> Self {
        self.mask_zero = mask_zero;
        self
    }

    fn problem(&self) -> std::result::Result<(), String> {
        if self.input_dim <= 0 || self.output_dim <= 0 {
            return Err(format!(
                "input_dim and output_dim must be positive, got {} and {}",
                self.input_dim, self.output_dim
            ));
        }
        if self.mask_zero && self.input_dim < 2 {
            return Err(format!(
                "mask_zero reserves index 0 for padding, and input_dim {} leaves no index for a token; set \
                 input_dim to the vocabulary size plus one",
                self.input_dim
            ));
        }
        Ok(())
    }

    /// Sets how the vectors start (Keras's `embeddings_initializer`; default
    /// `RandomUniform(-0.05, 0.05)`).
    pub fn embeddings_initializer(mut self, init: Initializer) -> Self {
        self.embeddings_initializer = init;
        self
    }

    /// Adds a penalty on the vectors to the loss (Keras's `embeddings_regularizer`).
    pub fn embeddings_regularizer(mut self, regularizer: Regularizer) -> Self {
        self.embeddings_regularizer = Some(regularizer);
        self
    }
}

#[derive(Debug)]
struct EmbeddingModule {
    weight: Tensor,
    input_dim: i64,
    mask_zero: bool,
}

impl EmbeddingModule {
    /// `xs` as int64 indices, or an error naming the first bad index (CPU only: one host sync).
    fn checked_indices(&self, xs: &Tensor) -> Result<Tensor> {
        let integral = !xs.is_floating_point() || xs.f_eq_tensor(&xs.f_floor()?)?.f_all()?.int64_value(&[]) != 0;
        let bad = xs.f_lt(0)?.f_logical_or(&xs.f_ge(self.input_dim)?)?;
        if !integral || bad.f_any()?.int64_value(&[]) != 0 {
            let bad = if integral { bad } else { bad.f_logical_or(&xs.f_ne_tensor(&xs.f_floor()?)?)? };
            let first = xs.f_masked_select(&bad)?.f_to_kind(Kind::Double)?;
            let value = if first.numel() > 0 { first.double_value(&[0]) } else { f64::NAN };
            return Err(Error::invalid(
                "Embedding input",
                format!(
                    "index {value} is not a whole number in [0, {}); feed token ids below input_dim, or raise input_dim",
                    self.input_dim
                ),
            ));
        }
        Ok(xs.f_to_kind(Kind::Int64)?)
    }

    /// The vectors of `xs`, zeros for bad indices, without a host sync.
    fn masked_lookup(&self, xs: &Tensor) -> Result<Tensor> {
        let mut valid = xs.f_ge(0)?.f_logical_and(&xs.f_lt(self.input_dim)?)?;
        if xs.is_floating_point() {
            valid = valid.f_logical_and(&xs.f_eq_tensor(&xs.f_floor()?)?)?;
        }
        let zero = Tensor::f_zeros([], (xs.kind(), xs.device()))?;
        let indices = xs.f_where_self(&valid, &zero)?.f_to_kind(Kind::Int64)?;
        let vectors = Tensor::f_embedding(&self.weight, &indices, -1, false, false)?;
        Ok(vectors.f_mul(&valid.f_unsqueeze(-1)?.f_to_kind(vectors.kind())?)?)
    }
}

impl LayerModule for EmbeddingModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        if xs.device() == Device::Cpu {
            let indices = self.checked_indices(xs)?;
            return Ok(Tensor::f_embedding(&self.weight, &indices, -1, false, false)?);
        }
        self.masked_lookup(xs)
    }

    fn forward_masked_t(&self, xs: &Tensor, _mask: Option<&Tensor>, train: bool) -> Result<(Tensor, Option<Tensor>)> {
        let mask = if self.mask_zero { Some(xs.f_ne(0)?) } else { None };
        Ok((self.forward_t(xs, train)?, mask))
    }
}

impl LayerSpec for Embedding {
    fn kind(&self) -> &'static str {
        "Embedding"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.problem()?;
        super::options_problem([self.embeddings_initializer], [self.embeddings_regularizer])?;
        let mut out = input.to_vec();
        out.push(self.output_dim);
        Ok(out)
    }
    fn param_shapes(&self, _input: &[i64]) -> Vec<(&'static str, Vec<i64>)> {
        vec![("weight", vec![self.input_dim, self.output_dim])]
    }
    fn build(&self, path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.problem().map_err(|m| config_error("Embedding", m))?;
        check_options("Embedding", [self.embeddings_initializer], [self.embeddings_regularizer])?;
        let weight = self.embeddings_initializer.var(path, "weight", &[self.input_dim, self.output_dim], &[0, 1])?;
        Ok(Box::new(EmbeddingModule { weight, input_dim: self.input_dim, mask_zero: self.mask_zero }))
    }
    fn regularizers(&self) -> Vec<(&'static str, Regularizer)> {
        super::regularized([("weight", self.embeddings_regularizer)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path other devices take, run on the CPU: bad indices give zero vectors.
    #[test]
    fn masked_lookup_gives_zeros_for_bad_indices() {
        let weight = Tensor::arange(12, (Kind::Float, Device::Cpu)).reshape([4, 3]) + 1.0;
        let m = EmbeddingModule { weight: weight.shallow_clone(), input_dim: 4, mask_zero: false };
        let xs = Tensor::from_slice(&[0.0f32, 3.0, 4.0, -1.0, 1.5, f32::NAN, 2.0]);
        let got = m.masked_lookup(&xs).unwrap();
        let rows: Vec<f32> = Vec::try_from(got.sum_dim_intlist([1i64].as_slice(), false, Kind::Float)).unwrap();
        // Row sums of weight rows 0, 3 and 2: 6, 33, 24; zeros for the four bad indices.
        assert_eq!(rows, [6.0, 33.0, 0.0, 0.0, 0.0, 0.0, 24.0]);
    }
}
