//! `CenterCrop`: the centred `height` x `width` window of each image.
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::resizing::{check_target, from_nchw, image_dims, image_shape, smart_resize, to_nchw, window};
use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

/// Keras's `CenterCrop` on images `(None, channels, height, width)` (or channels last with
/// [`DataFormat::ChannelsLast`]): the centred `height` x `width` window of each image,
/// starting at row `(H - height) / 2` and column `(W - width) / 2` (rounded down). An image
/// smaller than the target along either axis is handled as Keras does: the largest centred
/// window of the target's aspect ratio, resized bilinearly to `height` x `width`. The same in
/// training and inference; no variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterCrop {
    /// Output height.
    pub height: i64,
    /// Output width.
    pub width: i64,
    /// Where the channels are (the crate's default: first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl CenterCrop {
    /// The centred `height` x `width` window.
    pub fn new(height: i64, width: i64) -> Self {
        Self { height, width, data_format: DataFormat::ChannelsFirst }
    }
    /// Sets where the channels are.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    fn sizes(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let [c, _, _] = image_dims("CenterCrop", self.data_format, input)?;
        check_target(self.height, self.width)?;
        image_shape(self.data_format, c, self.height, self.width)
    }
}

#[derive(Debug)]
struct CenterCropModule {
    spec: CenterCrop,
}

impl LayerModule for CenterCropModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let CenterCrop { height, width, data_format } = self.spec;
        let xs = to_nchw("CenterCrop", xs, data_format)?;
        let size = xs.size();
        let (h, w) = (size[2], size[3]);
        let ys = if h >= height && w >= width {
            window(&xs, [(h - height) / 2, (w - width) / 2, height, width])?
        } else {
            smart_resize(&xs, height, width)?
        };
        from_nchw(ys, data_format)
    }
}

impl LayerSpec for CenterCrop {
    fn kind(&self) -> &'static str {
        "CenterCrop"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sizes(input)
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.sizes(input).map_err(|m| config_error("CenterCrop", m))?;
        Ok(Box::new(CenterCropModule { spec: *self }))
    }
}
