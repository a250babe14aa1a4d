//! `Resizing`: resizes images to a fixed height and width, and the image arithmetic it shares
//! with `CenterCrop` and `RandomCrop` (either data format, Keras's crop-to-aspect-ratio box,
//! and the call Keras's torch backend makes to resize).
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::{config_error, DataFormat, LayerModule, LayerSpec};
use crate::{Error, Result};

/// How `Resizing` computes the new pixels, as Keras's torch backend passes it to
/// `torch.nn.functional.interpolate`. Keras's `lanczos3` and `lanczos5` are refused by that
/// backend too and are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeInterpolation {
    /// Bilinear with half-pixel centres (`align_corners=False`; Keras's default).
    #[default]
    Bilinear,
    /// The nearest pixel, with half-pixel centres (PyTorch's `nearest-exact`, as Keras calls it).
    Nearest,
    /// Bicubic (`a = -0.75`) with half-pixel centres (`align_corners=False`).
    Bicubic,
}

impl std::str::FromStr for ResizeInterpolation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bilinear" => Ok(ResizeInterpolation::Bilinear),
            "nearest" => Ok(ResizeInterpolation::Nearest),
            "bicubic" => Ok(ResizeInterpolation::Bicubic),
            _ => Err(Error::Parse {
                what: "Resizing interpolation",
                value: s.into(),
                expected: "bilinear, nearest, bicubic (Keras's torch backend refuses lanczos3 and lanczos5)".into(),
            }),
        }
    }
}

/// Keras's `Resizing` on images `(None, channels, height, width)` (or `(None, height, width,
/// channels)` with [`DataFormat::ChannelsLast`]): each image resized to `height` x `width`, as
/// Keras 3's torch backend does it (`interpolate` with `align_corners=False`, `nearest-exact`
/// for nearest, antialiasing only when asked). With `crop_to_aspect_ratio` the largest centred
/// window of the target's aspect ratio is cut out first; with `pad_to_aspect_ratio` the short
/// side is padded evenly with `fill_value` first. The same in training and inference; no
/// variables.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Resizing {
    /// Output height.
    pub height: i64,
    /// Output width.
    pub width: i64,
    /// How new pixels are computed.
    #[serde(default)]
    pub interpolation: ResizeInterpolation,
    /// Whether the image is first cropped to the target's aspect ratio.
    #[serde(default)]
    pub crop_to_aspect_ratio: bool,
    /// Whether the image is first padded to the target's aspect ratio.
    #[serde(default)]
    pub pad_to_aspect_ratio: bool,
    /// The value padding fills with (`pad_to_aspect_ratio`).
    #[serde(default)]
    pub fill_value: f64,
    /// Whether downscaling filters first (bilinear and bicubic only, as in Keras).
    #[serde(default)]
    pub antialias: bool,
    /// Where the channels are (the crate's default: first).
    #[serde(default, skip_serializing_if = "DataFormat::is_default")]
    pub data_format: DataFormat,
}

impl Resizing {
    /// Resizes to `height` x `width`, bilinear, no crop or pad.
    pub fn new(height: i64, width: i64) -> Self {
        Self {
            height,
            width,
            interpolation: ResizeInterpolation::Bilinear,
            crop_to_aspect_ratio: false,
            pad_to_aspect_ratio: false,
            fill_value: 0.0,
            antialias: false,
            data_format: DataFormat::ChannelsFirst,
        }
    }
    /// Sets the interpolation.
    pub fn interpolation(mut self, interpolation: ResizeInterpolation) -> Self {
        self.interpolation = interpolation;
        self
    }
    /// Crops each image to the target's aspect ratio before resizing.
    pub fn crop_to_aspect_ratio(mut self, crop: bool) -> Self {
        self.crop_to_aspect_ratio = crop;
        self
    }
    /// Pads each image to the target's aspect ratio (with `fill_value`) before resizing.
    pub fn pad_to_aspect_ratio(mut self, pad: bool) -> Self {
        self.pad_to_aspect_ratio = pad;
        self
    }
    /// Sets the value padding fills with.
    pub fn fill_value(mut self, fill_value: f64) -> Self {
        self.fill_value = fill_value;
        self
    }
    /// Filters before downscaling (bilinear and bicubic).
    pub fn antialias(mut self, antialias: bool) -> Self {
        self.antialias = antialias;
        self
    }
    /// Sets where the channels are.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }

    /// The output shape, or what is wrong with the options or the input.
    fn sizes(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        let [c, _, _] = image_dims("Resizing", self.data_format, input)?;
        check_target(self.height, self.width)?;
        if self.crop_to_aspect_ratio && self.pad_to_aspect_ratio {
            return Err("only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be set".into());
        }
        if !super::fits_f32(self.fill_value) {
            return Err(format!("fill_value must be a finite float32 number, got {}", self.fill_value));
        }
        image_shape(self.data_format, c, self.height, self.width)
    }
}

/// A crop layer's spec (`CenterCrop`, `RandomCrop`): its `height`, `width` and `data_format`
/// fields, constructor, builder and output shape.
macro_rules! crop_spec {
    ($(#[$doc:meta])* $name:ident, $new_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            /// Output height.
            pub height: i64,
            /// Output width.
            pub width: i64,
            /// Where the channels are (the crate's default: first).
            #[serde(default, skip_serializing_if = "DataFormat::is_default")]
            pub data_format: DataFormat,
        }

        impl $name {
            #[doc = $new_doc]
            pub fn new(height: i64, width: i64) -> Self {
                Self { height, width, data_format: DataFormat::ChannelsFirst }
            }
            /// Sets where the channels are.
            pub fn data_format(mut self, data_format: DataFormat) -> Self {
                self.data_format = data_format;
                self
            }

            fn sizes(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
                let [c, _, _] = super::resizing::image_dims(stringify!($name), self.data_format, input)?;
                super::resizing::check_target(self.height, self.width)?;
                super::resizing::image_shape(self.data_format, c, self.height, self.width)
            }
        }
    };
}
pub(super) use crop_spec;

/// Refuses a target size below one pixel.
pub(super) fn check_target(height: i64, width: i64) -> std::result::Result<(), String> {
    if height >= 1 && width >= 1 {
        return Ok(());
    }
    Err(format!("height and width must be at least 1, got {height} and {width}"))
}

/// `[channels, height, width]` of a per-sample image shape in `format`, or an error naming
/// `kind`.
pub(super) fn image_dims(kind: &str, format: DataFormat, input: &[i64]) -> std::result::Result<[i64; 3], String> {
    match (format, input) {
        (DataFormat::ChannelsFirst, &[c, h, w]) => Ok([c, h, w]),
        (DataFormat::ChannelsLast, &[h, w, c]) => Ok([c, h, w]),
        (DataFormat::ChannelsFirst, _) => Err(format!(
            "{kind} takes images (None, channels, height, width) but got a {}-D input per sample; reshape the \
             data to [N, C, H, W] or start the model with Reshape",
            input.len()
        )),
        (DataFormat::ChannelsLast, _) => Err(format!(
            "{kind} takes images (None, height, width, channels) (data_format channels_last) but got a {}-D \
             input per sample; reshape the data to [N, H, W, C]",
            input.len()
        )),
    }
}

/// The per-sample shape of `c` channels of `h` x `w` in `format`, refusing one too large to
/// count in 64 bits.
pub(super) fn image_shape(format: DataFormat, c: i64, h: i64, w: i64) -> std::result::Result<Vec<i64>, String> {
    if c.checked_mul(h).and_then(|n| n.checked_mul(w)).is_none() {
        return Err(format!("{c} channels of {h}x{w} do not fit in 64 bits; choose a smaller height and width"));
    }
    Ok(match format {
        DataFormat::ChannelsFirst => vec![c, h, w],
        DataFormat::ChannelsLast => vec![h, w, c],
    })
}

/// A batch in `format` as `[N, C, H, W]`, after checking it is a batch of images.
pub(super) fn to_nchw(kind: &str, xs: &Tensor, format: DataFormat) -> Result<Tensor> {
    if xs.dim() != 4 {
        return Err(Error::invalid(
            "x",
            format!("{kind} takes batches of images of four axes [N, ...], got shape {:?}", xs.size()),
        ));
    }
    Ok(match format {
        DataFormat::ChannelsFirst => xs.shallow_clone(),
        DataFormat::ChannelsLast => xs.f_permute([0, 3, 1, 2])?,
    })
}

/// A `[N, C, H, W]` batch back in `format`.
pub(super) fn from_nchw(xs: Tensor, format: DataFormat) -> Result<Tensor> {
    Ok(match format {
        DataFormat::ChannelsFirst => xs,
        DataFormat::ChannelsLast => xs.f_permute([0, 2, 3, 1])?.f_contiguous()?,
    })
}

/// Keras's crop box for an `h` x `w` image and a `th` x `tw` target: the largest centred
/// window of the target's aspect ratio, as `[top, left, height, width]` (Keras's float
/// arithmetic, truncated, so odd sizes give its pixels).
pub(super) fn aspect_crop(h: i64, w: i64, th: i64, tw: i64) -> [i64; 4] {
    let ch = ((w as f64 * th as f64 / tw as f64) as i64).min(h).max(1);
    let cw = ((h as f64 * tw as f64 / th as f64) as i64).min(w).max(1);
    [((h - ch) as f64 / 2.0) as i64, ((w - cw) as f64 / 2.0) as i64, ch, cw]
}

/// The rows (top and bottom, each) and columns (left and right, each) Keras pads an `h` x `w`
/// image with to reach a `th` x `tw` target's aspect ratio.
fn aspect_pad(h: i64, w: i64, th: i64, tw: i64) -> [i64; 2] {
    let ph = ((w as f64 * th as f64 / tw as f64) as i64).max(h);
    let pw = ((h as f64 * tw as f64 / th as f64) as i64).max(w);
    [((ph - h) as f64 / 2.0) as i64, ((pw - w) as f64 / 2.0) as i64]
}

/// `xs` `[N, C, H, W]` cut to `[top, left, height, width]` (a window inside the image).
pub(super) fn window(xs: &Tensor, [top, left, h, w]: [i64; 4]) -> Result<Tensor> {
    Ok(xs.f_narrow(2, top, h)?.f_narrow(3, left, w)?)
}

/// `xs` `[N, C, H, W]` resized to `[height, width]` as Keras's torch backend does
/// (`F.interpolate(size=..., align_corners=False)`, `nearest-exact` for nearest).
pub(super) fn resize(
    xs: &Tensor,
    size: [i64; 2],
    interpolation: ResizeInterpolation,
    antialias: bool,
) -> Result<Tensor> {
    let xs = xs.f_to_kind(super::augment::float_kind(xs))?;
    Ok(match (interpolation, antialias) {
        (ResizeInterpolation::Nearest, _) => xs.f_internal_upsample_nearest_exact2d(size, None, None)?,
        (ResizeInterpolation::Bilinear, false) => xs.f_upsample_bilinear2d(size, false, None, None)?,
        (ResizeInterpolation::Bilinear, true) => xs.f_internal_upsample_bilinear2d_aa(size, false, None, None)?,
        (ResizeInterpolation::Bicubic, false) => xs.f_upsample_bicubic2d(size, false, None, None)?,
        (ResizeInterpolation::Bicubic, true) => xs.f_internal_upsample_bicubic2d_aa(size, false, None, None)?,
    })
}

/// Keras's `smart_resize` of `xs` `[N, C, H, W]`: the crop box of the target's aspect ratio,
/// resized bilinearly to `[th, tw]` (what `CenterCrop` does to an image smaller than its target).
pub(super) fn smart_resize(xs: &Tensor, th: i64, tw: i64) -> Result<Tensor> {
    let size = xs.size();
    let cropped = window(xs, aspect_crop(size[2], size[3], th, tw))?;
    resize(&cropped, [th, tw], ResizeInterpolation::Bilinear, false)
}

#[derive(Debug)]
struct ResizingModule {
    spec: Resizing,
}

impl LayerModule for ResizingModule {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        let s = &self.spec;
        let xs = to_nchw("Resizing", xs, s.data_format)?;
        let size = xs.size();
        let (h, w) = (size[2], size[3]);
        let xs = if s.crop_to_aspect_ratio {
            window(&xs, aspect_crop(h, w, s.height, s.width))?
        } else if s.pad_to_aspect_ratio {
            let [rows, cols] = aspect_pad(h, w, s.height, s.width);
            xs.f_pad([cols, cols, rows, rows], "constant", s.fill_value)?
        } else {
            xs
        };
        from_nchw(resize(&xs, [s.height, s.width], s.interpolation, s.antialias)?, s.data_format)
    }
}

impl LayerSpec for Resizing {
    fn kind(&self) -> &'static str {
        "Resizing"
    }
    fn output_shape(&self, input: &[i64]) -> std::result::Result<Vec<i64>, String> {
        self.sizes(input)
    }
    fn build(&self, _path: &nn::Path, input: &[i64]) -> Result<Box<dyn LayerModule>> {
        self.sizes(input).map_err(|m| config_error("Resizing", m))?;
        Ok(Box::new(ResizingModule { spec: *self }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keras's boxes for odd sizes (worked by hand from `smart_resize`'s arithmetic).
    #[test]
    fn crop_and_pad_boxes_follow_keras_arithmetic() {
        // 7x10 to a square: a 7x7 window starting at column int(3 / 2) = 1.
        assert_eq!(aspect_crop(7, 10, 4, 4), [0, 1, 7, 7]);
        // 9x5 to 2x3: height int(5 * 2 / 3) = 3, starting at row 3.
        assert_eq!(aspect_crop(9, 5, 2, 3), [3, 0, 3, 5]);
        // 9x5 padded to 2x3: width int(9 * 3 / 2) = 13, four columns each side.
        assert_eq!(aspect_pad(9, 5, 2, 3), [0, 4]);
    }
}
