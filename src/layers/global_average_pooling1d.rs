//! `GlobalAveragePooling1D`: the mean of each channel over a sequence's length.
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::{DataFormat, LayerModule, LayerSpec};
use crate::{Error, Result};

/// Averages each channel over the length: `(None, channels, length)` (the layout of
/// [`Conv1D`](super::Conv1D)) becomes `(None, channels)`. After `Embedding`, `LSTM` or `GRU`,
/// whose sequences are `(None, steps, features)`, use `.data_format(DataFormat::ChannelsLast)`
/// to average over the steps, as Keras's default does. With `keepdims` the length stays as
/// size 1. With a mask of padded steps (from `Embedding(mask_zero)` or `Masking`), only the
/// unmasked steps are averaged, as Keras does (a sample with every step masked gives NaN, as
/// Keras's does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlobalAveragePooling1D {
    /// Keeps the length axis as size 1 (Keras's default: `false`).
    #[serde(default)]
    pub keepdims: bool,
    /// Which axis holds the channels (left out of saved files when channels-first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl GlobalAveragePooling1D {
    /// A global average pooling layer over channels-first sequences.
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
struct GlobalAvg1DModule {
    axis: i64,
    keepdims: bool,
}

impl LayerModule for GlobalAvg1DModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(xs.f_mean_dim([self.axis].as_slice(), self.keepdims, None::<Kind>)?)
    }

    /// The mean over the unmasked steps: the `[N, L]` mask weighs the length axis.
    fn forward_masked_t(&self, xs: &Tensor, mask: Option<&Tensor>, train: bool) -> Result<(Tensor, Option<Tensor>)> {
        let Some(mask) = mask else { return Ok((self.forward_t(xs, train)?, None)) };
        let length = xs.size()[self.axis as usize];
        if mask.size() != [xs.size()[0], length] {
            return Err(Error::invalid(
                "mask",
                format!(
                    "GlobalAveragePooling1D got a {:?} mask for inputs {:?}: the mask must be [batch, length]; use \
                     data_format channels_last after an Embedding or a recurrent layer",
                    mask.size(),
                    xs.size()
                ),
            ));
        }
        let channel_axis = if self.axis == 1 { 2 } else { 1 };
        let weights = mask.f_to_kind(xs.kind())?.f_unsqueeze(channel_axis)?;
        let axes = [self.axis];
        let sum = xs.f_mul(&weights)?.f_sum_dim_intlist(axes.as_slice(), self.keepdims, None::<Kind>)?;
        let count = weights.f_sum_dim_intlist(axes.as_slice(), self.keepdims, None::<Kind>)?;
        Ok((sum.f_div(&count)?, None))
    }
}

impl LayerSpec for GlobalAveragePooling1D {
    fn kind(&self) -> &'static str {
        "GlobalAveragePooling1D"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let (c, _) = self.data_format.split("GlobalAveragePooling1D", input)?;
        Ok(if self.keepdims { self.data_format.join(c, 1) } else { vec![c] })
    }
    fn build(&self, _path: &nn::Path, _input: &[i64]) -> Result<Box<dyn LayerModule>> {
        Ok(Box::new(GlobalAvg1DModule { axis: self.data_format.length_axis(), keepdims: self.keepdims }))
    }
}
