//! `UpSampling1D`: each step of a sequence repeated.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Repeats each step `size` times along the length of `(None, channels, length)` inputs, or of
/// `(None, steps, features)` sequences with `.data_format(DataFormat::ChannelsLast)` (Keras's
/// `UpSampling1D`, which always repeats along axis 1). Keras's default size is 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpSampling1D {
    /// How many times each step is repeated.
    pub size: i64,
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl UpSampling1D {
    /// Each step `size` times.
    pub fn new(size: i64) -> Self {
        Self { size, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets which axis holds the channels.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    fn length(&self, input: &[i64]) -> std::result::Result<(i64, i64), String> {
        let (c, l) = self.data_format.split("UpSampling1D", input)?;
        if self.size <= 0 {
            return Err(format!("size must be positive, got {}", self.size));
        }
        match l.checked_mul(self.size) {
            Some(n) => Ok((c, n)),
            None => Err(format!("a length of {l} upsampled by {} does not fit in 64 bits", self.size)),
        }
    }
}

impl Default for UpSampling1D {
    fn default() -> Self {
        Self::new(2)
    }
}

#[derive(Debug)]
struct UpSample1DModule {
    size: i64,
    data_format: DataFormat,
    /// The per-sample output shape.
    output: Vec<i64>,
}

impl LayerModule for UpSample1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        // A view repeating each step, then one copy: no data-dependent size (LibTorch's
        // repeat_interleave would read the repeats back from the device).
        let axis = self.data_format.length_axis();
        let mut grown = vec![-1; 4];
        grown[(axis + 1) as usize] = self.size;
        let repeated = xs.f_unsqueeze(axis + 1)?.f_expand(grown.as_slice(), false)?;
        let shape: Vec<i64> = std::iter::once(-1).chain(self.output.iter().copied()).collect();
        Ok(repeated.f_reshape(shape.as_slice())?)
    }
}

impl LayerSpec for UpSampling1D {
    fn kind(&self) -> &'static str {
        "UpSampling1D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, l) = self.length(input)?;
        Ok(self.data_format.join(c, l))
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        let (c, l) = self.length(input).map_err(|m| config_error("UpSampling1D", m))?;
        let output = self.data_format.join(c, l);
        Ok(Box::new(UpSample1DModule { size: self.size, data_format: self.data_format, output }))
    }
}
