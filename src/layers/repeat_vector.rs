//! `RepeatVector`: a vector repeated into a sequence.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, LayerModule, LayerSpec};
use crate::Result;

/// Repeats each sample's vector `n` times: `(None, features)` becomes
/// `(None, n, features)`, a sequence an `LSTM` or `GRU` reads (Keras's encoder-decoder habit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatVector {
    /// How many times the vector is repeated.
    pub n: i64,
}

impl RepeatVector {
    /// The vector `n` times.
    pub fn new(n: i64) -> Self {
        Self { n }
    }
}

#[derive(Debug)]
struct RepeatVectorModule {
    n: i64,
}

impl LayerModule for RepeatVectorModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_unsqueeze(1)?.f_repeat([1, self.n, 1])?)
    }
}

impl LayerSpec for RepeatVector {
    fn kind(&self) -> &'static str {
        "RepeatVector"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        if self.n <= 0 {
            return Err(format!("n must be positive, got {}", self.n));
        }
        match input {
            &[f] => Ok(vec![self.n, f]),
            _ => Err(format!(
                "RepeatVector takes flat inputs (None, features) but got a {}-D input per sample; add Flatten before it",
                input.len()
            )),
        }
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| config_error("RepeatVector", m))?;
        Ok(Box::new(RepeatVectorModule { n: self.n }))
    }
}
