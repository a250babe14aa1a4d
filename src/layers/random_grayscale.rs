//! `RandomGrayscale`: turns images grayscale with a given probability while training.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::augment::float_kind;
use super::resizing::{from_nchw, image_dims, to_nchw};
use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `RandomGrayscale` on RGB (or one-channel) images `(None, channels, height, width)`
/// (or channels last with [`DataFormat::ChannelsLast`]): while training, each image is turned
/// grayscale with probability `factor` (Keras's default one half), keeping its channels: every
/// channel becomes `0.2989 R + 0.587 G + 0.114 B` (Keras's torch backend's weights); a
/// one-channel image is left as it is. The identity in evaluation and prediction. Drawn per
/// image from LibTorch's generator on the images' device (the model's seed fixes it), without
/// host reads. No variables.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomGrayscale {
    /// The probability an image turns grayscale, in `[0, 1]`.
    pub factor: f64,
    /// Where the channels are (the crate's default: first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl RandomGrayscale {
    /// Grayscale with probability `factor`.
    pub fn new(factor: f64) -> Self {
        Self { factor, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets where the channels are.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    fn check(&self, input: &[i64]) -> std::result::Result<(), String> {
        let [c, _, _] = image_dims("RandomGrayscale", self.data_format, input)?;
        if !(0.0..=1.0).contains(&self.factor) {
            return Err(format!("factor must be a probability in [0, 1], got {}", self.factor));
        }
        if c != 1 && c != 3 {
            return Err(format!("takes RGB images (3 channels) or grayscale ones (1 channel), got {c} channels"));
        }
        Ok(())
    }
}

impl Default for RandomGrayscale {
    fn default() -> Self {
        Self::new(0.5)
    }
}

#[derive(Debug)]
struct RandomGrayscaleModule {
    spec: RandomGrayscale,
}

impl LayerModule for RandomGrayscaleModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return Ok(xs.shallow_clone());
        }
        let format = self.spec.data_format;
        let xs = to_nchw("RandomGrayscale", xs, format)?;
        let size = xs.size();
        if size[1] != 3 {
            return from_nchw(xs, format);
        }
        let kind = float_kind(&xs);
        let apply = Tensor::f_rand([size[0], 1, 1, 1], (kind, xs.device()))?.f_lt(self.spec.factor)?;
        let channel = |i: i64, w: f64| xs.f_narrow(1, i, 1)?.f_to_kind(kind)?.f_mul_scalar(w);
        let gray = channel(0, 0.2989)?.f_add(&channel(1, 0.587)?)?.f_add(&channel(2, 0.114)?)?.f_to_kind(xs.kind())?;
        from_nchw(gray.f_expand_as(&xs)?.f_where_self(&apply, &xs)?, format)
    }
}

impl LayerSpec for RandomGrayscale {
    fn kind(&self) -> &'static str {
        "RandomGrayscale"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.check(input)?;
        Ok(input.to_vec())
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.check(input).map_err(|m| config_error("RandomGrayscale", m))?;
        Ok(Box::new(RandomGrayscaleModule { spec: *self }))
    }
}
