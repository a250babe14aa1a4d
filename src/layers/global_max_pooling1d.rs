//! `GlobalMaxPooling1D`: the largest value of each channel over a sequence's length.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Takes each channel's largest value over the length: `(None, channels, length)` (the layout of
/// [`Conv1D`](super::Conv1D)) becomes `(None, channels)`. After `Embedding`, `LSTM` or `GRU`,
/// whose sequences are `(None, steps, features)`, use `.data_format(DataFormat::ChannelsLast)`
/// to pool over the steps, as Keras's default does. With `keepdims` the length stays as
/// size 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlobalMaxPooling1D {
    /// Keeps the length axis as size 1 (Keras's default: `false`).
    #[serde(default)]
    pub keepdims: bool,
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl GlobalMaxPooling1D {
    /// A global max pooling layer over channels-first sequences.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets whether the length axis is kept as size 1.
    pub fn keepdims(mut self, keepdims: bool) -> Self {
        self.keepdims = keepdims;
        self
    }
    /// Sets which axis holds the channels.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
}

#[derive(Debug)]
struct GlobalMax1DModule {
    axis: i64,
    keepdims: bool,
}

impl LayerModule for GlobalMax1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_amax([self.axis].as_slice(), self.keepdims)?)
    }
}

impl LayerSpec for GlobalMaxPooling1D {
    fn kind(&self) -> &'static str {
        "GlobalMaxPooling1D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, _) = self.data_format.split("GlobalMaxPooling1D", input)?;
        Ok(if self.keepdims { self.data_format.join(c, 1) } else { vec![c] })
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        Ok(Box::new(GlobalMax1DModule { axis: self.data_format.length_axis(), keepdims: self.keepdims }))
    }
}
