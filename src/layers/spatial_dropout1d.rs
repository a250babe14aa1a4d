//! `SpatialDropout1D`: drops whole channels of sequences while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Zeroes each channel of each sequence, at every step, with probability `rate` during
/// training, scaling the kept channels by `1 / (1 - rate)`, as Keras's `SpatialDropout1D`;
/// the identity in evaluation and prediction. Neighbouring steps are correlated, so dropping
/// whole channels regularizes where per-element [`Dropout`](super::Dropout) barely does.
///
/// Like the crate's other 1-D layers it takes `(None, channels, length)` by default (what
/// [`Conv1D`](super::Conv1D) gives); for Keras's `(None, steps, features)` (what
/// [`Embedding`](super::Embedding) and the recurrent layers give), set
/// `.data_format(DataFormat::ChannelsLast)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpatialDropout1D {
    /// Fraction of channels dropped, in `[0, 1)`.
    pub rate: f64,
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl SpatialDropout1D {
    /// A spatial dropout layer over channels-first sequences.
    pub fn new(rate: f64) -> Self {
        Self { rate, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets which axis holds the channels.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
}

#[derive(Debug)]
struct SpatialDropout1DModule {
    rate: f64,
    data_format: DataFormat,
}

impl LayerModule for SpatialDropout1DModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.rate == 0.0 {
            return Ok(xs.shallow_clone());
        }
        // LibTorch's feature dropout draws one mask value per (sample, axis-1 channel).
        Ok(match self.data_format {
            DataFormat::ChannelsFirst => xs.f_feature_dropout(self.rate, true)?,
            DataFormat::ChannelsLast => xs.f_transpose(1, 2)?.f_feature_dropout(self.rate, true)?.f_transpose(1, 2)?,
        })
    }
}

impl LayerSpec for SpatialDropout1D {
    fn kind(&self) -> &'static str {
        "SpatialDropout1D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        super::dropout::rate_problem(self.rate)?;
        self.data_format.split("SpatialDropout1D", input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.output_shape(input).map_err(|m| config_error("SpatialDropout1D", m))?;
        Ok(Box::new(SpatialDropout1DModule { rate: self.rate, data_format: self.data_format }))
    }
}
