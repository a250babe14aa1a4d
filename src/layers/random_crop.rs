//! `RandomCrop`: a random `height` x `width` window of the images while training.
use tch::{nn, Kind, Tensor};

use super::resizing::{aspect_crop, crop_spec, from_nchw, resize, smart_resize, to_nchw, window, ResizeInterpolation};
use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::Result;

crop_spec!(
    /// Keras's `RandomCrop` on images `(None, channels, height, width)` (or channels last with
    /// [`DataFormat::ChannelsLast`]).
    ///
    /// While training, when the images are larger than the target along both axes, one window
    /// of `height` x `width` is drawn per batch (as Keras 3 does: its row offset is
    /// `floor(U(0, H - height + 1))`, its column offset likewise) and cut from every image of the
    /// batch. Otherwise (an image not larger along both axes) Keras's fixed window is taken: it
    /// starts at the crop box of the target's aspect ratio, and is resized bilinearly to the
    /// target when it falls short.
    ///
    /// In evaluation and prediction each image becomes its largest centred window of the
    /// target's aspect ratio, resized bilinearly to `height` x `width` (Keras's documented
    /// inference, `smart_resize`). Keras 3.15's own call returns the image unchanged there,
    /// against its declared output shape; a `Sequential` needs the declared shape.
    ///
    /// The draw comes from LibTorch's generator on the images' device, as the other image
    /// augmentations', so the model's seed fixes it (Keras's per-layer `seed` is not offered);
    /// the window is cut with `index_select` on the drawn offsets, so nothing is read back to
    /// the host. No variables.
    RandomCrop,
    "Random `height` x `width` windows."
);

#[derive(Debug)]
struct RandomCropModule {
    spec: RandomCrop,
}

/// `len` consecutive indices from a random offset in `[0, size - len]`, on `like`'s device.
fn random_span(like: &Tensor, size: i64, len: i64) -> Result<Tensor> {
    let offset = Tensor::f_rand([1], (Kind::Float, like.device()))?
        .f_mul_scalar((size - len + 1) as f64)?
        .f_floor()?
        .f_clamp_max((size - len) as f64)?
        .f_to_kind(Kind::Int64)?;
    Ok(Tensor::f_arange(len, (Kind::Int64, like.device()))?.f_add(&offset)?)
}

impl RandomCropModule {
    /// The training window: drawn when the images are larger along both axes, else Keras's
    /// fixed one.
    fn train_crop(&self, xs: &Tensor) -> Result<Tensor> {
        let RandomCrop { height, width, .. } = self.spec;
        let size = xs.size();
        let (h, w) = (size[2], size[3]);
        if h > height && w > width {
            let rows = random_span(xs, h, height)?;
            let cols = random_span(xs, w, width)?;
            return Ok(xs.f_index_select(2, &rows)?.f_index_select(3, &cols)?);
        }
        let [top, left, _, _] = aspect_crop(h, w, height, width);
        let cut = window(xs, [top, left, height.min(h - top), width.min(w - left)])?;
        if cut.size()[2..] == [height, width] {
            return Ok(cut);
        }
        resize(&cut, [height, width], ResizeInterpolation::Bilinear, false)
    }
}

impl LayerModule for RandomCropModule {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let RandomCrop { height, width, data_format } = self.spec;
        let xs = to_nchw("RandomCrop", xs, data_format)?;
        let ys = if train { self.train_crop(&xs)? } else { smart_resize(&xs, height, width)? };
        from_nchw(ys, data_format)
    }
}

impl LayerSpec for RandomCrop {
    fn kind(&self) -> &'static str {
        "RandomCrop"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sizes(input)
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.sizes(input).map_err(|m| config_error("RandomCrop", m))?;
        Ok(Box::new(RandomCropModule { spec: *self }))
    }
}
