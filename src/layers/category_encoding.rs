//! `CategoryEncoding`: integer token ids to one-hot, multi-hot or count vectors, and the
//! encoding `Discretization` shares.
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::{Error, Result};

/// What `CategoryEncoding` (and `Discretization`) output for each token (Keras's
/// `output_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingMode {
    /// One vector per token: `(None, t)` becomes `(None, t, num_tokens)`, and `(None, 1)`
    /// becomes `(None, num_tokens)` (Keras drops a last axis of one).
    OneHot,
    /// One vector per sample, one where any of its tokens is (Keras's default).
    #[default]
    MultiHot,
    /// One vector per sample counting its tokens.
    Count,
}

impl std::str::FromStr for EncodingMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "one_hot" => Ok(EncodingMode::OneHot),
            "multi_hot" | "binary" => Ok(EncodingMode::MultiHot),
            "count" => Ok(EncodingMode::Count),
            _ => {
                Err(Error::Parse { what: "output_mode", value: s.into(), expected: "one_hot, multi_hot, count".into() })
            }
        }
    }
}

impl EncodingMode {
    /// The per-sample output shape for a per-sample input shape, `depth` values per vector.
    pub(super) fn output_shape(self, input: &[i64], depth: i64) -> std::result::Result<Vec<i64>, String> {
        match (self, input) {
            (_, []) => Err("takes token ids (None, t) but got a scalar per sample; reshape the data to [N, 1]".into()),
            (EncodingMode::OneHot, [rest @ .., 1]) => Ok([rest, &[depth]].concat()),
            (EncodingMode::OneHot, _) => Ok([input, &[depth]].concat()),
            (_, [_]) => Ok(vec![depth]),
            (mode, _) => Err(format!(
                "output_mode {} takes token ids (None, t), one row of tokens per sample, but got a {}-D input per \
                 sample; flatten the tokens first (Flatten or Reshape)",
                mode.name(),
                input.len()
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            EncodingMode::OneHot => "one_hot",
            EncodingMode::MultiHot => "multi_hot",
            EncodingMode::Count => "count",
        }
    }

    /// Encodes int64 ids `ids` `[N, ...]` (all in `[0, depth)`, or masked out where `valid`
    /// is false) as vectors of `depth` values in `kind`.
    pub(super) fn encode(self, ids: &Tensor, valid: Option<&Tensor>, depth: i64, kind: Kind) -> Result<Tensor> {
        let mut hot = ids.f_one_hot(depth)?.f_to_kind(kind)?;
        if let Some(valid) = valid {
            hot = hot.f_mul(&valid.f_unsqueeze(-1)?.f_to_kind(kind)?)?;
        }
        let size = hot.size();
        Ok(match self {
            EncodingMode::OneHot if size.len() > 2 && size[size.len() - 2] == 1 => hot.f_squeeze_dim(-2)?,
            EncodingMode::OneHot => hot,
            EncodingMode::MultiHot => hot.f_amax([1i64].as_slice(), false)?,
            EncodingMode::Count => hot.f_sum_dim_intlist([1i64].as_slice(), false, kind)?,
        })
    }
}

/// Keras's `CategoryEncoding` on token ids held as whole numbers (float tensors, as
/// `Sequential` feeds them, or integers): each id `i` in `[0, num_tokens)` becomes a vector of
/// `num_tokens` values with a one at `i` ([`EncodingMode::OneHot`]), or the ids of a sample
/// `(None, t)` become one vector `(None, num_tokens)`: ones where an id occurs
/// ([`EncodingMode::MultiHot`], Keras's default) or how often it occurs
/// ([`EncodingMode::Count`]). No variables.
///
/// Ids are checked as [`Embedding`](super::Embedding) checks its indices: on the CPU an id that
/// is negative, fractional or not below `num_tokens` is an error naming it; on other devices
/// the check would stall the GPU once per batch (and break a captured training step), so such
/// an id encodes as zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryEncoding {
    /// How many distinct ids there are.
    pub num_tokens: i64,
    /// What each sample becomes.
    #[serde(default)]
    pub output_mode: EncodingMode,
}

impl CategoryEncoding {
    /// Multi-hot vectors of `num_tokens` values (Keras's default mode).
    pub fn new(num_tokens: i64) -> Self {
        Self { num_tokens, output_mode: EncodingMode::MultiHot }
    }
    /// Sets what each sample becomes.
    pub fn output_mode(mut self, output_mode: EncodingMode) -> Self {
        self.output_mode = output_mode;
        self
    }
}

#[derive(Debug)]
struct CategoryEncodingModule {
    spec: CategoryEncoding,
}

/// The float kind the vectors take for input `xs`.
pub(super) fn output_kind(xs: &Tensor) -> Kind {
    super::augment::float_kind(xs)
}

impl CategoryEncodingModule {
    /// `xs` as int64 ids, or an error naming the first bad one (CPU only: one host sync).
    fn checked_ids(&self, xs: &Tensor) -> Result<Tensor> {
        let n = self.spec.num_tokens;
        let mut bad = xs.f_lt(0)?.f_logical_or(&xs.f_ge(n)?)?;
        if xs.is_floating_point() {
            bad = bad.f_logical_or(&xs.f_ne_tensor(&xs.f_floor()?)?)?;
        }
        if bad.f_any()?.int64_value(&[]) != 0 {
            let first = xs.f_masked_select(&bad)?.f_to_kind(Kind::Double)?;
            let value = if first.numel() > 0 { first.double_value(&[0]) } else { f64::NAN };
            return Err(Error::invalid(
                "CategoryEncoding input",
                format!(
                    "token id {value} is not a whole number in [0, {n}); feed ids below num_tokens, or raise \
                     num_tokens"
                ),
            ));
        }
        Ok(xs.f_to_kind(Kind::Int64)?)
    }
}

impl LayerModule for CategoryEncodingModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let CategoryEncoding { num_tokens, output_mode } = self.spec;
        if xs.dim() < 2 {
            return Err(Error::invalid(
                "x",
                format!("CategoryEncoding takes batches of token ids [N, t], got shape {:?}", xs.size()),
            ));
        }
        if xs.device() == Device::Cpu {
            let ids = self.checked_ids(xs)?;
            return output_mode.encode(&ids, None, num_tokens, output_kind(xs));
        }
        let mut valid = xs.f_ge(0)?.f_logical_and(&xs.f_lt(num_tokens)?)?;
        if xs.is_floating_point() {
            valid = valid.f_logical_and(&xs.f_eq_tensor(&xs.f_floor()?)?)?;
        }
        let zero = Tensor::f_zeros([], (xs.kind(), xs.device()))?;
        let ids = xs.f_where_self(&valid, &zero)?.f_to_kind(Kind::Int64)?;
        output_mode.encode(&ids, Some(&valid), num_tokens, output_kind(xs))
    }
}

impl CategoryEncoding {
    fn sizes(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.num_tokens < 1 {
            return Err(format!("num_tokens must be at least 1, got {}", self.num_tokens));
        }
        self.output_mode.output_shape(input, self.num_tokens)
    }
}

impl LayerSpec for CategoryEncoding {
    fn kind(&self) -> &'static str {
        "CategoryEncoding"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sizes(input)
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.sizes(input).map_err(|m| config_error("CategoryEncoding", m))?;
        Ok(Box::new(CategoryEncodingModule { spec: *self }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path other devices take, run on the CPU: bad ids encode as zeros.
    #[test]
    fn masked_ids_encode_as_zeros() {
        let xs = Tensor::from_slice(&[0.0f32, 2.0, 3.0, -1.0, 1.5, f32::NAN]).reshape([1, 6]);
        let valid = xs.ge(0).logical_and(&xs.lt(3)).logical_and(&xs.eq_tensor(&xs.floor()));
        let ids = xs.where_self(&valid, &Tensor::from(0.0f32)).to_kind(Kind::Int64);
        let got = EncodingMode::Count.encode(&ids, Some(&valid), 3, Kind::Float).unwrap();
        assert_eq!(Vec::<f32>::try_from(got.reshape([-1])).unwrap(), [1.0, 0.0, 1.0]);
    }
}
