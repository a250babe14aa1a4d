//! `CenterCrop`: the centred `height` x `width` window of each image.
use tch::{nn, Tensor};

use super::resizing::{crop_spec, from_nchw, smart_resize, to_nchw, window};
use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

crop_spec!(
    /// Keras's `CenterCrop` on images `(None, channels, height, width)` (or channels last with
    /// [`DataFormat::ChannelsLast`]): the centred `height` x `width` window of each image,
    /// starting at row `(H - height) / 2` and column `(W - width) / 2` (rounded down). An image
    /// smaller than the target along either axis is handled as Keras does: the largest centred
    /// window of the target's aspect ratio, resized bilinearly to `height` x `width`. The same in
    /// training and inference; no variables.
    CenterCrop,
    "The centred `height` x `width` window."
);

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
